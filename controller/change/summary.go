package change

// Summary describes one grant for reviewers and scripts: what the sticky
// comment and `jit validate --format json` show.
type Summary struct {
	ID              string `json:"id"`
	File            string `json:"file"`
	Template        string `json:"template"`
	Requester       string `json:"requester"`
	DurationSeconds int64  `json:"duration_seconds"`
	// Reason and Ticket are the grant file's own words, for approvers.
	Reason string `json:"reason"`
	Ticket string `json:"ticket,omitempty"`
	// Scope is the template's input values as the grant file wrote them.
	Scope map[string]any `json:"scope,omitempty"`
	// Change is what the pull request does to the grant: "added",
	// "extended", "shortened" or "deleted"; empty when linting a tree.
	Change     string `json:"change,omitempty"`
	BreakGlass bool   `json:"break_glass"`
	// Policies are the names of the policies that cover the grant.
	Policies []string `json:"policies"`
	// ApprovalsRequired is the number of distinct eligible approvals needed
	// when the change needs approval (for a deletion, when its author is
	// neither the requester nor a code owner).
	ApprovalsRequired int `json:"approvals_required"`
	// EligibleApprovers are the grant file's code owners as written in
	// CODEOWNERS ("@acme/dba"); the requester is never eligible.
	EligibleApprovers []string `json:"eligible_approvers"`
	// PolicyApprovers are the approvers lists of covering policies that set
	// one; an approver must also match an entry of each.
	PolicyApprovers [][]string `json:"policy_approvers,omitempty"`
}
