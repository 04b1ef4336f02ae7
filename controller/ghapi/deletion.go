package ghapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/request"
)

// ExpireBranchPrefix starts the name of every expiry pull request's branch:
// "jit/expire/<grant id>".
const ExpireBranchPrefix = "jit/expire/"

// appBranchPrefix is the namespace of every branch the App makes, and the
// only one DeleteBranch deletes in.
const appBranchPrefix = "jit/"

// logKeyPR is the log attribute of a pull request's number.
const logKeyPR = "pull_request"

// maxDeletionPaths bounds the files one deletion pull request removes.
const maxDeletionPaths = 100

// ErrBranchTampered is returned (wrapped, saying what differs) by OpenDeletionPR when the
// deletion branch exists already but is not the App's own deletion of exactly the asked paths.
// The branch is left as it is, for a person to look at; nothing is opened or merged from it.
var ErrBranchTampered = errors.New("the deletion branch was changed by someone other than the App; inspect it, delete it, and let the App open the pull request again")

// ExpireBranch returns the branch of grant id's expiry pull request.
func ExpireBranch(id string) string { return ExpireBranchPrefix + id }

// DeletionPR is a pull request that deletes grant files: the expiry pull request.
type DeletionPR struct {
	Branch  string // ExpireBranch(grant id); its grant's file must be among Paths
	Base    string // the branch the pull request goes into (the default branch)
	BaseSHA string // Base's tip the deletion commit is made on (40 hex)
	// BaseTree is BaseSHA's tree when the caller knows it (its local copy
	// does), saving GitHub the question; "" asks. It must be BaseSHA's own
	// tree: the deletion commit carries it less Paths.
	BaseTree string
	// Paths are the grant files to delete ("access/prod/db/x.yaml"), at most 100, no repeats.
	Paths         []string
	CommitMessage string // the deletion commit's message; required
	Title, Body   string // the pull request's; Title required
}

// OpenDeletionPR opens the pull request d describes and returns it: one commit on top of
// BaseSHA whose tree is BaseSHA's without exactly d.Paths (POST git/trees with base_tree and a
// null sha per path, POST git/commits), branch refs/heads/<d.Branch> on it (POST git/refs), and
// a pull request from d.Branch into d.Base. The happy path is five calls.
//
// It is idempotent, because a controller can stop between any two calls: when the branch
// exists already it is reused only if its tip is a commit authored by the App, with one parent
// on d.Base's history, whose tree is that parent's without exactly d.Paths (recomputed, not
// trusted); anything else is ErrBranchTampered and the branch is left alone. Such a branch
// made on an older tip of d.Base (an expiry opened before an extension rewrote the grant's
// file, with which it would conflict) is moved to the deletion made on BaseSHA. An open pull
// request from the branch is then returned as it is (it must be the App's and go into d.Base,
// or it is an error); GitHub's 422 "A pull request already exists" finds and returns it too.
// A path BaseSHA does not hold is not deleted; when it holds none of them, it is an error and
// nothing is made. The commit message is not compared when a branch is reused, so a caller
// may word it differently after a restart.
//
// https://docs.github.com/rest/git/trees#create-a-tree
// https://docs.github.com/rest/pulls/pulls#create-a-pull-request
func (c *Client) OpenDeletionPR(ctx context.Context, d DeletionPR) (PullRequest, error) {
	paths, err := checkDeletion(d)
	if err != nil {
		return PullRequest{}, err
	}
	fail := func(err error) (PullRequest, error) {
		return PullRequest{}, fmt.Errorf("opening the deletion pull request %s: %w", d.Branch, err)
	}
	baseTree := d.BaseTree
	if baseTree == "" {
		if baseTree, err = c.treeOf(ctx, d.BaseSHA); err != nil {
			return fail(err)
		}
	}
	tree, err := c.deletionTree(ctx, baseTree, paths)
	if err != nil {
		return fail(err)
	}
	if tree == baseTree {
		return fail(fmt.Errorf("%s holds none of %s; there is nothing to delete", d.BaseSHA, strings.Join(paths, ", ")))
	}
	const commitRoute = "POST /repos/{owner}/{repo}/git/commits"
	cm, _, err := c.gh.Git.CreateCommit(withRoute(ctx, commitRoute), c.owner, c.repo, &github.Commit{
		Message: &d.CommitMessage, Tree: &github.Tree{SHA: &tree}, Parents: []*github.Commit{{SHA: &d.BaseSHA}},
	}, nil)
	if err != nil {
		return fail(wrap(commitRoute, err))
	}
	const refRoute = "POST /repos/{owner}/{repo}/git/refs"
	// A ref created by an attempt whose answer was lost makes the retry's
	// answer 422 "Reference already exists": the reuse check then finds our
	// own commit.
	_, _, err = c.gh.Git.CreateRef(withRoute(ctx, refRoute), c.owner, c.repo,
		&github.Reference{Ref: github.String("refs/heads/" + d.Branch), Object: &github.GitObject{SHA: cm.SHA}})
	switch {
	case err == nil:
		c.log.Info("made the deletion branch", logKeyBranch, d.Branch, logKeySHA, cm.GetSHA())
		c.newCommit(cm.GetSHA())
		p, err := c.createDeletionPull(ctx, d)
		if err != nil {
			return fail(err)
		}
		return sameHead(d, p, cm.GetSHA())
	case !alreadyExists(err):
		return fail(wrap(refRoute, err))
	}
	checked, parent, err := c.checkDeletionBranch(ctx, d, paths, baseTree, tree)
	if err != nil {
		return fail(err)
	}
	if parent != d.BaseSHA && checked != cm.GetSHA() {
		// The App's deletion, but on an older tip of d.Base: what changed
		// there since (an extension rewriting the grant's file) would
		// conflict with it. The branch moves to the deletion just made on
		// BaseSHA, and an open pull request from it follows.
		if err := c.moveBranch(ctx, d.Branch, cm.GetSHA()); err != nil {
			return fail(err)
		}
		c.log.Info("moved the stale deletion branch onto the current tip", logKeyBranch, d.Branch, logKeySHA, cm.GetSHA())
		checked = cm.GetSHA()
	}
	p, ok, err := c.findDeletionPull(ctx, d)
	if err != nil {
		return fail(err)
	}
	if !ok {
		if p, err = c.createDeletionPull(ctx, d); err != nil {
			return fail(err)
		}
	}
	return sameHead(d, p, checked)
}

// sameHead returns p when its head is the commit checked (made or verified
// as the App's deletion); a branch moved in between is tampered with, and
// its pull request must not be merged on the strength of that check.
func sameHead(d DeletionPR, p PullRequest, checked string) (PullRequest, error) {
	if p.HeadSHA != checked {
		return PullRequest{}, fmt.Errorf("opening the deletion pull request %s: its head %s is not the commit checked, %s: the branch moved: %w", d.Branch, p.HeadSHA, checked, ErrBranchTampered)
	}
	return p, nil
}

// checkDeletion validates d and returns its paths, sorted.
func checkDeletion(d DeletionPR) ([]string, error) {
	id, ok := strings.CutPrefix(d.Branch, ExpireBranchPrefix)
	if !ok {
		return nil, fmt.Errorf("opening a deletion pull request: branch %q does not start with %s; name it ExpireBranch(grant id)", d.Branch, ExpireBranchPrefix)
	}
	file := request.Dir + "/" + id + request.Ext
	if _, problem := request.IDFromPath(file); problem != "" {
		return nil, fmt.Errorf("opening a deletion pull request: branch %q does not name a grant: %s", d.Branch, problem)
	}
	where := "opening the deletion pull request " + d.Branch
	switch {
	case !validBranch(d.Base):
		return nil, fmt.Errorf("%s: base %q is not a branch name; give the default branch", where, d.Base)
	case !isSHA(d.BaseSHA):
		return nil, fmt.Errorf("%s: BaseSHA %q is not 40 lower-case hex digits; give the full sha of %s's tip", where, d.BaseSHA, d.Base)
	case d.BaseTree != "" && !isSHA(d.BaseTree):
		return nil, fmt.Errorf("%s: BaseTree %q is not 40 lower-case hex digits; give the full sha of %s's tree, or leave it empty", where, d.BaseTree, d.BaseSHA)
	case len(d.Paths) == 0 || len(d.Paths) > maxDeletionPaths:
		return nil, fmt.Errorf("%s: %d paths; give between 1 and %d grant files", where, len(d.Paths), maxDeletionPaths)
	case strings.TrimSpace(d.CommitMessage) == "":
		return nil, fmt.Errorf("%s: CommitMessage is empty; say what expired", where)
	case strings.TrimSpace(d.Title) == "":
		return nil, fmt.Errorf("%s: Title is empty; say what expired", where)
	}
	paths := slices.Clone(d.Paths)
	slices.Sort(paths)
	for i, p := range paths {
		if _, problem := request.IDFromPath(p); problem != "" {
			return nil, fmt.Errorf("%s: path %q is not a grant file (%s); a deletion pull request deletes grant files only", where, p, problem)
		}
		if i > 0 && paths[i-1] == p {
			return nil, fmt.Errorf("%s: path %q is given twice; give each once", where, p)
		}
	}
	if _, found := slices.BinarySearch(paths, file); !found {
		return nil, fmt.Errorf("%s: the branch names grant %s, but its file %s is not among the paths %s", where, id, file, strings.Join(paths, ", "))
	}
	return paths, nil
}

// validBranch reports a branch name GitHub and git accept, without any
// character that could change the meaning of a URL or a ref expression.
func validBranch(b string) bool {
	if b == "" || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") || strings.HasSuffix(b, ".") ||
		strings.HasPrefix(b, "-") || strings.Contains(b, "..") || strings.Contains(b, "//") || strings.Contains(b, "@{") {
		return false
	}
	for _, c := range []byte(b) {
		if c <= ' ' || c == 0x7f || strings.IndexByte("~^:?*[\\#%", c) >= 0 {
			return false
		}
	}
	for _, part := range strings.Split(b, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	return true
}

// deletionTree creates the tree base without paths (each given with a null sha).
func (c *Client) deletionTree(ctx context.Context, base string, paths []string) (string, error) {
	entries := make([]*github.TreeEntry, 0, len(paths))
	for _, p := range paths {
		// SHA and Content both nil: go-github sends "sha": null, which
		// deletes the path.
		entries = append(entries, &github.TreeEntry{Path: github.String(p), Mode: github.String("100644"), Type: github.String("blob")})
	}
	const route = "POST /repos/{owner}/{repo}/git/trees"
	t, _, err := c.gh.Git.CreateTree(withRoute(ctx, route), c.owner, c.repo, base, entries)
	if err != nil {
		return "", fmt.Errorf("deleting %s from tree %s: %w", strings.Join(paths, ", "), base, wrap(route, err))
	}
	return t.GetSHA(), nil
}

// checkDeletionBranch returns d.Branch's tip and that tip's parent, and nil when the tip is
// the App's deletion of exactly paths from a commit on d.Base's history, else an error
// wrapping ErrBranchTampered (or the error that kept it from finding out). baseTree is
// d.BaseSHA's tree and tree that tree without paths.
func (c *Client) checkDeletionBranch(ctx context.Context, d DeletionPR, paths []string, baseTree, tree string) (string, string, error) {
	tip, err := c.BranchTip(ctx, d.Branch)
	if err != nil {
		return "", "", err
	}
	parent, err := c.checkDeletionTip(ctx, d, paths, baseTree, tree, tip)
	return tip, parent, err
}

// checkDeletionTip is checkDeletionBranch for the branch's tip, tip; it
// returns the tip's parent.
func (c *Client) checkDeletionTip(ctx context.Context, d DeletionPR, paths []string, baseTree, tree, tip string) (string, error) {
	tampered := func(format string, args ...any) error {
		return fmt.Errorf("branch %s at %s: %s: %w", d.Branch, tip, fmt.Sprintf(format, args...), ErrBranchTampered)
	}
	cm, err := c.gitCommit(ctx, tip)
	if err != nil {
		return "", err
	}
	bot, err := c.bot(ctx)
	if err != nil {
		return "", fmt.Errorf("checking who made branch %s: %w", d.Branch, err)
	}
	if a := cm.GetAuthor().GetName(); !strings.EqualFold(a, bot) {
		return "", tampered("its tip is authored by %q, not by the App (%s)", a, bot)
	}
	if len(cm.Parents) != 1 {
		return "", tampered("its tip has %d parents, not one", len(cm.Parents))
	}
	parent := cm.Parents[0].GetSHA()
	want := tree
	if parent != d.BaseSHA {
		onBase, err := c.onHistory(ctx, parent, d.Base)
		if err != nil {
			return "", err
		}
		if !onBase {
			return "", tampered("its tip's parent %s is not on %s's history", parent, d.Base)
		}
		ptree, err := c.treeOf(ctx, parent)
		if err != nil {
			return "", err
		}
		if want, err = c.deletionTree(ctx, ptree, paths); err != nil {
			return "", err
		}
		baseTree = ptree
	}
	if got := cm.GetTree().GetSHA(); got != want || want == baseTree {
		return "", tampered("its tip's tree %s is not its parent's without exactly %s (that is %s)", got, strings.Join(paths, ", "), want)
	}
	return parent, nil
}

// moveBranch points branch at sha, whatever it pointed at (PATCH git/refs
// with force: the App's own deletion branch, just checked, moving off an
// older base).
//
// https://docs.github.com/rest/git/refs#update-a-reference
func (c *Client) moveBranch(ctx context.Context, branch, sha string) error {
	const route = "PATCH /repos/{owner}/{repo}/git/refs/{ref}"
	_, _, err := c.gh.Git.UpdateRef(withRoute(ctx, route), c.owner, c.repo,
		&github.Reference{Ref: github.String("heads/" + branch), Object: &github.GitObject{SHA: &sha}}, true)
	if err != nil {
		return fmt.Errorf("moving branch %s to %s: %w", branch, sha, wrap(route, err))
	}
	return nil
}

// onHistory reports whether commit sha is branch's tip or one of its
// ancestors (GET compare/{sha}...{branch}: branch is not behind sha).
//
// https://docs.github.com/rest/commits/commits#compare-two-commits
func (c *Client) onHistory(ctx context.Context, sha, branch string) (bool, error) {
	const route = "GET /repos/{owner}/{repo}/compare/{basehead}"
	cmp, _, err := c.gh.Repositories.CompareCommits(withRoute(ctx, route), c.owner, c.repo, sha, branch, &github.ListOptions{PerPage: 1})
	if status(wrap(route, err)) == http.StatusNotFound {
		return false, nil // no common history at all
	}
	if err != nil {
		return false, fmt.Errorf("comparing %s with %s: %w", sha, branch, wrap(route, err))
	}
	return cmp.GetBehindBy() == 0 && (cmp.GetStatus() == "ahead" || cmp.GetStatus() == "identical"), nil
}

// errPullExists marks GitHub's 422 "A pull request already exists".
var errPullExists = errors.New("a pull request already exists")

// createDeletionPull opens the pull request from d.Branch into d.Base, or
// returns the open one GitHub says already exists.
func (c *Client) createDeletionPull(ctx context.Context, d DeletionPR) (PullRequest, error) {
	const route = "POST /repos/{owner}/{repo}/pulls"
	create := func() (PullRequest, error) {
		p, _, err := c.gh.PullRequests.Create(withCreate(ctx, route), c.owner, c.repo, &github.NewPullRequest{
			Title: &d.Title, Head: &d.Branch, Base: &d.Base, Body: &d.Body,
		})
		if err != nil {
			if alreadyExists(err) {
				return PullRequest{}, errPullExists
			}
			return PullRequest{}, wrap(route, err)
		}
		return FromGitHub(p), nil
	}
	find := func() (PullRequest, bool, error) { return c.findDeletionPull(ctx, d) }
	p, err := createOnce(ctx, c, create, find)
	if errors.Is(err, errPullExists) {
		var ok bool
		if p, ok, err = find(); err == nil && !ok {
			err = fmt.Errorf("%s: GitHub says a pull request from %s already exists, but none is open; look at the branch's pull requests", route, d.Branch)
		}
	}
	if err != nil {
		return PullRequest{}, fmt.Errorf("opening the deletion pull request %s: %w", d.Branch, err)
	}
	c.log.Info("opened the deletion pull request", logKeyBranch, d.Branch, logKeyPR, p.Number)
	return p, nil
}

// findDeletionPull returns the open pull request from d.Branch, checking that
// the App opened it into d.Base.
func (c *Client) findDeletionPull(ctx context.Context, d DeletionPR) (PullRequest, bool, error) {
	ps, err := c.PullRequestsForHead(ctx, d.Branch, "open")
	if err != nil || len(ps) == 0 {
		return PullRequest{}, false, err
	}
	bot, err := c.bot(ctx)
	if err != nil {
		return PullRequest{}, false, fmt.Errorf("checking who opened the pull requests from %s: %w", d.Branch, err)
	}
	p := ps[0]
	switch {
	case len(ps) > 1:
		return PullRequest{}, false, fmt.Errorf("%d pull requests from %s are open; close all but the App's one into %s", len(ps), d.Branch, d.Base)
	case p.BaseRef != d.Base:
		return PullRequest{}, false, fmt.Errorf("pull request #%d from %s goes into %s, not %s; close it", p.Number, d.Branch, p.BaseRef, d.Base)
	case !strings.EqualFold(p.Author, bot):
		return PullRequest{}, false, fmt.Errorf("pull request #%d from %s was opened by %s, not by the App (%s); close it", p.Number, d.Branch, p.Author, bot)
	}
	return p, true, nil
}

// PullRequestsForHead returns the pull requests of the access repository whose head is branch
// of the access repository itself (never a fork's branch of the same name), every page, in
// state "open", "closed" or "all".
//
// https://docs.github.com/rest/pulls/pulls#list-pull-requests
func (c *Client) PullRequestsForHead(ctx context.Context, branch string, state string) ([]PullRequest, error) {
	if !validBranch(branch) {
		return nil, fmt.Errorf("listing pull requests from %q: not a branch name", branch)
	}
	if state != "open" && state != "closed" && state != "all" {
		return nil, fmt.Errorf("listing pull requests from %s: state %q is none of open, closed, all", branch, state)
	}
	ps, err := pages(ctx, "GET /repos/{owner}/{repo}/pulls", func(ctx context.Context, opt github.ListOptions) ([]*github.PullRequest, *github.Response, error) {
		return c.gh.PullRequests.List(ctx, c.owner, c.repo, &github.PullRequestListOptions{State: state, Head: c.owner + ":" + branch, ListOptions: opt})
	})
	if err != nil {
		return nil, fmt.Errorf("listing pull requests from %s: %w", branch, err)
	}
	out := []PullRequest{}
	for _, p := range ps {
		pr := FromGitHub(p)
		if pr.HeadRef == branch && strings.EqualFold(pr.HeadRepo, c.FullName()) {
			out = append(out, pr)
		}
	}
	return out, nil
}

// DeleteBranch deletes branch, one of the App's own (its name starts with "jit/"; any other
// is refused before any request). A branch already gone (404, or GitHub's 422 "Reference does
// not exist") is not an error, so it may be called again after a lost answer.
//
// https://docs.github.com/rest/git/refs#delete-a-reference
func (c *Client) DeleteBranch(ctx context.Context, branch string) error {
	if !validBranch(branch) || !strings.HasPrefix(branch, appBranchPrefix) {
		return fmt.Errorf("deleting branch %q: only the App's own branches (%s…) are deleted", branch, appBranchPrefix)
	}
	const route = "DELETE /repos/{owner}/{repo}/git/refs/{ref}"
	_, err := c.gh.Git.DeleteRef(withRoute(ctx, route), c.owner, c.repo, "heads/"+branch)
	if err == nil || notExists(err) {
		return nil
	}
	return fmt.Errorf("deleting branch %s: %w", branch, wrap(route, err))
}

// alreadyExists reports GitHub's 422 for a ref or pull request that exists.
func alreadyExists(err error) bool {
	return validationSays(err, "already exists")
}

// notExists reports GitHub's 404, or its 422 "Reference does not exist".
func notExists(err error) bool {
	return status(wrap("", err)) == http.StatusNotFound || validationSays(err, "does not exist")
}

// validationSays reports a 422 whose message, or one of whose errors,
// contains text.
func validationSays(err error, text string) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	if strings.Contains(er.Message, text) {
		return true
	}
	for _, e := range er.Errors {
		if strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}
