package ghapi

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

// Status is a commit status as the App sets it.
type Status struct {
	Context     string // the status's name, e.g. "jit/trust"; required
	State       string // "error", "failure", "pending" or "success"
	Description string // cut to GitHub's 140 characters, ending in "…" when cut
	TargetURL   string // "" or an absolute http(s) URL
}

// maxStatusDescription is the most characters GitHub keeps in a status's description.
const maxStatusDescription = 140

// statusStates are the states GitHub accepts for a commit status.
var statusStates = map[string]bool{"error": true, "failure": true, "pending": true, "success": true}

// CreateStatus sets commit status s on commit sha of the access repository (POST
// statuses/{sha}). It is how a commit on the default branch that adds a grant without a verified
// decision is flagged. s is checked before any request: Context set, State one of error,
// failure, pending, success, TargetURL empty or absolute http(s), sha 40 hex digits; a
// Description longer than GitHub's 140 characters is cut (by characters, not bytes) to 139
// and "…". Setting the same status again is harmless (GitHub shows the latest per context), so
// the request is retried like a read.
//
// https://docs.github.com/rest/commits/statuses#create-a-commit-status
func (c *Client) CreateStatus(ctx context.Context, sha string, s Status) error {
	if err := checkStatus(sha, s); err != nil {
		return err
	}
	desc := s.Description
	if utf8.RuneCountInString(desc) > maxStatusDescription {
		desc = string([]rune(desc)[:maxStatusDescription-1]) + "…"
	}
	st := &github.RepoStatus{State: &s.State, Context: &s.Context, Description: &desc}
	if s.TargetURL != "" {
		st.TargetURL = &s.TargetURL
	}
	const route = "POST /repos/{owner}/{repo}/statuses/{sha}"
	if _, _, err := c.gh.Repositories.CreateStatus(withRoute(ctx, route), c.owner, c.repo, sha, st); err != nil {
		return fmt.Errorf("setting status %s=%s on %s: %w", s.Context, s.State, sha, wrap(route, err))
	}
	return nil
}

// checkStatus says what is wrong with a status before it is sent.
func checkStatus(sha string, s Status) error {
	switch {
	case !isSHA(sha):
		return fmt.Errorf("setting a commit status: sha %q is not 40 lower-case hex digits; give the full commit sha", sha)
	case s.Context == "":
		return fmt.Errorf("setting a commit status on %s: Status.Context is empty; name the status, e.g. jit/trust", sha)
	case !statusStates[s.State]:
		return fmt.Errorf("setting status %s on %s: Status.State %q is none of error, failure, pending, success", s.Context, sha, s.State)
	}
	if s.TargetURL != "" {
		u, err := url.Parse(s.TargetURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("setting status %s on %s: Status.TargetURL %q is not an absolute http(s) URL; give one or leave it empty", s.Context, sha, s.TargetURL)
		}
	}
	return nil
}

// Comment adds a new comment with body to issue or pull request number and returns its id. It
// is not sticky: every call with a different body makes another comment. body must carry a
// marker unique to what it says (the caller's, e.g. "<!-- jit:credentials prod/db/x 3 -->"),
// because a create whose answer was lost (5xx, no response) is never sent again blindly: the
// comments are listed first, and the App's own comment with exactly this body counts as made.
// A call after such a lost answer failed for good looks first too, so a caller's own retry
// within this process never posts twice either.
//
// https://docs.github.com/rest/issues/comments#create-an-issue-comment
func (c *Client) Comment(ctx context.Context, number int, body string) (int64, error) {
	if strings.TrimSpace(body) == "" {
		return 0, fmt.Errorf("commenting on #%d: the body is empty", number)
	}
	unlock := c.prLocks.lock(number)
	defer unlock()
	key := unsureKey(number, body)
	find := func() (int64, bool, error) {
		id, err := c.findComment(ctx, number, body)
		return id, id != 0, err
	}
	c.mu.Lock()
	_, unsure := c.stickies[key]
	c.mu.Unlock()
	if unsure {
		id, ok, err := find()
		if err != nil {
			return 0, err
		}
		if ok {
			c.settle(key)
			return id, nil
		}
	}
	const route = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
	id, err := createOnce(ctx, c, func() (int64, error) {
		cm, _, err := c.gh.Issues.CreateComment(withCreate(ctx, route), c.owner, c.repo, number, &github.IssueComment{Body: &body})
		if err != nil {
			return 0, wrap(route, err)
		}
		return cm.GetID(), nil
	}, find)
	if err != nil {
		if ambiguous(err) {
			c.mu.Lock()
			c.stickies[key] = &sticky{}
			c.mu.Unlock()
		}
		return 0, fmt.Errorf("commenting on #%d: %w", number, err)
	}
	c.settle(key)
	return id, nil
}

// unsureKey is where Comment notes, among the sticky comments' state, that
// a create of body on number had an unknown outcome (a marker never starts
// with a NUL byte, so the two never meet).
func unsureKey(number int, body string) stickyKey {
	return stickyKey{number: number, marker: "\x00comment\x00" + body}
}

// settle forgets that a comment's create had an unknown outcome.
func (c *Client) settle(key stickyKey) {
	c.mu.Lock()
	delete(c.stickies, key)
	c.mu.Unlock()
}

// findComment returns the id of the App's own comment on number whose body
// is exactly body (the oldest, if several), or 0.
func (c *Client) findComment(ctx context.Context, number int, body string) (int64, error) {
	bot, err := c.bot(ctx)
	if err != nil {
		return 0, fmt.Errorf("finding the App's own comments: %w", err)
	}
	cs, err := pages(ctx, "GET /repos/{owner}/{repo}/issues/{issue_number}/comments", func(ctx context.Context, opt github.ListOptions) ([]*github.IssueComment, *github.Response, error) {
		return c.gh.Issues.ListComments(ctx, c.owner, c.repo, number, &github.IssueListCommentsOptions{ListOptions: opt})
	})
	if err != nil {
		return 0, fmt.Errorf("listing the comments on #%d: %w", number, err)
	}
	for _, cm := range cs {
		if strings.EqualFold(cm.GetUser().GetLogin(), bot) && cm.GetBody() == body {
			return cm.GetID(), nil
		}
	}
	return 0, nil
}
