package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/webhook"
)

// accept turns a verified delivery into queued work. It only queues: the
// webhook is answered at once, and a full queue answers 503 so that GitHub
// (or an operator redelivering) can try again.
func (a *App) accept(ev webhook.Event) error {
	// The App's webhook secret is shared by every repository and
	// installation of the App: a delivery about another repository names
	// pull requests, heads and branches that mean nothing here.
	if (ev.Repo != "" && !strings.EqualFold(ev.Repo, a.gh.FullName())) ||
		(ev.Repo == "" && ev.Installation != 0 && ev.Installation != a.gh.InstallationID()) {
		a.log.Warn("ignoring a delivery for another repository or installation of the App", "delivery", ev.Delivery,
			"event", ev.Name, "repo", ev.Repo, "installation", ev.Installation)
		return nil
	}
	w := work{trigger: ev.Name + "." + ev.Action, delivery: ev.Delivery, received: ev.Received}
	if ev.Action == "" {
		w.trigger = ev.Name
	}
	switch ev.Name {
	case "pull_request":
		switch ev.Action {
		case "opened", "synchronize", "reopened", "edited", "ready_for_review", "converted_to_draft", "closed", "labeled", "unlabeled":
		default:
			return nil
		}
		if e, ok := ev.Payload.(*github.PullRequestEvent); ok && e.PullRequest != nil {
			pr := ghapi.FromGitHub(e.PullRequest)
			w.pr = &pr
		}
	case "pull_request_review":
		w.review = true
		// The review payload carries the pull request in its simple form,
		// which has all an evaluation reads: head, base, author, state,
		// draft, labels and the merge commit.
		if e, ok := ev.Payload.(*github.PullRequestReviewEvent); ok && e.PullRequest != nil {
			pr := ghapi.FromGitHub(e.PullRequest)
			w.pr = &pr
		}
	case "check_suite":
		if ev.Action != "requested" && ev.Action != "rerequested" {
			return nil
		}
	case "check_run":
		if ev.Action != "rerequested" {
			return nil
		}
	case "push":
		// Every push brings the mirror up to date at once, so that the
		// pull request events that follow a push find its head there.
		w.arrived = time.Now()
		if ev.Ref == "refs/heads/"+a.cfg.DefaultBranch {
			w.push = &pushInfo{before: ev.Before, after: ev.After}
		}
		return a.add(keyPush, w)
	case "installation", "installation_repositories":
		a.log.Info("installation changed; evaluating every open pull request", "action", ev.Action, "delivery", ev.Delivery)
		return a.add(keyResync, w)
	default:
		return nil
	}
	for _, n := range ev.PullRequests {
		if err := a.add(prKey(n), w); err != nil {
			return err
		}
	}
	return nil
}

// pushed handles pushes: the mirror follows, and when a push to the default
// branch changed what judges pull requests (CODEOWNERS, policies,
// templates, .gitattributes, the signing key), every open pull request is
// evaluated again.
//
// A push to the default branch queues a pass first: the pass fetches for
// itself, and the fetch here then shares the pass's when it started after
// the push arrived.
func (a *App) pushed(ctx context.Context, items []work) error {
	var defaults []work
	since := items[0].arrived
	for _, it := range items {
		if it.push != nil {
			defaults = append(defaults, it)
		}
		if it.arrived.Before(since) {
			since = it.arrived
		}
	}
	if a.cfg.Lifecycle != nil && len(defaults) > 0 {
		last := defaults[len(defaults)-1]
		a.enqueue(keyPass, work{trigger: "push", received: last.received, delivery: last.delivery, at: last.push.after})
	}
	if since.IsZero() {
		since = time.Now()
	}
	if err := a.cfg.Mirror.FetchSince(ctx, since); err != nil {
		return fmt.Errorf("fetching the access repository: %w", err)
	}
	if len(defaults) == 0 {
		return nil
	}
	before, after := defaults[0].push.before, defaults[len(defaults)-1].push.after
	governing := true
	err := a.cfg.Mirror.Read(ctx, func(r *history.Repo) error {
		if strings.Trim(before, "0") == "" {
			return nil // a new branch: everything changed
		}
		changes, err := r.Changes(ctx, before, after)
		if err != nil {
			return nil // a rewritten history: treat everything as changed
		}
		governing = false
		for _, c := range changes {
			if change.IsGoverning(c.Path) {
				governing = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !governing {
		return nil
	}
	a.log.Info("governing files changed on the default branch; evaluating every open pull request", "before", before, "after", after)
	prs, err := a.gh.OpenPullRequests(ctx)
	if err != nil {
		return fmt.Errorf("listing open pull requests: %w", err)
	}
	now := a.cfg.Now()
	for i := range prs {
		a.enqueue(prKey(prs[i].Number), work{trigger: "governance", received: now, pr: &prs[i]})
	}
	return nil
}
