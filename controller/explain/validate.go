package explain

import (
	"fmt"
	"strings"
	"time"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/internal/counted"
)

// maxTitleGrants is how many grants a title names before "and N more".
const maxTitleGrants = 3

// Validate is the jit/validate check run. With problems it fails, with one
// annotation per problem that names a file (at its line and column, line 1
// when it has none) and every problem listed in the summary as
// "file:line:col: message". Without problems it succeeds, its title naming
// the valid grants ("1 grant valid: prod/db/alice-inc-1234 (postgres-role,
// 2h)"), or "No grant files changed" when there are none.
func Validate(pr PullRequest, problems []grant.Problem, grants []change.Summary) Check {
	c := Check{Name: ValidateName, Status: statusCompleted}
	blocks := validateBlocks(problems, grants)
	switch {
	case len(problems) > 0:
		c.Conclusion = failure
		c.Title = problemsTitle(problems)
		c.Annotations = annotations(problems)
	case len(grants) == 0:
		c.Conclusion, c.Title = success, "No grant files changed"
	default:
		c.Conclusion, c.Title = success, validTitle(grants)
	}
	c.Summary = summary(pr, blocks)
	return c
}

// validateBlocks is the body of Validate, shared with Status.
func validateBlocks(problems []grant.Problem, grants []change.Summary) []block {
	if len(problems) > 0 {
		return []block{
			para(words("The pull request is not valid yet: fix each problem below and push again. Approvals are evaluated once it is valid.")),
			bullets(problemLines(problems)),
		}
	}
	if len(grants) == 0 {
		return []block{para(words("The pull request changes no grant file under access/, so there is nothing for jit to check."))}
	}
	var rows [][]line
	for _, g := range grants {
		rows = append(rows, []line{{literal(g.ID)}, {lit(kindName(g.Change))}, {literal(g.Template)}, {lit(duration(g.DurationSeconds))}, {literal(g.Requester)}})
	}
	return []block{
		para(words("Every grant file is valid. The jit comment on the pull request describes each grant for approvers; the jit/approval check says whether it may merge.")),
		table([]string{"Grant", "Change", "Template", "Duration", "Requester"}, rows),
	}
}

// problemLines lists problems in order as "file:line:col: message".
func problemLines(problems []grant.Problem) []line {
	ps := sorted(problems)
	out := make([]line, 0, len(ps))
	for _, p := range ps {
		out = append(out, line{value(where(p) + p.Message)})
	}
	return out
}

// sorted returns a sorted copy of problems.
func sorted(problems []grant.Problem) []grant.Problem {
	ps := append([]grant.Problem(nil), problems...)
	grant.SortProblems(ps)
	return ps
}

// where is a problem's location followed by ": ", as much of
// "file:line:col" as is known; "" without a file.
func where(p grant.Problem) string {
	if p.File == "" {
		return ""
	}
	s := p.File
	if p.Line > 0 {
		s += fmt.Sprintf(":%d", p.Line)
		if p.Column > 0 {
			s += fmt.Sprintf(":%d", p.Column)
		}
	}
	return s + ": "
}

// problemsTitle is "1 problem in access/x.yaml", "3 problems in 2 files"
// or "2 problems".
func problemsTitle(problems []grant.Problem) string {
	files := map[string]bool{}
	var one string
	for _, p := range problems {
		if p.File != "" {
			files[p.File], one = true, p.File
		}
	}
	n := counted.N(len(problems), "problem", "problems")
	switch len(files) {
	case 0:
		return title("%s", n)
	case 1:
		return title("%s in %s", n, one)
	}
	return title("%s in %d files", n, len(files))
}

// validTitle is "1 grant valid: prod/db/alice-inc-1234 (postgres-role, 2h)",
// naming at most maxTitleGrants grants.
func validTitle(grants []change.Summary) string {
	var names []string
	for i, g := range grants {
		if i == maxTitleGrants {
			names = append(names, fmt.Sprintf("and %d more", len(grants)-i))
			break
		}
		detail := []string{g.Template, duration(g.DurationSeconds)}
		if g.Change != "" && g.Change != string(grant.Added) {
			detail = append(detail, kindName(g.Change))
		}
		names = append(names, fmt.Sprintf("%s (%s)", cutBytes(g.ID, 60), cutBytes(strings.Join(detail, ", "), 80)))
	}
	return title("%s valid: %s", counted.N(len(grants), "grant", "grants"), strings.Join(names, ", "))
}

// annotations places each problem that names a file at its line and column
// (line 1 when it has none).
func annotations(problems []grant.Problem) []Annotation {
	var out []Annotation
	for _, p := range sorted(problems) {
		if p.File == "" {
			continue
		}
		a := Annotation{Path: p.File, StartLine: max(p.Line, 1), EndLine: max(p.Line, 1), Level: failure,
			Title: title("%s", "jit/validate: "+strings.TrimSuffix(where(p), ": ")), Message: plain(p.Message)}
		if p.Line > 0 && p.Column > 0 {
			a.StartColumn, a.EndColumn = p.Column, p.Column
		}
		out = append(out, a)
	}
	return out
}

// kindName is how the texts name a kind of change.
func kindName(kind string) string {
	switch grant.ChangeKind(kind) {
	case grant.Added, "":
		return "request"
	case grant.Extended:
		return "extension"
	case grant.Shortened:
		return "shortening"
	case grant.Deleted:
		return "early revocation"
	}
	return "unknown change"
}

// duration renders seconds as a grant file writes durations ("1h30m").
func duration(seconds int64) string {
	if seconds <= 0 {
		return "no duration"
	}
	return grant.FormatDuration(time.Duration(seconds) * time.Second)
}
