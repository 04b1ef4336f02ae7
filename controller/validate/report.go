package validate

import (
	"fmt"
	"strings"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/internal/counted"
)

// Report is the outcome of a validation. Valid is true exactly when there
// are no problems.
type Report struct {
	Valid    bool            `json:"valid"`
	Problems []grant.Problem `json:"problems"`
	Grants   []Grant         `json:"grants"`
	// Change is the classified change of a pull request, what grant.Decide
	// reads (empty when linting a tree).
	Change grant.Change `json:"-"`
	// Checked says what was looked at, for the line printed when all is well.
	Checked Checked `json:"-"`
}

// Checked counts what a validation looked at.
type Checked struct {
	// GrantFiles counts the grant files read (a tree) or changed (a change).
	GrantFiles int
	// Policies and Templates count the policies and templates of the
	// governing files that judged them.
	Policies, Templates int
	// MergeBase, Head and DefaultTip are the full hashes a change was read
	// at (empty for a tree): the diff from MergeBase to Head, judged by
	// the default branch at DefaultTip.
	MergeBase, Head, DefaultTip string
}

// Summary is the line that says what a valid Report checked, such as
// "2 grant files checked against 2 policies and 1 template" or, for a
// change, "change 1a2b3c4d5e6f..0f9e8d7c6b5a adds 1 grant, judged by 2
// policies and 1 template at main 4d5e6f1a2b3c"; where names the tree (a
// directory) or the default branch.
func (r Report) Summary(where string) string {
	c := r.Checked
	gov := fmt.Sprintf("%s and %s", counted.N(c.Policies, "policy", "policies"), counted.N(c.Templates, "template", "templates"))
	if c.Head == "" {
		return fmt.Sprintf("%s checked against %s in %s", counted.N(c.GrantFiles, "grant file", "grant files"), gov, where)
	}
	kinds := map[string]int{}
	for _, g := range r.Grants {
		kinds[g.Change]++
	}
	var did []string
	for _, k := range []struct{ kind, verb string }{{"added", "adds"}, {"extended", "extends"}, {"shortened", "shortens"}, {"deleted", "deletes"}} {
		if n := kinds[k.kind]; n > 0 {
			did = append(did, k.verb+" "+counted.N(n, "grant", "grants"))
		}
	}
	if len(did) == 0 && c.Policies == 0 && c.Templates == 0 {
		return fmt.Sprintf("change %s..%s changes no grant and no governing file", short(c.MergeBase), short(c.Head))
	}
	if len(did) == 0 {
		return fmt.Sprintf("change %s..%s changes no grant; its governing files (%s) are valid", short(c.MergeBase), short(c.Head), gov)
	}
	what := strings.Join(did, ", ")
	return fmt.Sprintf("change %s..%s %s, judged by %s at %s %s", short(c.MergeBase), short(c.Head), what, gov, where, short(c.DefaultTip))
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Grant summarises one grant for reviewers and scripts.
type Grant = change.Summary

func newReport(problems []grant.Problem, grants []Grant) Report {
	grant.SortProblems(problems)
	if problems == nil {
		problems = []grant.Problem{}
	}
	if grants == nil {
		grants = []Grant{}
	}
	return Report{Valid: len(problems) == 0, Problems: problems, Grants: grants}
}
