package ghapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/grant"
)

// PullRequest is a pull request as the App needs it.
type PullRequest struct {
	Number                     int
	State                      string // "open" or "closed"
	Draft, Merged              bool
	Author, Title, Body, URL   string // URL = html_url
	HeadSHA, HeadRef, HeadRepo string // HeadRepo = head.repo.full_name ("" if the fork is gone)
	BaseRef, BaseSHA           string
	Labels                     []string
	MergeCommitSHA             string
	MergedAt                   time.Time
	// NodeID is the pull request's global (GraphQL) id, which the
	// auto-merge mutations take.
	NodeID string
	// AutoMerge is the pull request's auto-merge request, nil without one.
	AutoMerge *AutoMerge
}

// AutoMerge is an auto-merge request on a pull request: who enabled it, the
// merge method ("merge", "squash" or "rebase") and the merge commit's title
// and message it will use.
type AutoMerge struct {
	EnabledBy, Method, CommitTitle, CommitMessage string
}

// FromGitHub maps go-github's pull request, in its full form (REST) or its
// simple form (webhook payloads of reviews, lists), to a PullRequest. The
// simple form has no "merged": a merge time there means merged.
func FromGitHub(p *github.PullRequest) PullRequest {
	out := PullRequest{
		Number: p.GetNumber(), State: p.GetState(), Draft: p.GetDraft(), Merged: p.GetMerged() || p.MergedAt != nil,
		Author: p.GetUser().GetLogin(), Title: p.GetTitle(), Body: p.GetBody(), URL: p.GetHTMLURL(),
		HeadSHA: p.GetHead().GetSHA(), HeadRef: p.GetHead().GetRef(), HeadRepo: p.GetHead().GetRepo().GetFullName(),
		BaseRef: p.GetBase().GetRef(), BaseSHA: p.GetBase().GetSHA(),
		MergeCommitSHA: p.GetMergeCommitSHA(), MergedAt: p.GetMergedAt().Time, NodeID: p.GetNodeID(),
	}
	if am := p.AutoMerge; am != nil {
		out.AutoMerge = &AutoMerge{EnabledBy: am.GetEnabledBy().GetLogin(), Method: am.GetMergeMethod(),
			CommitTitle: am.GetCommitTitle(), CommitMessage: am.GetCommitMessage()}
	}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

// PullRequest returns pull request number of the access repository.
//
// https://docs.github.com/rest/pulls/pulls#get-a-pull-request
func (c *Client) PullRequest(ctx context.Context, number int) (PullRequest, error) {
	const route = "GET /repos/{owner}/{repo}/pulls/{pull_number}"
	p, _, err := c.gh.PullRequests.Get(withRoute(ctx, route), c.owner, c.repo, number)
	if err != nil {
		return PullRequest{}, wrap(route, err)
	}
	return FromGitHub(p), nil
}

// OpenPullRequests returns every open pull request (every page, 100 per page).
//
// https://docs.github.com/rest/pulls/pulls#list-pull-requests
func (c *Client) OpenPullRequests(ctx context.Context) ([]PullRequest, error) {
	ps, err := pages(ctx, "GET /repos/{owner}/{repo}/pulls", func(ctx context.Context, opt github.ListOptions) ([]*github.PullRequest, *github.Response, error) {
		return c.gh.PullRequests.List(ctx, c.owner, c.repo, &github.PullRequestListOptions{State: "open", ListOptions: opt})
	})
	if err != nil {
		return nil, err
	}
	out := make([]PullRequest, 0, len(ps))
	for _, p := range ps {
		out = append(out, FromGitHub(p))
	}
	return out, nil
}

// Reviews returns every review (every page), state upper-cased as REST writes it,
// grant.Review{ID, Reviewer (user.login), State, CommitSHA (commit_id), SubmittedAt}.
//
// https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request
func (c *Client) Reviews(ctx context.Context, number int) ([]grant.Review, error) {
	rs, err := pages(ctx, "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", func(ctx context.Context, opt github.ListOptions) ([]*github.PullRequestReview, *github.Response, error) {
		return c.gh.PullRequests.ListReviews(ctx, c.owner, c.repo, number, &opt)
	})
	if err != nil {
		return nil, err
	}
	out := make([]grant.Review, 0, len(rs))
	for _, r := range rs {
		out = append(out, grant.Review{
			ID: r.GetID(), Reviewer: r.GetUser().GetLogin(), State: grant.ReviewState(strings.ToUpper(r.GetState())),
			CommitSHA: r.GetCommitID(), SubmittedAt: r.GetSubmittedAt().Time,
		})
	}
	return out, nil
}

type commitsKey struct {
	number int
	head   string
}

// Commits returns the pull request's commits (every page) as grant.Commit: Author/Committer are
// the linked accounts' logins ("" when GitHub linked none); CoAuthors are resolved from the
// message's Co-authored-by trailers: a GitHub noreply address "ID+login@users.noreply.github.com"
// or "login@users.noreply.github.com" gives login; any other address gives "" (unknown — the
// decision core keeps such a change pending; fail closed). Cached per (number, headSHA): a head's
// commits never change. headSHA must be the pull request's current head; if the last commit
// returned is not headSHA, return an error (the pull request moved; evaluate again).
//
// https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request
func (c *Client) Commits(ctx context.Context, number int, headSHA string) ([]grant.Commit, error) {
	key := commitsKey{number, headSHA}
	c.mu.Lock()
	hit, ok := c.commits[key]
	c.mu.Unlock()
	if ok {
		return clone(hit), nil
	}
	const route = "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits"
	cs, err := pages(ctx, route, func(ctx context.Context, opt github.ListOptions) ([]*github.RepositoryCommit, *github.Response, error) {
		return c.gh.PullRequests.ListCommits(ctx, c.owner, c.repo, number, &opt)
	})
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 || cs[len(cs)-1].GetSHA() != headSHA {
		last := "none"
		if len(cs) > 0 {
			last = cs[len(cs)-1].GetSHA()
		}
		return nil, fmt.Errorf("%s: pull request #%d ends at commit %s, not at the head %s being evaluated (it moved, or has more commits than GitHub lists); evaluate it again",
			route, number, last, headSHA)
	}
	out := make([]grant.Commit, 0, len(cs))
	for _, rc := range cs {
		out = append(out, grant.Commit{
			SHA: rc.GetSHA(), Author: rc.GetAuthor().GetLogin(), Committer: rc.GetCommitter().GetLogin(),
			CoAuthors: CoAuthors(rc.GetCommit().GetMessage()),
		})
	}
	c.mu.Lock()
	c.commits[key] = out
	c.mu.Unlock()
	return clone(out), nil
}

// clone copies commits so a caller cannot change the cache.
func clone(cs []grant.Commit) []grant.Commit {
	out := make([]grant.Commit, len(cs))
	for i, cm := range cs {
		cm.CoAuthors = append([]string(nil), cm.CoAuthors...)
		out[i] = cm
	}
	return out
}

// Merge merges with merge_method "merge" (never squash/rebase), sha = headSHA, and
// commit_title/commit_message as given; returns the merge commit sha.
//
// A merge whose answer was lost (5xx, no response) is not sent again
// blindly: the pull request is read first, and a merge of headSHA by this
// App counts as done.
//
// https://docs.github.com/rest/pulls/pulls#merge-a-pull-request
func (c *Client) Merge(ctx context.Context, number int, headSHA, title, message string) (string, error) {
	const route = "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"
	merge := func() (string, error) {
		res, _, err := c.gh.PullRequests.Merge(withCreate(ctx, route), c.owner, c.repo, number, message,
			&github.PullRequestOptions{CommitTitle: title, SHA: headSHA, MergeMethod: "merge"})
		if err != nil {
			err = wrap(route, err)
			var ge *Error
			if errors.As(err, &ge) {
				switch ge.Status {
				case 405:
					return "", fmt.Errorf("merging #%d: %w: %s", number, ErrNotMergeable, ge.Message)
				case 409:
					return "", fmt.Errorf("merging #%d at %s: %w: %s", number, headSHA, ErrHeadChanged, ge.Message)
				}
			}
			return "", err
		}
		return res.GetSHA(), nil
	}
	find := func() (string, bool, error) {
		p, _, err := c.gh.PullRequests.Get(withRoute(ctx, "GET /repos/{owner}/{repo}/pulls/{pull_number}"), c.owner, c.repo, number)
		if err != nil {
			return "", false, wrap("GET /repos/{owner}/{repo}/pulls/{pull_number}", err)
		}
		if !p.GetMerged() {
			return "", false, nil
		}
		bot, err := c.bot(ctx)
		if err != nil {
			return "", false, err
		}
		if p.GetHead().GetSHA() != headSHA || !strings.EqualFold(p.GetMergedBy().GetLogin(), bot) {
			return "", false, fmt.Errorf("merging #%d: it was merged meanwhile at %s by %s, not by this App at %s; leave it to reconciliation",
				number, p.GetHead().GetSHA(), p.GetMergedBy().GetLogin(), headSHA)
		}
		return p.GetMergeCommitSHA(), true, nil
	}
	return createOnce(ctx, c, merge, find)
}

// createOnce runs create, and when its answer leaves its effect unknown
// (5xx, no response) waits, runs find to see whether it happened after
// all, and only then tries again, up to the retry budget: a write that
// must not happen twice.
func createOnce[T any](ctx context.Context, c *Client, create func() (T, error), find func() (T, bool, error)) (T, error) {
	var zero T
	for attempt := 1; ; attempt++ {
		v, err0 := create()
		if err0 == nil || !ambiguous(err0) || attempt >= c.retry.Attempts || ctx.Err() != nil {
			return v, err0
		}
		c.log.Warn("GitHub write answered unclearly; checking before trying again", logKeyErr, err0, logKeyAttempt, attempt)
		if err := sleep(ctx, c.tr.backoff(attempt)); err != nil {
			return zero, fmt.Errorf("waiting to check an unclear write (%v): %w", err0, err)
		}
		got, ok, ferr := find()
		if ferr != nil {
			return zero, ferr
		}
		if ok {
			return got, nil
		}
	}
}
