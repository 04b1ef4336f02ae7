package ghapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
)

// writeCommitTries is how often WriteCommit starts again when the branch
// moved under it.
const writeCommitTries = 5

// BranchTip returns the sha of refs/heads/branch (GET /git/ref/heads/{branch}).
//
// https://docs.github.com/rest/git/refs#get-a-reference
func (c *Client) BranchTip(ctx context.Context, branch string) (string, error) {
	const route = "GET /repos/{owner}/{repo}/git/ref/{ref}"
	ref, _, err := c.gh.Git.GetRef(withRoute(ctx, route), c.owner, c.repo, "heads/"+branch)
	if err != nil {
		return "", fmt.Errorf("reading the tip of branch %s: %w", branch, wrap(route, err))
	}
	return ref.GetObject().GetSHA(), nil
}

// WriteCommit records a controller commit on branch through the Git Data API, the one commit
// writer of the controller: it reads the tip (GET git/ref), its tree (GET git/commits/{sha}),
// creates a commit with the same tree (nothing changes: an "empty" record commit), one parent =
// the tip, and the message message(tip) returns (the caller signs Jit-Parent = tip into it);
// for each name in checks it creates a completed successful check run on the new commit
// (required status checks of a protected branch apply to the App's pushes too); then moves
// the ref with PATCH git/refs/heads/{branch} force=false. When the ref moved meanwhile (422
// "Update is not a fast forward", or the tip changed) it starts again from the new tip, up to
// 5 times. Author and committer are left to GitHub (the App's bot account).
//
// https://docs.github.com/rest/git/commits#create-a-commit
func (c *Client) WriteCommit(ctx context.Context, branch string, checks []string, message func(parent string) (string, error)) (string, error) {
	for try := 1; ; try++ {
		tip, err := c.BranchTip(ctx, branch)
		if err != nil {
			return "", err
		}
		sha, err := c.recordOn(ctx, tip, checks, message)
		if err != nil {
			return "", fmt.Errorf("recording a commit on %s: %w", branch, err)
		}
		const route = "PATCH /repos/{owner}/{repo}/git/refs/{ref}"
		_, _, err = c.gh.Git.UpdateRef(withRoute(ctx, route), c.owner, c.repo,
			&github.Reference{Ref: github.String("heads/" + branch), Object: &github.GitObject{SHA: &sha}}, false)
		if err == nil {
			c.log.Info("recorded a commit", logKeyBranch, branch, logKeySHA, sha)
			return sha, nil
		}
		err = wrap(route, err)
		if s := status(err); s != http.StatusUnprocessableEntity && s != http.StatusConflict {
			return "", fmt.Errorf("moving %s to %s: %w", branch, sha, err)
		}
		// 422 is also what protection answers: start again only when the
		// branch really moved.
		now, terr := c.BranchTip(ctx, branch)
		switch {
		case terr != nil:
			return "", terr
		case now == sha:
			return sha, nil // an earlier attempt's update did land
		case now == tip:
			return "", fmt.Errorf("moving %s to %s: %w", branch, sha, err)
		case try >= writeCommitTries:
			return "", fmt.Errorf("moving %s: it moved under every one of %d attempts (last from %s to %s): %w", branch, try, tip, now, err)
		}
		c.log.Info("branch moved while recording; starting again", logKeyBranch, branch, logKeySHA, now)
	}
}

// recordOn creates the record commit on top of tip, and the check runs the
// branch requires on it.
func (c *Client) recordOn(ctx context.Context, tip string, checks []string, message func(parent string) (string, error)) (string, error) {
	const getRoute = "GET /repos/{owner}/{repo}/git/commits/{commit_sha}"
	parent, _, err := c.gh.Git.GetCommit(withRoute(ctx, getRoute), c.owner, c.repo, tip)
	if err != nil {
		return "", fmt.Errorf("reading the tip commit %s: %w", tip, wrap(getRoute, err))
	}
	msg, err := message(tip)
	if err != nil {
		return "", fmt.Errorf("writing the message on parent %s: %w", tip, err)
	}
	// A commit object is content-addressed and unreachable until the ref
	// moves, so creating it twice is harmless: it may be retried.
	const route = "POST /repos/{owner}/{repo}/git/commits"
	cm, _, err := c.gh.Git.CreateCommit(withRoute(ctx, route), c.owner, c.repo, &github.Commit{
		Message: &msg, Tree: &github.Tree{SHA: parent.GetTree().SHA}, Parents: []*github.Commit{{SHA: &tip}},
	}, nil)
	if err != nil {
		return "", wrap(route, err)
	}
	sha := cm.GetSHA()
	for _, name := range checks {
		const route = "POST /repos/{owner}/{repo}/check-runs"
		_, _, err := c.gh.Checks.CreateCheckRun(withRoute(ctx, route), c.owner, c.repo, github.CreateCheckRunOptions{
			Name: name, HeadSHA: sha, Status: github.String("completed"), Conclusion: github.String("success"),
			Output: &github.CheckRunOutput{Title: github.String("Recorded by jit"), Summary: github.String("A record commit of the jit App: it changes no file.")},
		})
		if err != nil {
			return "", fmt.Errorf("passing check %q on %s: %w", name, sha, wrap(route, err))
		}
	}
	return sha, nil
}
