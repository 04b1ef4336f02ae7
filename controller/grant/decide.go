package grant

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jitops/jit/controller/internal/counted"
)

// Outcome is the verdict on a pull request.
type Outcome string

// The outcomes of Decide.
const (
	// Pending means the rules do not hold yet: approvals are missing, stale
	// or blocked, or the evidence is incomplete. Evaluating again later,
	// with new evidence, may approve.
	Pending Outcome = "pending"
	// Approved means every rule holds: the controller may merge at the
	// evaluated head.
	Approved Outcome = "approved"
	// Rejected means the pull request can never be approved as it stands:
	// it has problems, or changes no grant. Only a new push can change that.
	Rejected Outcome = "rejected"
)

// String returns the outcome's name: "pending", "approved" or "rejected".
func (o Outcome) String() string { return string(o) }

// Approval is one approval that counted.
type Approval struct {
	// Login is the approver's GitHub login as their review wrote it.
	Login string
	// Via are the CODEOWNERS entries, exactly as written ("@acme/dba",
	// "@alice"), that made Login a code owner of the judged grant files: one
	// per file, a direct "@login" entry preferred over a team, then
	// deduplicated and sorted.
	Via []string
}

// ReviewVerdict says what one reviewer's reviews amount to.
type ReviewVerdict struct {
	// Reviewer is the login as the reviewer's latest review wrote it.
	Reviewer string
	// State is the state of the review that decides, upper-cased as REST
	// writes it: the latest opinionated one (APPROVED, CHANGES_REQUESTED or
	// DISMISSED), or that of the latest review when the reviewer only
	// commented.
	State ReviewState
	// Commit is the head that deciding review was submitted on.
	Commit string
	// Counted reports an approval that counts towards the quorum.
	Counted bool
	// Reasons say why the review does not count, or blocks; empty when it
	// counts.
	Reasons []string
}

// Decision is the verdict of Decide on one pull request at one head.
type Decision struct {
	Outcome Outcome
	// Required is the quorum: the distinct eligible approvals needed; 0 when
	// no grant in the pull request needs approval.
	Required int
	// Approvals are the approvals that counted, sorted by login. A pending
	// decision may hold some (1 of 2); a rejected one holds none.
	Approvals []Approval
	// Reviews holds one verdict per reviewer who submitted a review, sorted
	// by login (case-insensitively). A rejected decision holds none.
	Reviews []ReviewVerdict
	// Reasons say, in sentences, why the pull request is pending or
	// rejected; empty when approved.
	Reasons []string
}

// Eligible is one Jit-Eligible-Via pair: an approver and the CODEOWNERS
// entry, as written, that made them eligible.
type Eligible struct {
	Login string
	Owner string
}

// ApprovedBy returns the logins for the Jit-Approved-By trailers, sorted
// case-insensitively;
// nil unless the decision is Approved, so a trailer block can never name
// approvers of an undecided pull request.
func (d Decision) ApprovedBy() []string {
	if d.Outcome != Approved {
		return nil
	}
	var out []string
	for _, a := range d.Approvals {
		out = append(out, a.Login)
	}
	return out
}

// EligibleVia returns the pairs for the Jit-Eligible-Via trailers, sorted
// by login and then owner, one per distinct owner entry of each approver;
// nil unless the decision is Approved.
func (d Decision) EligibleVia() []Eligible {
	if d.Outcome != Approved {
		return nil
	}
	var out []Eligible
	for _, a := range d.Approvals {
		for _, o := range a.Via {
			out = append(out, Eligible{Login: a.Login, Owner: o})
		}
	}
	return out
}

// Decide applies the approval rules to a pull request's change, given the
// evidence gathered at one head. It is pure: the same inputs give the same
// Decision, whatever the order of the grants, reviews, team members and
// maps (commits are taken in the order given, for the order of reasons).
//
// The rules, failing closed wherever the evidence is incomplete:
//   - A change with problems, with no grants, with an unknown kind of
//     change, or adding or editing a grant without a requester is Rejected.
//   - A grant needs approval unless it is an added break-glass grant that a
//     covering policy lets skip prior approval (Requirements.Approvals 0),
//     or a deletion made by an author who is the requester or a code owner
//     (with write access) of every deleted grant. Extensions and
//     shortenings always need approval: the expiry of an edited grant may
//     be counted again from its new merge, so a shorter duration can still
//     end later; a requester who wants less access deletes the grant.
//   - Each grant that needs approval needs Requirements.Approvals distinct
//     approvals, and at least one even when that is 0 (a break-glass grant
//     being extended, a deletion no policy covers any more). The quorum is
//     the largest of these.
//   - An approval counts when it is the reviewer's latest opinionated review
//     (COMMENTED and PENDING ignored; DISMISSED and any state Decide does not
//     know supersede earlier ones and count as no opinion), is APPROVED, was
//     submitted on the evaluated head, and the reviewer has write access, is
//     a code owner of every grant file needing approval, matches an entry of
//     every policy approvers set of those grants, requested no grant in the
//     pull request, did not author it, and authored, committed or
//     co-authored none of its commits. When no grant needs approval, the
//     same tests run against every grant file, so approvals given anyway
//     are still recorded.
//   - A CHANGES_REQUESTED latest review from an otherwise eligible reviewer
//     blocks while any grant needs approval.
//   - A commit whose author, committer or a co-author GitHub could not link
//     to an account keeps a change needing approval pending: that person
//     may be a reviewer, and nothing else tells.
//
// Logins and team names compare case-insensitively, as on GitHub; e-mail
// owners are never matched (they cannot be resolved to a login). now is the
// evaluation time; no rule depends on it yet (reviews are ordered by
// GitHub's timestamps), and it is taken so that time-bound rules need no new
// signature.
func Decide(c Change, ev Evidence, now time.Time) Decision {
	if reasons := rejections(c); len(reasons) > 0 {
		return Decision{Outcome: Rejected, Reasons: reasons}
	}
	j := newJudge(c, ev)
	var d Decision
	// waits are why the decision is pending; explain says why approval is needed.
	var waits []string
	if ev.Author == "" {
		waits = append(waits, "the pull request author is unknown, so no rule about them can be checked")
	}
	gated, explain := j.gate()
	for _, g := range gated {
		d.Required = max(d.Required, g.Requirements.Approvals, 1)
	}
	j.judged = gated
	if len(gated) == 0 {
		j.judged = sortedByFile(c.Grants)
	}
	if d.Required > 0 {
		waits = append(waits, j.evidenceGaps()...)
	}
	var blockers []string
	for _, group := range groupReviews(ev.Reviews) {
		v, blocks, via := j.verdict(group, d.Required > 0)
		d.Reviews = append(d.Reviews, v)
		if v.Counted {
			d.Approvals = append(d.Approvals, Approval{Login: v.Reviewer, Via: via})
		}
		if blocks {
			blockers = append(blockers, v.Reviewer)
		}
	}
	for _, b := range blockers {
		waits = append(waits, fmt.Sprintf("%s requested changes; the pull request waits until they approve or their review is dismissed", b))
	}
	if len(d.Approvals) < d.Required {
		waits = append(waits, fmt.Sprintf("%d of %d %s from eligible reviewers", len(d.Approvals), d.Required, counted.Noun(d.Required, "approval", "approvals")))
	}
	d.Outcome = Approved
	if len(waits) > 0 {
		d.Outcome, d.Reasons = Pending, append(explain, waits...)
	}
	return d
}

// rejections lists why c can never be approved as it stands.
func rejections(c Change) []string {
	var out []string
	if len(c.Problems) > 0 {
		ps := slices.Clone(c.Problems)
		SortProblems(ps)
		for _, p := range ps {
			out = append(out, p.String())
		}
	}
	if len(c.Grants) == 0 && len(out) == 0 {
		out = append(out, "the pull request adds, extends, shortens or deletes no grant")
	}
	for _, g := range sortedByFile(c.Grants) {
		switch g.Kind {
		case Added, Extended, Shortened:
			if g.Requester == "" {
				out = append(out, fmt.Sprintf("grant %s (%s) names no requester", g.ID, g.File))
			}
		case Deleted:
		default:
			out = append(out, fmt.Sprintf("grant %s (%s) has a kind of change jit does not know: %q", g.ID, g.File, g.Kind))
		}
	}
	return out
}

// sortedByFile returns a copy of gs in file order (then id).
func sortedByFile(gs []GrantChange) []GrantChange {
	out := slices.Clone(gs)
	slices.SortStableFunc(out, func(a, b GrantChange) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// judge holds the evidence indexed for case-insensitive lookups.
type judge struct {
	c  Change
	ev Evidence
	// teams maps a lower-cased team ("@acme/dba") to its lower-cased
	// members; perms maps a lower-cased login to its permission.
	teams map[string]map[string]bool
	perms map[string]Permission
	// disqualified maps a lower-cased login to why it may never approve
	// this pull request, in a fixed order.
	disqualified map[string][]string
	// judged are the grants whose files an approver must own, by file.
	judged []GrantChange
}

func newJudge(c Change, ev Evidence) *judge {
	j := &judge{c: c, ev: ev, teams: map[string]map[string]bool{}, perms: map[string]Permission{}, disqualified: map[string][]string{}}
	for team, members := range ev.Teams {
		set := map[string]bool{}
		for _, m := range members {
			if m != "" {
				set[strings.ToLower(m)] = true
			}
		}
		key := strings.ToLower(team)
		// Two spellings of one team: keep only the members both name.
		if old, ok := j.teams[key]; ok {
			for m := range set {
				set[m] = old[m]
			}
		}
		j.teams[key] = set
	}
	for login, p := range ev.Permissions {
		key := strings.ToLower(login)
		// Two spellings of one login: keep the weaker permission.
		if old, ok := j.perms[key]; !ok || permRank(p) < permRank(old) {
			j.perms[key] = p
		}
	}
	disqualify := func(login, reason string) {
		if login == "" {
			return
		}
		key := strings.ToLower(login)
		if !slices.Contains(j.disqualified[key], reason) {
			j.disqualified[key] = append(j.disqualified[key], reason)
		}
	}
	for _, g := range sortedByFile(c.Grants) {
		disqualify(g.Requester, "is the requester of "+g.ID)
	}
	disqualify(ev.Author, "is the pull request author")
	for _, cm := range ev.Commits {
		disqualify(cm.Author, "authored commit "+short(cm.SHA))
		disqualify(cm.Committer, "committed commit "+short(cm.SHA))
		for _, co := range cm.CoAuthors {
			disqualify(co, "co-authored commit "+short(cm.SHA))
		}
	}
	return j
}

// gate returns the grants that need approval, sorted by file, and why
// deletions among them do.
func (j *judge) gate() (gated []GrantChange, reasons []string) {
	var deleted []GrantChange
	for _, g := range sortedByFile(j.c.Grants) {
		switch {
		case g.Kind == Deleted:
			deleted = append(deleted, g)
		case g.Kind == Added && g.BreakGlass && g.Requirements.Approvals == 0 && len(g.Requirements.Policies) > 0:
			// Break-glass: reviewed after the fact.
		default:
			gated = append(gated, g)
		}
	}
	for _, g := range deleted {
		if SameLogin(j.ev.Author, g.Requester) {
			continue
		}
		if _, owns := j.ownerEntry(j.ev.Author, g.Owners); owns && j.canWrite(j.ev.Author) {
			continue
		}
		reasons = append(reasons, fmt.Sprintf("deleting %s needs approval: the author %s is neither its requester nor a code owner of %s with write access", g.ID, j.ev.Author, g.File))
	}
	if len(reasons) > 0 {
		gated = sortedByFile(append(gated, deleted...))
	}
	return gated, reasons
}

// evidenceGaps lists what is missing from the evidence for any approval to
// count safely.
func (j *judge) evidenceGaps() []string {
	var out []string
	if j.ev.HeadSHA == "" {
		out = append(out, "the pull request's head commit is unknown, so no approval can count")
	}
	for _, g := range j.judged {
		if !slices.ContainsFunc(g.Owners, func(o string) bool { return strings.HasPrefix(o, "@") }) {
			out = append(out, fmt.Sprintf("%s has no code owner with a GitHub account in the base branch's CODEOWNERS, so nobody can approve it; add one in a pull request of its own", g.File))
		}
	}
	for _, cm := range j.ev.Commits {
		var who []string
		if cm.Author == "" {
			who = append(who, "the author")
		}
		if cm.Committer == "" {
			who = append(who, "the committer")
		}
		if slices.Contains(cm.CoAuthors, "") {
			who = append(who, "a co-author")
		}
		if len(who) > 0 {
			out = append(out, fmt.Sprintf("commit %s: GitHub cannot link %s to an account, so jit cannot tell whether a reviewer wrote it; recreate the commit with an e-mail address linked to a GitHub account", short(cm.SHA), strings.Join(who, " and ")))
		}
	}
	return out
}

// verdict judges one reviewer's reviews (sorted oldest first, PENDING
// removed). It reports whether the reviewer blocks the merge and, for a
// counted approval, the owner entries that made them eligible.
func (j *judge) verdict(reviews []Review, needed bool) (v ReviewVerdict, blocks bool, via []string) {
	last := reviews[len(reviews)-1]
	v = ReviewVerdict{Reviewer: last.Reviewer, State: ReviewState(strings.ToUpper(string(last.State))), Commit: last.CommitSHA}
	var opinion *Review
	for i := range reviews {
		if state := strings.ToUpper(string(reviews[i].State)); state != string(ReviewCommented) {
			opinion = &reviews[i]
		}
	}
	if opinion == nil {
		v.Reasons = []string{"only commented; comments neither approve nor block"}
		return v, false, nil
	}
	v.State, v.Commit = ReviewState(strings.ToUpper(string(opinion.State))), opinion.CommitSHA
	switch v.State {
	case ReviewApproved:
		switch {
		case j.ev.HeadSHA == "":
			v.Reasons = append(v.Reasons, "approved "+short(opinion.CommitSHA)+", but the head commit is unknown")
		case opinion.CommitSHA != j.ev.HeadSHA:
			v.Reasons = append(v.Reasons, fmt.Sprintf("stale: approved %s, head is now %s", short(opinion.CommitSHA), short(j.ev.HeadSHA)))
		}
		inel, via := j.eligibility(opinion.Reviewer)
		v.Reasons = append(v.Reasons, inel...)
		v.Counted = len(v.Reasons) == 0
		if !v.Counted {
			via = nil
		}
		return v, false, via
	case ReviewChangesRequested:
		inel, _ := j.eligibility(opinion.Reviewer)
		switch {
		case !needed:
			v.Reasons = []string{"requested changes, which does not block: no grant needs approval"}
		case len(inel) == 0:
			v.Reasons = []string{"requested changes, which blocks the merge until they approve or the review is dismissed"}
			blocks = true
		default:
			v.Reasons = append([]string{"requested changes, which does not block: they are not eligible"}, inel...)
		}
		return v, blocks, nil
	case ReviewDismissed:
		v.Reasons = []string{"review dismissed; a dismissed review counts as no opinion"}
	default:
		v.Reasons = []string{fmt.Sprintf("review state %q is not one jit knows; it counts as no opinion", opinion.State)}
	}
	return v, false, nil
}

// eligibility lists why login may not approve the judged grants (nil when
// they may), and the owner entries that make them a code owner of each.
func (j *judge) eligibility(login string) (reasons, via []string) {
	reasons = slices.Clone(j.disqualified[strings.ToLower(login)])
	if r := j.permissionProblem(login); r != "" {
		reasons = append(reasons, r)
	}
	for _, g := range j.judged {
		entry, ok := j.ownerEntry(login, g.Owners)
		if !ok {
			reasons = append(reasons, "not a code owner of "+g.File)
		} else if !slices.Contains(via, entry) {
			via = append(via, entry)
		}
	}
	for _, g := range j.judged {
		for _, set := range g.Requirements.ApproverSets {
			if !slices.ContainsFunc(set, func(e string) bool { return j.matches(e, login) }) {
				reasons = append(reasons, fmt.Sprintf("not in the approvers of a policy covering %s: one of %s", g.File, strings.Join(set, ", ")))
			}
		}
	}
	slices.Sort(via)
	return reasons, via
}

// permissionProblem says why login's repository permission is not enough
// to approve, or "" when it is.
func (j *judge) permissionProblem(login string) string {
	p, ok := j.perms[strings.ToLower(login)]
	switch {
	case !ok:
		return "no known permission on the repository; approvals need write, maintain or admin"
	case permRank(p) >= permRank(PermissionWrite):
		return ""
	case permRank(p) < 0:
		return fmt.Sprintf("permission %q is not one jit knows; approvals need write, maintain or admin", p)
	default:
		return fmt.Sprintf("read-only access (%s); approvals need write, maintain or admin", p)
	}
}

func (j *judge) canWrite(login string) bool {
	p, ok := j.perms[strings.ToLower(login)]
	return ok && permRank(p) >= permRank(PermissionWrite)
}

// permRank orders permissions weakest first; -1 for an unknown one.
func permRank(p Permission) int {
	return slices.Index([]Permission{PermissionNone, PermissionRead, PermissionTriage, PermissionWrite, PermissionMaintain, PermissionAdmin}, p)
}

// ownerEntry returns the entry of owners that makes login an owner: a
// direct "@login" entry if there is one, else the first team, in written
// order, that login is a member of.
func (j *judge) ownerEntry(login string, owners []string) (string, bool) {
	if i := slices.IndexFunc(owners, func(o string) bool { return !strings.Contains(o, "/") && j.matches(o, login) }); i >= 0 {
		return owners[i], true
	}
	if i := slices.IndexFunc(owners, func(o string) bool { return j.matches(o, login) }); i >= 0 {
		return owners[i], true
	}
	return "", false
}

// matches reports whether entry ("@login" or "@org/team") designates
// login. E-mail entries and teams with no known members match nobody.
func (j *judge) matches(entry, login string) bool {
	if login == "" || !strings.HasPrefix(entry, "@") {
		return false
	}
	if strings.Contains(entry, "/") {
		return j.teams[strings.ToLower(entry)][strings.ToLower(login)]
	}
	return SameLogin(entry[1:], login)
}

// SameLogin compares GitHub logins as GitHub does, case-insensitively; an
// empty login is nobody and equals nothing.
func SameLogin(a, b string) bool {
	return a != "" && b != "" && strings.EqualFold(a, b)
}

// groupReviews returns each reviewer's submitted reviews, oldest first, the
// reviewers sorted by login. PENDING reviews (never submitted) and reviews
// without a reviewer are left out. Reviews submitted at the same time are
// ordered by ID, then so that the least approving state comes last, so a
// tie never favours an approval.
func groupReviews(reviews []Review) [][]Review {
	byLogin := map[string][]Review{}
	for _, r := range reviews {
		if r.Reviewer == "" || strings.EqualFold(string(r.State), string(ReviewPending)) {
			continue
		}
		key := strings.ToLower(r.Reviewer)
		byLogin[key] = append(byLogin[key], r)
	}
	keys := make([]string, 0, len(byLogin))
	for k := range byLogin {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][]Review, 0, len(keys))
	for _, k := range keys {
		rs := byLogin[k]
		slices.SortFunc(rs, compareReviews)
		out = append(out, rs)
	}
	return out
}

func compareReviews(a, b Review) int {
	if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
		return c
	}
	if a.ID != b.ID {
		if a.ID < b.ID {
			return -1
		}
		return 1
	}
	if c := stateRank(a.State) - stateRank(b.State); c != 0 {
		return c
	}
	if c := strings.Compare(a.CommitSHA, b.CommitSHA); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.State), string(b.State)); c != 0 {
		return c
	}
	return strings.Compare(a.Reviewer, b.Reviewer)
}

// stateRank orders states for ties: the more approving first, so that the
// less approving one is taken as the latest.
func stateRank(s ReviewState) int {
	switch ReviewState(strings.ToUpper(string(s))) {
	case ReviewApproved:
		return 0
	case ReviewCommented:
		return 1
	case ReviewChangesRequested:
		return 2
	case ReviewDismissed:
		return 3
	}
	return 4
}

// short abbreviates a commit SHA as git does by default, to 7 characters.
func short(sha string) string {
	switch {
	case sha == "":
		return "(unknown commit)"
	case len(sha) > 7:
		return sha[:7]
	}
	return sha
}
