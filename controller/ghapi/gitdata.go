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
	return c.writeCommit(ctx, branch, checks, "", "", message)
}

// WriteCommitAt is WriteCommit for a caller that already knows the branch's tip and the tip's
// tree (the App's mirror does): the first attempt makes neither GET git/ref nor GET
// git/commits/{sha}, so a record costs one POST git/commits, one POST check-runs per check and
// one PATCH git/refs. tip and tree must be full 40-hex shas, and tree must be tip's own tree:
// the record commit carries it, so any other tree would change files. A stale tip costs
// nothing but the fallback: the ref update is then not a fast forward, and WriteCommitAt
// goes on exactly as WriteCommit does, from the branch's real tip.
//
// https://docs.github.com/rest/git/commits#create-a-commit
func (c *Client) WriteCommitAt(ctx context.Context, branch string, checks []string, tip, tree string, message func(parent string) (string, error)) (string, error) {
	if !isSHA(tip) || !isSHA(tree) {
		return "", fmt.Errorf("recording a commit on %s: the hint tip %q and tree %q must both be 40 lower-case hex digits; call WriteCommit when they are unknown", branch, tip, tree)
	}
	return c.writeCommit(ctx, branch, checks, tip, tree, message)
}

// writeCommit is WriteCommit's loop; tip and tree are read when "".
func (c *Client) writeCommit(ctx context.Context, branch string, checks []string, tip, tree string, message func(parent string) (string, error)) (string, error) {
	for try := 1; ; try++ {
		var err error
		if tip == "" {
			if tip, err = c.BranchTip(ctx, branch); err != nil {
				return "", err
			}
		}
		if tree == "" {
			if tree, err = c.treeOf(ctx, tip); err != nil {
				return "", fmt.Errorf("recording a commit on %s: %w", branch, err)
			}
		}
		sha, err := c.recordOn(ctx, tip, tree, checks, message)
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
		tip, tree = now, ""
	}
}

// treeOf returns the tree of commit sha (GET git/commits/{sha}).
func (c *Client) treeOf(ctx context.Context, sha string) (string, error) {
	cm, err := c.gitCommit(ctx, sha)
	if err != nil {
		return "", err
	}
	return cm.GetTree().GetSHA(), nil
}

// gitCommit reads commit sha through the Git Data API.
func (c *Client) gitCommit(ctx context.Context, sha string) (*github.Commit, error) {
	const route = "GET /repos/{owner}/{repo}/git/commits/{commit_sha}"
	cm, _, err := c.gh.Git.GetCommit(withRoute(ctx, route), c.owner, c.repo, sha)
	if err != nil {
		return nil, fmt.Errorf("reading commit %s: %w", sha, wrap(route, err))
	}
	return cm, nil
}

// recordOn creates the record commit of tree on top of tip, and the check
// runs the branch requires on it.
func (c *Client) recordOn(ctx context.Context, tip, tree string, checks []string, message func(parent string) (string, error)) (string, error) {
	msg, err := message(tip)
	if err != nil {
		return "", fmt.Errorf("writing the message on parent %s: %w", tip, err)
	}
	// A commit object is content-addressed and unreachable until the ref
	// moves, so creating it twice is harmless: it may be retried.
	const route = "POST /repos/{owner}/{repo}/git/commits"
	cm, _, err := c.gh.Git.CreateCommit(withRoute(ctx, route), c.owner, c.repo, &github.Commit{
		Message: &msg, Tree: &github.Tree{SHA: &tree}, Parents: []*github.Commit{{SHA: &tip}},
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

// isSHA reports a full lower-case hex object name, as GitHub writes them.
func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
