package app

import (
	"context"
	"fmt"

	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/grant"
)

// Status explains pull request number as its check runs would, without
// posting anything: the text of explain.Status, and whether the pull
// request is valid and approved (or needs no approval).
func (e *Evaluator) Status(ctx context.Context, number int) (string, bool, error) {
	pr, err := e.GitHub.PullRequest(ctx, number)
	if err != nil {
		return "", false, fmt.Errorf("reading pull request #%d: %w", number, err)
	}
	as, err := e.Assess(ctx, pr, false)
	if err != nil {
		return "", false, err
	}
	text := explain.Status(as.ExplainPR(e.DefaultBranch), as.Report.Problems, as.Report.Grants, as.Report.Change, as.Decision)
	if pr.State != "open" {
		text = fmt.Sprintf("pull request #%d is %s (merged: %t)\n", number, pr.State, pr.Merged) + text
	}
	ok := as.Report.Valid && (!as.Decided || as.Decision.Outcome == grant.Approved)
	return text, ok, nil
}
