package explain

import (
	"fmt"
	"strings"
	"time"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/internal/counted"
)

// Approval is the jit/approval check run: it explains grant.Decide's
// decision d on change c at the evaluated head pr.HeadSHA.
//
// Approved is completed/success, its title naming who approved ("Approved
// by bob via @acme/dba") or why nobody needed to: an author deleting their
// own grants, or a break-glass grant with its review window. Pending is
// in_progress ("1 of 2 approvals", "Waiting for 1 approval"). Rejected is
// completed/failure, "Not approvable". A draft that is not rejected stays
// in_progress and its title says to mark it ready. A zero or unknown
// outcome is never success.
//
// The summary has one row per review verdict (reviewer, state, the short
// commit with whether it is the current head, counted or not, and every
// reason as a sentence), then d.Reasons, then who may approve. Nothing in
// it depends on the time of day.
func Approval(pr PullRequest, grants []change.Summary, c grant.Change, d grant.Decision) Check {
	ch := Check{Name: ApprovalName}
	ch.Status, ch.Conclusion, ch.Title = approvalState(pr, c, d)
	ch.Summary = summary(pr, approvalBlocks(pr, grants, d))
	return ch
}

// draftNote ends the title of a draft pull request's approval check.
const draftNote = " (draft: mark it ready to merge)"

// approvalState is the check's status, conclusion and title.
func approvalState(pr PullRequest, c grant.Change, d grant.Decision) (status, conclusion, t string) {
	switch d.Outcome {
	case grant.Rejected:
		return statusCompleted, failure, "Not approvable"
	case grant.Approved:
		status, conclusion, t = statusCompleted, success, approvedTitle(pr, c, d)
	case grant.Pending:
		status, t = statusInProgress, pendingTitle(d)
	default:
		status, t = statusInProgress, "Not evaluated yet"
	}
	if pr.Draft {
		status, conclusion = statusInProgress, ""
		t = cutBytes(t, MaxTitle-len(draftNote)) + draftNote
	}
	return status, conclusion, t
}

// approvedTitle names who approved, or why no approval was needed.
func approvedTitle(pr PullRequest, c grant.Change, d grant.Decision) string {
	if d.Required > 0 || len(c.Grants) == 0 {
		var who []string
		for _, a := range d.Approvals {
			s := a.Login
			if len(a.Via) > 0 {
				s += " via " + strings.Join(a.Via, ", ")
			}
			who = append(who, s)
		}
		if len(who) == 0 {
			return "Approved"
		}
		return title("Approved by %s", strings.Join(who, "; "))
	}
	if window, ok := breakGlassWindow(c); ok {
		due := "after the merge"
		if window > 0 {
			due = "within " + grant.FormatDuration(window)
		}
		return "Break-glass: merged without prior approval; an eligible review is due " + due
	}
	deleted, own := 0, 0
	for _, g := range c.Grants {
		if g.Kind == grant.Deleted {
			deleted++
			if grant.SameLogin(pr.Author, g.Requester) {
				own++
			}
		}
	}
	switch {
	case deleted == 0 || deleted != len(c.Grants):
		return "No approval needed"
	case own == deleted:
		return title("No approval needed: %s deletes their own %s", pr.Author, pluralWord(deleted, "grant", "grants"))
	}
	return title("No approval needed: %s deletes only grants they requested or own as a code owner", pr.Author)
}

// breakGlassWindow reports whether c adds a break-glass grant and the
// shortest positive review window among them (0 when none is set).
func breakGlassWindow(c grant.Change) (time.Duration, bool) {
	var window time.Duration
	found := false
	for _, g := range c.Grants {
		if g.Kind != grant.Added || !g.BreakGlass {
			continue
		}
		found = true
		if w := g.Requirements.ReviewWindow; w > 0 && (window == 0 || w < window) {
			window = w
		}
	}
	return window, found
}

// pendingTitle counts the approvals still needed.
func pendingTitle(d grant.Decision) string {
	n := len(d.Approvals)
	switch {
	case d.Required == 0:
		return "Not mergeable yet"
	case n == 0:
		return "Waiting for " + counted.N(d.Required, "approval", "approvals")
	case n < d.Required:
		return fmt.Sprintf("%d of %d %s", n, d.Required, counted.Noun(d.Required, "approval", "approvals"))
	}
	return fmt.Sprintf("%d of %d %s, but not mergeable yet", n, d.Required, counted.Noun(d.Required, "approval", "approvals"))
}

// approvalBlocks is the body of Approval, shared with Status.
func approvalBlocks(pr PullRequest, grants []change.Summary, d grant.Decision) []block {
	out := []block{para(words("Evaluated on an unknown head commit."))}
	if pr.HeadSHA != "" {
		out = []block{para(line{lit("Evaluated on the head commit "), literal(shortSHA(pr.HeadSHA)), lit(".")})}
	}
	if d.Outcome == grant.Rejected {
		out = append(out, para(words("This pull request cannot be approved as it stands; a new push must fix this:")), bullets(valueLines(d.Reasons)))
		return append(out, whoMayApprove(pr, grants)...)
	}
	out = append(out, heading(words("Reviews")))
	if len(d.Reviews) == 0 {
		out = append(out, para(words("No reviews yet.")))
	} else {
		var rows [][]line
		for _, v := range d.Reviews {
			rows = append(rows, reviewRow(pr, d, v))
		}
		out = append(out, table([]string{"Reviewer", "State", "Commit", "Counted", "Why"}, rows))
	}
	switch d.Outcome {
	case grant.Approved:
		out = append(out, para(words("Every approval rule holds: jit merges the pull request at this head.")))
	case grant.Pending:
		out = append(out, heading(words("Why it cannot merge yet")), bullets(valueLines(d.Reasons)))
	default:
		out = append(out, para(words("jit has not evaluated the approvals yet.")))
	}
	return append(out, whoMayApprove(pr, grants)...)
}

// reviewRow is one review verdict as a table row.
func reviewRow(pr PullRequest, d grant.Decision, v grant.ReviewVerdict) []line {
	commit := line{literal(shortSHA(v.Commit))}
	switch {
	case pr.HeadSHA == "" || v.Commit == "":
		commit = append(commit, lit(" (head unknown)"))
	case v.Commit == pr.HeadSHA:
		commit = append(commit, lit(" (current head)"))
	default:
		commit = append(commit, lit(" (stale: an older head)"))
	}
	counted, why := line{lit("no")}, line{}
	if v.Counted {
		counted = line{lit("yes")}
		why = line{lit("Counts")}
		for _, a := range d.Approvals {
			if grant.SameLogin(a.Login, v.Reviewer) && len(a.Via) > 0 {
				why = append(why, lit(", as a code owner through "))
				why = append(why, list(a.Via)...)
			}
		}
		why = append(why, lit("."))
	}
	for i, r := range v.Reasons {
		if i > 0 {
			why = append(why, lineBreak)
		}
		why = append(why, sentence(v.Reviewer, r)...)
	}
	return []line{{literal(v.Reviewer)}, {lit(stateName(v.State))}, commit, counted, why}
}

// subjectFirst are the starts of verdict reasons that read as what the
// reviewer did or is: their sentence starts with the reviewer.
var subjectFirst = []string{"is ", "authored ", "committed ", "co-authored ", "approved ", "requested ", "only commented"}

// sentence turns one of Decide's verdict reasons into a sentence about
// reviewer: "`alice` is the requester of prod/db/x.", "Not a code owner of
// access/x.yaml.".
func sentence(reviewer, reason string) line {
	end := "."
	if strings.HasSuffix(reason, ".") || strings.HasSuffix(reason, "?") || strings.HasSuffix(reason, "!") {
		end = ""
	}
	for _, p := range subjectFirst {
		if strings.HasPrefix(reason, p) {
			return line{literal(reviewer), lit(" "), value(reason), lit(end)}
		}
	}
	if reason != "" && reason[0] >= 'a' && reason[0] <= 'z' {
		reason = strings.ToUpper(reason[:1]) + reason[1:]
	}
	return line{value(reason), lit(end)}
}

// stateName is how the texts name a review state.
func stateName(s grant.ReviewState) string {
	switch grant.ReviewState(strings.ToUpper(string(s))) {
	case grant.ReviewApproved:
		return "approved"
	case grant.ReviewChangesRequested:
		return "changes requested"
	case grant.ReviewCommented:
		return "commented"
	case grant.ReviewDismissed:
		return "dismissed"
	case grant.ReviewPending:
		return "pending"
	}
	return "unknown state"
}

// shortSHA abbreviates a commit as git does, to 7 characters.
func shortSHA(sha string) string {
	switch {
	case sha == "":
		return "unknown"
	case len(sha) > 7:
		return sha[:7]
	}
	return sha
}

// valueLines makes one line of each outside string.
func valueLines(ss []string) []line {
	out := make([]line, 0, len(ss))
	for _, s := range ss {
		out = append(out, line{value(s)})
	}
	return out
}

// list is entries as code, separated by commas.
func list(entries []string) line {
	var l line
	for i, e := range entries {
		if i > 0 {
			l = append(l, lit(", "))
		}
		l = append(l, literal(e))
	}
	return l
}

// pluralWord is one or many by n.
func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
