package explain

import (
	"fmt"
	"strings"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
)

// Status is the plain-text form of Validate and Approval together, for
// `jit status --pr N` in a terminal: no Markdown, and every outside value
// stripped of control characters and escape sequences. d may be the zero
// Decision when validation failed: the approval part then says it waits
// for the problems to be fixed.
func Status(pr PullRequest, problems []grant.Problem, grants []change.Summary, c grant.Change, d grant.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Pull request #%d by %s: head %s, base %s", pr.Number, plainOr(pr.Author, "an unknown author"), plain(shortSHA(pr.HeadSHA)), plainOr(pr.BaseRef, "unknown"))
	if pr.DefaultBranch != "" && pr.BaseRef != pr.DefaultBranch {
		fmt.Fprintf(&b, " (the default branch is %s)", plain(pr.DefaultBranch))
	}
	b.WriteString("\n")
	if pr.URL != "" {
		b.WriteString(plain(pr.URL) + "\n")
	}
	if pr.Draft {
		b.WriteString("Draft: mark it ready to merge.\n")
	}

	v := Validate(pr, problems, grants)
	b.WriteString("\n" + checkLine(v) + "\n" + text(validateBlocks(problems, grants), "  "))

	if len(problems) > 0 && d.Outcome == "" {
		b.WriteString("\n" + ApprovalName + ": not evaluated: fix the problems above first\n")
		return b.String()
	}
	a := Approval(pr, grants, c, d)
	b.WriteString("\n" + checkLine(a) + "\n" + text(approvalBlocks(pr, grants, d), "  "))
	return b.String()
}

// checkLine is "jit/validate: success: 1 grant valid: ...".
func checkLine(c Check) string {
	state := c.Conclusion
	if c.Status != statusCompleted {
		state = "pending"
	}
	return c.Name + ": " + state + ": " + c.Title
}

// plainOr is plain(s), or alt when s is empty.
func plainOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return plain(s)
}
