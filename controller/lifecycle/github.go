package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/ghapi"
)

// FlagContext is the commit status context of a commit on the default
// branch bringing in a grant that is never applied.
const FlagContext = "jit/desired"

// NewGitHub adapts the App's GitHub client to a pass: records go to branch,
// created with a successful run of each of the required checks (a
// protected branch's required checks apply to the App's own pushes too).
func NewGitHub(c *ghapi.Client, branch string) GitHub {
	return &gitHub{c: c, branch: branch, checks: []string{explain.ValidateName, explain.ApprovalName}, merged: map[string]bool{}}
}

type gitHub struct {
	c      *ghapi.Client
	branch string
	checks []string

	mu     sync.Mutex
	merged map[string]bool // "number@commit" GitHub confirmed
}

func (g *gitHub) AuthorizedKeys(ctx context.Context, login string) ([]string, error) {
	return g.c.UserKeys(ctx, login)
}

func (g *gitHub) Comment(ctx context.Context, number int, body string) error {
	_, err := g.c.Comment(ctx, number, body)
	return err
}

func (g *gitHub) Record(ctx context.Context, at Tip, message func(parent string) (string, error)) (string, error) {
	if at.Commit == "" || at.Tree == "" {
		return g.c.WriteCommit(ctx, g.branch, g.checks, message)
	}
	return g.c.WriteCommitAt(ctx, g.branch, g.checks, at.Commit, at.Tree, message)
}

// Merged asks GitHub once per pull request and commit (answers are kept:
// a merge never changes).
func (g *gitHub) Merged(ctx context.Context, number int, commit string) error {
	key := fmt.Sprintf("%d@%s", number, commit)
	g.mu.Lock()
	ok := g.merged[key]
	g.mu.Unlock()
	if ok {
		return nil
	}
	pr, err := g.c.PullRequest(ctx, number)
	if err != nil {
		return fmt.Errorf("checking that pull request #%d merged as %s: %w", number, short(commit), err)
	}
	if !pr.Merged || pr.MergeCommitSHA != commit {
		return fmt.Errorf("%w: GitHub says pull request #%d is not merged as %s (merged %v, as %q); the grant is not applied", ErrNotTheMerge, number, short(commit), pr.Merged, pr.MergeCommitSHA)
	}
	g.mu.Lock()
	g.merged[key] = true
	g.mu.Unlock()
	return nil
}

// KnownMerge records that pull request number merged as commit: the App
// made that merge itself and GitHub answered with its sha.
func (g *gitHub) KnownMerge(number int, commit string) {
	g.mu.Lock()
	g.merged[fmt.Sprintf("%d@%s", number, commit)] = true
	g.mu.Unlock()
}

// ErrNotTheMerge means a decision's commit is not, on GitHub, the merge of
// the pull request it names.
var ErrNotTheMerge = errors.New("not the merge of its pull request")

func (g *gitHub) Flag(ctx context.Context, sha, description string) error {
	return g.c.CreateStatus(ctx, sha, ghapi.Status{Context: FlagContext, State: "failure", Description: description})
}

// Expire opens the expiry pull request (or finds the one an earlier pass
// opened), enables auto-merge on its head with the signed message, and
// posts the two required checks on that head, so that GitHub merges it as
// soon as they pass. A pull request GitHub would merge at once ("clean
// status") is merged through the REST API with the same head and message.
func (g *gitHub) Expire(ctx context.Context, r ExpiryRequest) (int, error) {
	base := r.Base
	if base == "" {
		r.BaseTree = ""
		var err error
		if base, err = g.c.BranchTip(ctx, g.branch); err != nil {
			return 0, err
		}
	}
	pr, err := g.c.OpenDeletionPR(ctx, ghapi.DeletionPR{
		Branch: ghapi.ExpireBranch(r.Grant), Base: g.branch, BaseSHA: base, BaseTree: r.BaseTree, Paths: []string{r.Path},
		CommitMessage: "Expire " + r.Grant, Title: r.Title, Body: r.Body,
	})
	if err != nil {
		return 0, err
	}
	if pr.Merged || pr.State != "open" {
		return pr.Number, nil
	}
	headline, body, err := r.Message(pr.HeadSHA)
	if err != nil {
		return pr.Number, err
	}
	if am := pr.AutoMerge; am != nil {
		// Auto-merge someone else enabled (another method, another
		// message) would merge without the signed expire record.
		bot, err := g.c.BotLogin(ctx)
		if err != nil {
			return pr.Number, err
		}
		if !strings.EqualFold(am.EnabledBy, bot) || !strings.EqualFold(am.Method, "merge") || am.CommitMessage != body {
			if err := g.c.DisableAutoMerge(ctx, pr.NodeID); err != nil {
				return pr.Number, fmt.Errorf("disabling auto-merge %s enabled on expiry pull request #%d: %w", am.EnabledBy, pr.Number, err)
			}
			pr.AutoMerge = nil
		}
	}
	if pr.AutoMerge == nil {
		err = g.c.EnableAutoMerge(ctx, ghapi.AutoMergeRequest{PullRequestID: pr.NodeID, ExpectedHeadOID: pr.HeadSHA, CommitHeadline: headline, CommitBody: body})
		switch {
		case errors.Is(err, ghapi.ErrCleanStatus):
			if _, err := g.c.Merge(ctx, pr.Number, pr.HeadSHA, headline, body); err != nil {
				return pr.Number, fmt.Errorf("merging expiry pull request #%d: %w", pr.Number, err)
			}
			return pr.Number, nil
		case err != nil:
			return pr.Number, fmt.Errorf("enabling auto-merge on expiry pull request #%d: %w", pr.Number, err)
		}
	}
	for _, c := range ExpiryChecks(r.Grant) {
		if _, err := g.c.PutCheckRun(ctx, CheckRun(pr.HeadSHA, c)); err != nil {
			return pr.Number, fmt.Errorf("posting %s on expiry pull request #%d: %w", c.Name, pr.Number, err)
		}
	}
	return pr.Number, nil
}

// ExpiryChecks are the two check runs of a genuine expiry pull request: it
// deletes one expired grant's file and nothing else, and only the
// controller wrote it.
func ExpiryChecks(grantID string) []explain.Check {
	return []explain.Check{
		{Name: explain.ValidateName, Status: "completed", Conclusion: "success",
			Title:   "Expiry of " + grantID,
			Summary: "This pull request deletes the file of an expired grant, and nothing else. jit opened it; its merge records the expiry."},
		{Name: explain.ApprovalName, Status: "completed", Conclusion: "success",
			Title:   "No approval needed: the grant has expired",
			Summary: "The grant's time is over and its resources are destroyed. jit merges this pull request on its own, as the record of the expiry. A push by anyone else to this branch stops that."},
	}
}

// CheckRun is c as a check run on head.
func CheckRun(head string, c explain.Check) ghapi.CheckRun {
	cr := ghapi.CheckRun{Name: c.Name, HeadSHA: head, Status: c.Status, Conclusion: c.Conclusion,
		Title: c.Title, Summary: c.Summary, Text: c.Text}
	for _, an := range c.Annotations {
		cr.Annotations = append(cr.Annotations, ghapi.Annotation{Path: an.Path, StartLine: an.StartLine, EndLine: an.EndLine,
			StartColumn: an.StartColumn, EndColumn: an.EndColumn, Level: an.Level, Title: an.Title, Message: an.Message})
	}
	return cr
}

// ExpiryGrant returns the grant id an expiry pull request's head branch
// names, and whether it is one.
func ExpiryGrant(headRef string) (string, bool) {
	id, ok := strings.CutPrefix(headRef, ghapi.ExpireBranchPrefix)
	return id, ok && id != ""
}
