package validate

import (
	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
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
