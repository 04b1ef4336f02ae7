package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jitops/jit/controller/grant"
)

// Kind names a kind of anomaly.
type Kind string

// The anomalies Read reports. Each comes with the commit that shows it.
const (
	// NoDecision: a grant file was added or changed by a commit that is not
	// a merge carrying a controller decision for it (a direct push, the
	// merge button, a squash or rebase).
	NoDecision Kind = "no-decision"
	// BadSignature: a Jit-* record whose signature is missing or does not
	// verify with .github/jit-signers at the commit's first parent.
	BadSignature Kind = "bad-signature"
	// BadRecord: a signed record that is malformed or does not fit its
	// commit (Jit-Head not the second parent, Jit-Parent not the parent, a
	// head that does not hold the merged file).
	BadRecord Kind = "bad-record"
	// InvalidFile: a grant file that does not parse.
	InvalidFile Kind = "invalid-file"
	// IneligibleApprover: an approval counted although the CODEOWNERS entry
	// the decision names for it did not own the grant file at the merge's
	// first parent (or CODEOWNERS was missing or broken there).
	IneligibleApprover Kind = "ineligible-approver"
	// OverCap: the signed expiry is later than the merge time plus the
	// strictest max_duration of the policies at the merge's first parent.
	OverCap Kind = "over-cap"
	// ActivationWithoutApproval: an activated record for a grant that has no
	// verified decision.
	ActivationWithoutApproval Kind = "activation-without-approval"
	// NotRevoked: the grant expired (or its expiry was merged) before the
	// end of the history but no revoked record follows.
	NotRevoked Kind = "not-revoked"
	// RevokeFailed: a revoke-failed record that no revoked record follows.
	RevokeFailed Kind = "revoke-failed"
	// Resurrected: a grant id added again after it existed on the branch.
	Resurrected Kind = "resurrected"
	// Unreviewed: a break-glass grant with no break-glass-reviewed record
	// within the review window of its policies.
	Unreviewed Kind = "unreviewed-break-glass"
	// Standing: grants for the same requester, template and scope renewed
	// back to back so often that access was in effect standing.
	Standing Kind = "standing-access"
	// Truncated: the history ends at a commit whose parent is missing (a
	// shallow clone) or cannot be read; what came before is unknown.
	Truncated Kind = "truncated-history"
)

// Anomaly is one gap in the audit trail.
type Anomaly struct {
	Kind Kind `json:"kind"`
	// Grant is the grant id concerned, empty for an anomaly of the history
	// itself.
	Grant string `json:"grant,omitempty"`
	// Commit is the full hash of the commit that shows the anomaly.
	Commit  string `json:"commit"`
	Message string `json:"message"`
}

// String renders the anomaly on one line: kind, grant, short commit, message.
func (a Anomaly) String() string {
	who := a.Grant
	if who == "" {
		who = "history"
	}
	return fmt.Sprintf("%s: %s at commit %s: %s", who, a.Kind, Short(a.Commit), a.Message)
}

// Ending says how a grant's access ended.
type Ending string

// The endings of a grant.
const (
	// Open: nothing ended it yet.
	Open Ending = ""
	// Expired: the expiry merge said Jit-Reason: expired.
	Expired Ending = "expired"
	// RevokedEarly: the expiry merge said Jit-Reason: revoked-by LOGIN
	// (Story.RevokedBy).
	RevokedEarly Ending = "revoked-early"
	// Deleted: the grant file was removed without a verified expiry record.
	Deleted Ending = "deleted"
)

// Cleanup is what the controller's destroy records say.
type Cleanup string

// The cleanup results.
const (
	// CleanupNone: no revoked or revoke-failed record.
	CleanupNone Cleanup = "none"
	// CleanupRevoked: a revoked record (the last destroy record).
	CleanupRevoked Cleanup = "revoked"
	// CleanupFailed: a revoke-failed record that no revoked record follows.
	CleanupFailed Cleanup = "revoke-failed"
)

// Step is one event of a grant's story, with the commit that records it.
type Step struct {
	At     time.Time `json:"at"`
	Commit string    `json:"commit"`
	// What is the event: "requested", "extended", "activated",
	// "activation-failed", "expire", "revoked", "revoke-failed",
	// "break-glass-reviewed", "deleted", "re-added" or "changed".
	What string `json:"what"`
	// Detail is a short human description (who, which resources, errors).
	Detail string `json:"detail,omitempty"`
	// Verified is true when the step comes from a signed record that
	// verified; unverified steps are shown but never trusted.
	Verified bool `json:"verified"`
}

// Approver is one approval that counted, with the owner entry that made the
// approver eligible.
type Approver struct {
	Login string `json:"login"`
	Via   string `json:"via,omitempty"`
}

// Story is everything the history says about one grant id.
type Story struct {
	ID         string         `json:"id"`
	File       string         `json:"file"`
	Requester  string         `json:"requester,omitempty"`
	Template   string         `json:"template,omitempty"`
	Scope      map[string]any `json:"scope,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	Ticket     string         `json:"ticket,omitempty"`
	Duration   time.Duration  `json:"-"`
	BreakGlass bool           `json:"break_glass,omitempty"`
	// Approved is true when a verified controller decision added the grant.
	Approved    bool       `json:"approved"`
	Policies    []string   `json:"policies,omitempty"`
	Approvers   []Approver `json:"approvers,omitempty"`
	PullRequest int        `json:"pull_request,omitempty"`
	// MergedAt and MergeCommit are the commit that added the file (its
	// committer time).
	MergedAt    time.Time `json:"merged_at"`
	MergeCommit string    `json:"merge_commit"`
	// ActivatedAt is the first verified activated record's time; zero when
	// there is none. Resources are the addresses it (and later ones) named.
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	Resources   []string  `json:"resources,omitempty"`
	// ExpiresAt is the signed Jit-Expires-At of the latest decision.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt is the last verified revoked record's time, or else the
	// expiry merge's; zero when neither exists.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Ending    Ending    `json:"ending,omitempty"`
	// RevokedBy is who revoked the grant early (Ending RevokedEarly).
	RevokedBy string  `json:"revoked_by,omitempty"`
	Cleanup   Cleanup `json:"cleanup"`
	// ReviewedAt and ReviewedBy record the break-glass review.
	ReviewedAt time.Time `json:"reviewed_at,omitzero"`
	ReviewedBy []string  `json:"reviewed_by,omitempty"`
	// Partial is true when the grant was already present where a truncated
	// history begins: how it was added is unknown.
	Partial   bool      `json:"partial,omitempty"`
	Steps     []Step    `json:"steps"`
	Anomalies []Anomaly `json:"anomalies,omitempty"`

	// reviewWindow is the shortest break-glass review window of the
	// policies at the merge's first parent (0: unknown).
	reviewWindow time.Duration
	revoked      time.Time // last verified revoked record
	revokeFailed time.Time // last verified revoke-failed record
	expiryMerge  time.Time
}

// MarshalJSON writes s with its duration in the grant file's notation
// ("2h", "1h30m") under "duration".
func (s *Story) MarshalJSON() ([]byte, error) {
	type plain Story
	var d string
	if s.Duration > 0 {
		d = grant.FormatDuration(s.Duration)
	}
	return json.Marshal(struct {
		*plain
		Duration string `json:"duration,omitempty"`
	}{(*plain)(s), d})
}

// Interval is when a grant was live: from activation (or, with no activated
// record, from the merge: Inferred) until revocation (To zero: never revoked
// within the history, still live).
type Interval struct {
	Grant *Story `json:"-"`
	From  time.Time
	To    time.Time
	// Inferred is true when no activated record exists and From is the
	// merge time.
	Inferred bool
}

// Live returns when s was live and whether it ever was: a grant with a
// verified activated record, or with a verified decision or present where
// a truncated history begins (then Inferred, from the merge or from that
// first commit).
func (s *Story) Live() (Interval, bool) {
	iv := Interval{Grant: s, From: s.ActivatedAt, To: s.RevokedAt}
	switch {
	case !s.ActivatedAt.IsZero():
	case s.Approved:
		iv.From, iv.Inferred = s.MergedAt, true
	case s.Partial && len(s.Steps) > 0:
		// Present where a truncated history begins: assume the worst.
		iv.From, iv.Inferred = s.Steps[0].At, true
	default:
		return Interval{}, false
	}
	if !iv.To.IsZero() && iv.To.Before(iv.From) {
		// Revoked before the activation record landed: a zero-length window
		// would hide it, so it counts as live at its activation instant.
		iv.To = iv.From
	}
	return iv, true
}

// Trail is the audit trail of one branch.
type Trail struct {
	// Rev is the full hash of the tip read.
	Rev string
	// Now is the moment the trail was judged at: Options.Now, or the tip's
	// committer time.
	Now time.Time
	// Stories are the grants, in the order they first appeared.
	Stories []*Story
	// Anomalies are every anomaly, in history order (oldest first), then by
	// grant for those found after the walk.
	Anomalies []Anomaly
	// Truncated is true when the history could not be read to its root.
	Truncated bool
}

// Story returns the story of grant id, or nil.
func (t *Trail) Story(id string) *Story {
	for _, s := range t.Stories {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// Active returns the grants live at at: From <= at and (To zero or at < To).
func (t *Trail) Active(at time.Time) []Interval {
	return t.Between(at, at)
}

// Between returns the grants live at any moment of [t1, t2], in the order of
// the stories.
func (t *Trail) Between(t1, t2 time.Time) []Interval {
	if t2.Before(t1) {
		t1, t2 = t2, t1
	}
	var out []Interval
	for _, s := range t.Stories {
		iv, ok := s.Live()
		if !ok || iv.From.After(t2) {
			continue
		}
		if !iv.To.IsZero() && !iv.To.After(t1) && !(iv.To.Equal(iv.From) && iv.From.Equal(t1)) {
			continue
		}
		out = append(out, iv)
	}
	return out
}

// Sorted returns the anomalies ordered by grant, then by commit order as
// found, for stable output.
func (t *Trail) Sorted() []Anomaly {
	out := slices.Clone(t.Anomalies)
	slices.SortStableFunc(out, func(a, b Anomaly) int {
		switch {
		case a.Grant < b.Grant:
			return -1
		case a.Grant > b.Grant:
			return 1
		}
		return 0
	})
	return out
}

// Short abbreviates a full commit hash to 12 digits.
func Short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
