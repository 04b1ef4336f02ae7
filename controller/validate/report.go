package validate

import "github.com/jitops/jit/controller/grant"

// Report is the outcome of a validation. Valid is true exactly when there
// are no problems.
type Report struct {
	Valid    bool            `json:"valid"`
	Problems []grant.Problem `json:"problems"`
	Grants   []Grant         `json:"grants"`
}

// Grant summarises one grant for reviewers and scripts.
type Grant struct {
	ID              string `json:"id"`
	File            string `json:"file"`
	Template        string `json:"template"`
	Requester       string `json:"requester"`
	DurationSeconds int64  `json:"duration_seconds"`
	// Change is what the pull request does to the grant: "added",
	// "extended", "shortened" or "deleted"; empty when linting a tree.
	Change     string `json:"change,omitempty"`
	BreakGlass bool   `json:"break_glass"`
	// Policies are the names of the policies that cover the grant.
	Policies []string `json:"policies"`
	// ApprovalsRequired is the number of distinct eligible approvals needed.
	ApprovalsRequired int `json:"approvals_required"`
	// EligibleApprovers are the grant file's code owners as written in
	// CODEOWNERS ("@acme/dba"); the requester is never eligible.
	EligibleApprovers []string `json:"eligible_approvers"`
	// PolicyApprovers are the approvers lists of covering policies that set
	// one; an approver must also match an entry of each.
	PolicyApprovers [][]string `json:"policy_approvers,omitempty"`
}

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
