package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/lifecycle"
)

// expiryPR judges a pull request from a jit/expire/ branch. The App never
// merges one itself: GitHub's auto-merge does, once both checks pass. Both
// pass only for a genuine expiry: opened by the App from a branch of this
// repository, every commit the App's, deleting exactly the file of one
// verified grant that has expired, and nothing else. Anything else (a push
// by someone else to the branch, a look-alike branch) fails both checks and
// has auto-merge disabled.
func (a *App) expiryPR(ctx context.Context, pr ghapi.PullRequest, id string) error {
	why, err := a.notGenuineExpiry(ctx, pr, id)
	if err != nil {
		return err
	}
	checks := lifecycle.ExpiryChecks(id)
	if why != "" {
		// A late event about an expiry that has merged since (its grant is
		// then gone from the branch) or moved on is no reason to fail it.
		fresh, err := a.gh.PullRequest(ctx, pr.Number)
		if err != nil {
			return fmt.Errorf("reading pull request #%d: %w", pr.Number, err)
		}
		if fresh.State != "open" || fresh.HeadSHA != pr.HeadSHA {
			return nil
		}
		pr = fresh
		a.log.Warn("an expiry pull request is not genuine; auto-merge refused", "pull_request", pr.Number, "grant", id, "why", why)
		for i := range checks {
			checks[i].Conclusion = "failure"
			checks[i].Title = "Not a genuine expiry: jit will not merge this"
			checks[i].Summary = "Only a pull request jit opened, from a jit/expire/ branch of this repository, with only jit's commits, deleting exactly the file of one expired grant, is merged as an expiry. " +
				"This one is not: " + why + ". Close it; jit opens the expiry pull request again if the grant is still on the default branch."
		}
		if pr.AutoMerge != nil {
			if err := a.gh.DisableAutoMerge(ctx, pr.NodeID); err != nil {
				return fmt.Errorf("disabling auto-merge on pull request #%d: %w", pr.Number, err)
			}
		}
	}
	for _, c := range checks {
		if _, err := a.gh.PutCheckRun(ctx, lifecycle.CheckRun(pr.HeadSHA, c)); err != nil {
			return fmt.Errorf("posting %s on pull request #%d: %w", c.Name, pr.Number, err)
		}
	}
	return nil
}

// notGenuineExpiry says why pr is not a genuine expiry of grant id ("" when
// it is).
func (a *App) notGenuineExpiry(ctx context.Context, pr ghapi.PullRequest, id string) (string, error) {
	bot, err := a.gh.BotLogin(ctx)
	if err != nil {
		return "", err
	}
	switch {
	case !strings.EqualFold(pr.Author, bot):
		return fmt.Sprintf("it was opened by %s, not by jit (%s)", pr.Author, bot), nil
	case !strings.EqualFold(pr.HeadRepo, a.gh.FullName()):
		return "its branch is in another repository", nil
	case pr.BaseRef != a.cfg.DefaultBranch:
		return "it does not target the default branch", nil
	}
	commits, err := a.gh.Commits(ctx, pr.Number, pr.HeadSHA)
	if err != nil {
		return "", err
	}
	for _, c := range commits {
		if !strings.EqualFold(c.Author, bot) || !strings.EqualFold(c.Committer, bot) || len(c.CoAuthors) > 0 {
			return fmt.Sprintf("commit %s is not jit's alone", c.SHA), nil
		}
	}
	if err := a.cfg.Mirror.Ensure(ctx, pr.HeadSHA); err != nil {
		return "", err
	}
	var why string
	err = a.cfg.Mirror.Read(ctx, func(r *history.Repo) error {
		tip, err := r.Resolve("refs/heads/" + a.cfg.DefaultBranch)
		if err != nil {
			return err
		}
		base, err := r.MergeBase(ctx, tip, pr.HeadSHA)
		if err != nil {
			return err
		}
		changes, err := r.Changes(ctx, base, pr.HeadSHA)
		if err != nil {
			return err
		}
		file := "access/" + id + ".yaml"
		if len(changes) != 1 || changes[0].Path != file || changes[0].Action != history.Deleted {
			why = "it changes more or other than deleting " + file
			return nil
		}
		st, err := desired.Read(ctx, desired.FromHistory(r), tip)
		if err != nil {
			return err
		}
		for _, g := range st.Grants {
			if g.Request.ID == id {
				if a.cfg.Now().Before(g.ExpiresAt) {
					why = "the grant has not expired (it ends at " + g.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z") + ")"
				}
				return nil
			}
		}
		why = "the default branch has no verified grant " + id
		return nil
	})
	return why, err
}
