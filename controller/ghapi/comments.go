package ghapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
)

// sticky is what this process knows of its marked comment on one issue.
type sticky struct {
	listed bool
	id     int64
	body   string
}

// Sticky makes exactly one comment on issue/pull request number carry marker (an HTML comment
// like "<!-- jit:summary -->" that body must contain): the first call per number lists the
// comments (every page) to find the App's own comment with the marker; then edits it only when
// body differs, or creates it. A create that failed with no clear answer (5xx, network) lists
// again before trying again, so a retry never makes a second comment. Returns the comment id.
//
// Only comments written by the App's own bot account count: a comment
// anyone else writes with the marker is never edited.
//
// https://docs.github.com/rest/issues/comments
func (c *Client) Sticky(ctx context.Context, number int, marker, body string) (int64, error) {
	if marker == "" || !strings.Contains(body, marker) {
		return 0, fmt.Errorf("sticky comment on #%d: the body must contain the marker %q", number, marker)
	}
	unlock := c.prLocks.lock(number)
	defer unlock()
	key := stickyKey{number, marker}
	c.mu.Lock()
	st := c.stickies[key]
	if st == nil {
		st = &sticky{}
		c.stickies[key] = st
	}
	cur := *st
	c.mu.Unlock()
	if !cur.listed {
		id, old, err := c.findSticky(ctx, number, marker)
		if err != nil {
			return 0, err
		}
		cur = sticky{listed: true, id: id, body: old}
	}
	var err error
	switch {
	case cur.id != 0 && cur.body == body:
	case cur.id != 0:
		const route = "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"
		_, _, err = c.gh.Issues.EditComment(withRoute(ctx, route), c.owner, c.repo, cur.id, &github.IssueComment{Body: &body})
		err = wrap(route, err)
	default:
		cur.id, err = c.createSticky(ctx, number, marker, body)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		// Unknown state: list again next time.
		*st = sticky{}
		return 0, err
	}
	cur.body = body
	*st = cur
	return cur.id, nil
}

type stickyKey struct {
	number int
	marker string
}

// findSticky lists the comments on number and returns the App's own one
// carrying marker (the oldest, if several), or id 0.
func (c *Client) findSticky(ctx context.Context, number int, marker string) (int64, string, error) {
	bot, err := c.bot(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("finding the App's own comments: %w", err)
	}
	cs, err := pages(ctx, "GET /repos/{owner}/{repo}/issues/{issue_number}/comments", func(ctx context.Context, opt github.ListOptions) ([]*github.IssueComment, *github.Response, error) {
		return c.gh.Issues.ListComments(ctx, c.owner, c.repo, number, &github.IssueListCommentsOptions{ListOptions: opt})
	})
	if err != nil {
		return 0, "", fmt.Errorf("listing the comments on #%d: %w", number, err)
	}
	for _, cm := range cs {
		if strings.EqualFold(cm.GetUser().GetLogin(), bot) && strings.Contains(cm.GetBody(), marker) {
			return cm.GetID(), cm.GetBody(), nil
		}
	}
	return 0, "", nil
}

func (c *Client) createSticky(ctx context.Context, number int, marker, body string) (int64, error) {
	const route = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
	create := func() (int64, error) {
		cm, _, err := c.gh.Issues.CreateComment(withCreate(ctx, route), c.owner, c.repo, number, &github.IssueComment{Body: &body})
		if err != nil {
			return 0, wrap(route, err)
		}
		return cm.GetID(), nil
	}
	find := func() (int64, bool, error) {
		id, old, err := c.findSticky(ctx, number, marker)
		if err != nil || id == 0 {
			return 0, false, err
		}
		if old != body {
			// Ours but older content: make it current.
			const edit = "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"
			if _, _, err := c.gh.Issues.EditComment(withRoute(ctx, edit), c.owner, c.repo, id, &github.IssueComment{Body: &body}); err != nil {
				return 0, false, wrap(edit, err)
			}
		}
		return id, true, nil
	}
	return createOnce(ctx, c, create, find)
}

// AddLabel adds label to issue/pull request number (GitHub creates the
// label when the repository has none of that name).
//
// https://docs.github.com/rest/issues/labels#add-labels-to-an-issue
func (c *Client) AddLabel(ctx context.Context, number int, label string) error {
	const route = "POST /repos/{owner}/{repo}/issues/{issue_number}/labels"
	_, _, err := c.gh.Issues.AddLabelsToIssue(withRoute(ctx, route), c.owner, c.repo, number, []string{label})
	if err != nil {
		return fmt.Errorf("labelling #%d %q: %w", number, label, wrap(route, err))
	}
	return nil
}
