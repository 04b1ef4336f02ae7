package trailer

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jitops/jit/controller/grant"
)

// Via records why an approver was eligible: the CODEOWNERS (or policy
// approvers) entry, exactly as written there, that covers them. A clone
// cannot see team membership, so the signed decision says it.
type Via struct {
	// Login is the approver's GitHub login.
	Login string
	// Owner is the entry as written: "@acme/dba", "@alice" or an email address.
	Owner string
}

// String renders v as its Jit-Eligible-Via value, "<login> <owner>".
func (v Via) String() string { return v.Login + " " + v.Owner }

// Decision is the controller's signed decision in the merge commit of a
// request or extension pull request.
type Decision struct {
	// Grants are the grant ids the merge adds or extends (Jit-Grant each).
	Grants []string
	// RequestedBy are the requesters' logins (Jit-Requested-By each).
	RequestedBy []string
	// ApprovedBy are the logins whose approvals counted (Jit-Approved-By
	// each); empty only for a break-glass merge.
	ApprovedBy []string
	// EligibleVia says, for every approver, the owner entry that made them
	// eligible (Jit-Eligible-Via each, "<login> <owner>"): at least one per
	// approver, and only for approvers.
	EligibleVia []Via
	// Policies are the names of every policy covering the grants (Jit-Policy
	// each).
	Policies []string
	// Duration is the granted duration, written in the grant file's notation
	// by grant.FormatDuration (Jit-Duration); whole minutes.
	Duration time.Duration
	// ExpiresAt is when access ends (Jit-Expires-At, RFC 3339 UTC); whole
	// seconds.
	ExpiresAt time.Time
	// PullRequest is the merged pull request's number (Jit-Pull-Request).
	PullRequest int
	// Head is the approved head commit, the merge's second parent (Jit-Head).
	Head string
	// BreakGlass marks an emergency merge to be reviewed after the fact
	// (Jit-Break-Glass: true); absent when false.
	BreakGlass bool
}

// DecisionOrder is the order in which a Decision's trailers are written, and
// the only order DecisionFrom accepts; Jit-Signature follows the last.
var DecisionOrder = orderOf(decisionFields)

var decisionFields = []field{
	{key: KeyGrant, multi: true, check: checkGrantID},
	{key: KeyRequestedBy, multi: true, fold: true, check: checkLogin},
	{key: KeyApprovedBy, multi: true, fold: true, check: checkLogin},
	{key: KeyEligibleVia, multi: true, fold: true, check: checkVia},
	{key: KeyPolicy, multi: true, check: checkPolicy},
	{key: KeyDuration, check: checkDuration},
	{key: KeyExpiresAt, check: checkTime},
	{key: KeyPullRequest, check: checkNumber},
	{key: KeyHead, check: checkSHA},
	{key: KeyBreakGlass, check: checkTrue},
}

func checkVia(v string) string {
	login, owner, ok := strings.Cut(v, " ")
	if !ok {
		return "write \"<login> <owner>\", such as \"bob @acme/dba\""
	}
	if msg := checkLogin(login); msg != "" {
		return "login " + msg
	}
	if msg := checkOwner(owner); msg != "" {
		return "owner " + msg
	}
	return ""
}

func checkTrue(v string) string {
	if v != "true" {
		return "write Jit-Break-Glass: true, or leave it out"
	}
	return ""
}

// Trailers returns d's trailers, unsigned, in DecisionOrder, after checking
// that DecisionFrom reads them back to d: every value well formed, nothing
// required missing, no duplicates, every approver eligible via an owner entry
// and no approver among the requesters. The error matches ErrMalformed.
func (d Decision) Trailers() ([]Trailer, error) {
	var p problems
	checkWholeSecond(d.ExpiresAt, &p)
	if d.Duration%time.Minute != 0 {
		p.add("%s %v is not whole minutes", KeyDuration, d.Duration)
	}
	if err := p.err("decision"); err != nil {
		return nil, err
	}
	vias := make([]string, len(d.EligibleVia))
	for i, v := range d.EligibleVia {
		vias[i] = v.String()
	}
	var pr, glass, duration string
	if d.PullRequest != 0 {
		pr = strconv.Itoa(d.PullRequest)
	}
	if d.BreakGlass {
		glass = "true"
	}
	if d.Duration != 0 {
		duration = grant.FormatDuration(d.Duration)
	}
	ts := emit(decisionFields, map[string][]string{
		KeyGrant:       d.Grants,
		KeyRequestedBy: d.RequestedBy,
		KeyApprovedBy:  d.ApprovedBy,
		KeyEligibleVia: vias,
		KeyPolicy:      d.Policies,
		KeyDuration:    optional(duration),
		KeyExpiresAt:   optional(formatTime(d.ExpiresAt)),
		KeyPullRequest: optional(pr),
		KeyHead:        optional(d.Head),
		KeyBreakGlass:  optional(glass),
	})
	if _, err := DecisionFrom(ts); err != nil {
		return nil, err
	}
	return ts, nil
}

// DecisionFrom reads a Decision from trailers as Parse returns them (a final
// Jit-Signature is skipped; verify it first with Verify). It accepts only
// what Trailers writes, so (DecisionFrom(ts)).Trailers() returns ts without
// its signature. The error matches ErrMalformed and lists every problem.
func DecisionFrom(ts []Trailer) (Decision, error) {
	var p problems
	if IsEvent(ts) {
		p.add("a %s trailer makes this an event record, not a decision", KeyEvent)
		return Decision{}, p.err("decision")
	}
	vals := group(ts, decisionFields, &p)
	d := Decision{
		Grants:      vals[KeyGrant],
		RequestedBy: vals[KeyRequestedBy],
		ApprovedBy:  vals[KeyApprovedBy],
		Policies:    vals[KeyPolicy],
		Head:        one(vals, KeyHead),
		BreakGlass:  one(vals, KeyBreakGlass) == "true",
	}
	for _, v := range vals[KeyEligibleVia] {
		login, owner, _ := strings.Cut(v, " ")
		d.EligibleVia = append(d.EligibleVia, Via{Login: login, Owner: owner})
	}
	d.Duration, _ = parseDuration(one(vals, KeyDuration))
	d.ExpiresAt, _ = parseTime(one(vals, KeyExpiresAt))
	d.PullRequest, _ = parseNumber(one(vals, KeyPullRequest))

	for _, k := range []string{KeyGrant, KeyRequestedBy, KeyPolicy, KeyDuration, KeyExpiresAt, KeyPullRequest, KeyHead} {
		if len(vals[k]) == 0 {
			p.add("no %s", k)
		}
	}
	if len(d.ApprovedBy) == 0 && !d.BreakGlass {
		p.add("no %s; only a break-glass merge (%s: true) is made without approval", KeyApprovedBy, KeyBreakGlass)
	}
	for _, a := range d.ApprovedBy {
		if containsLogin(d.RequestedBy, a) {
			p.add("%s %s is also a requester; a requester never approves their own grant", KeyApprovedBy, a)
		}
		if !slices.ContainsFunc(d.EligibleVia, func(v Via) bool { return grant.SameLogin(v.Login, a) }) {
			p.add("approver %s has no %s saying which owner entry made them eligible", a, KeyEligibleVia)
		}
	}
	for _, v := range d.EligibleVia {
		if !containsLogin(d.ApprovedBy, v.Login) {
			p.add("%s names %s, who is not a %s", KeyEligibleVia, v.Login, KeyApprovedBy)
		}
	}
	if err := p.err("decision"); err != nil {
		return Decision{}, err
	}
	return d, nil
}

// IsEvent reports whether ts carry a Jit-Event trailer: an Event record
// (read it with EventFrom), not a Decision.
func IsEvent(ts []Trailer) bool {
	return slices.ContainsFunc(ts, func(t Trailer) bool { return t.Key == KeyEvent })
}

// containsLogin reports whether list holds login, compared as GitHub
// compares logins.
func containsLogin(list []string, login string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return grant.SameLogin(x, login) })
}
