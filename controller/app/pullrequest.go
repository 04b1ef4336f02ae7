package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/lifecycle"
)

// maxRefusals is how many times GitHub may refuse (405) merging one head
// before jit stops trying on its own; the next push, review or resync
// tries again.
const maxRefusals = 3

// pullRequest handles one coalesced batch of events for a pull request.
func (a *App) pullRequest(ctx context.Context, key string, items []work) error {
	n, err := strconv.Atoi(strings.TrimPrefix(key, "pr:"))
	if err != nil {
		return fmt.Errorf("bad queue key %q", key)
	}
	var pr *ghapi.PullRequest
	review, heads := false, map[string]bool{}
	for _, it := range items {
		if it.pr != nil {
			pr = it.pr
			heads[it.pr.HeadSHA] = true
		}
		review = review || it.review
	}
	// Check events and internal retries carry no pull request, and items
	// that disagree on the head cannot say which is the newest (a resync's
	// list may be older than a push's event): ask.
	last := items[len(items)-1]
	if pr == nil || last.pr == nil || len(heads) > 1 {
		got, err := a.gh.PullRequest(ctx, n)
		if err != nil {
			return fmt.Errorf("reading pull request #%d: %w", n, err)
		}
		pr = &got
	}
	if pr.State != "open" {
		if pr.Merged && review {
			return a.breakGlassReviewed(ctx, *pr)
		}
		return nil
	}
	if id, ok := lifecycle.ExpiryGrant(pr.HeadRef); ok {
		return a.expiryPR(ctx, *pr, id)
	}
	as, err := a.evaluator().Assess(ctx, *pr, false)
	if err != nil {
		return err
	}
	if err := a.checkSigner(ctx, as); err != nil {
		return err
	}
	if err := a.post(ctx, as, items); err != nil {
		return err
	}
	if !as.Decided {
		return nil
	}
	a.m.Decisions.WithLabelValues(outcomeLabel(as)).Inc()
	a.log.Info("evaluated", append(logAttrs(*pr, as), "trigger", last.trigger, "delivery", last.delivery,
		"outcome", string(as.Decision.Outcome), "required", as.Decision.Required, "approvals", len(as.Decision.Approvals))...)
	if as.Decision.Outcome != grant.Approved || !as.Report.Valid || pr.Draft || as.untrusted {
		return nil
	}
	return a.merge(ctx, as, last.delivery)
}

func outcomeLabel(as *Assessment) string {
	if !as.Report.Valid {
		return "invalid"
	}
	return string(as.Decision.Outcome)
}

func (a *App) evaluator() *Evaluator {
	return &Evaluator{GitHub: a.gh, Mirror: a.cfg.Mirror, DefaultBranch: a.cfg.DefaultBranch, CacheFor: a.cfg.CacheFor, Now: a.cfg.Now}
}

// post shows the assessment: the two check runs on the head, and the
// sticky comment on a pull request that touches grants.
func (a *App) post(ctx context.Context, as *Assessment, items []work) error {
	epr := as.ExplainPR(a.cfg.DefaultBranch)
	v := explain.Validate(epr, as.Report.Problems, as.Report.Grants)
	if _, err := a.gh.PutCheckRun(ctx, lifecycle.CheckRun(as.PR.HeadSHA, v)); err != nil {
		return fmt.Errorf("posting %s on pull request #%d: %w", v.Name, as.PR.Number, err)
	}
	a.observeLatency(items)
	var ap explain.Check
	switch {
	case as.untrusted:
		ap = explain.Check{Name: explain.ApprovalName, Status: "completed", Conclusion: "failure",
			Title: "Approved, but jit's signing key is not in " + desired.SignersFile,
			Summary: fmt.Sprintf("The approvals hold, but the key jit serve signs decisions with is not listed for principal `jit` in `%s` "+
				"on the default branch at `%s`, so a merge would carry a decision nobody trusts and the grant would never be applied. "+
				"The operator must start jit serve with the key in `%s`, or change that file in its own reviewed pull request.",
				desired.SignersFile, as.DefaultTip, desired.SignersFile)}
	case as.Decided:
		ap = explain.Approval(epr, as.Report.Grants, as.Report.Change, as.Decision)
	default:
		ap = explain.Check{Name: explain.ApprovalName, Status: "completed", Conclusion: "success",
			Title:   "No grant changes: nothing for jit to approve",
			Summary: "This pull request changes no grant file, so jit neither approves nor merges it; GitHub's own review rules apply."}
	}
	if _, err := a.gh.PutCheckRun(ctx, lifecycle.CheckRun(as.PR.HeadSHA, ap)); err != nil {
		return fmt.Errorf("posting %s on pull request #%d: %w", ap.Name, as.PR.Number, err)
	}
	if !as.Grants() {
		return nil
	}
	body := explain.Comment(epr, as.Report.Grants, as.Report.Problems)
	if _, err := a.gh.Sticky(ctx, as.PR.Number, explain.CommentMarker, body); err != nil {
		return fmt.Errorf("updating the comment on pull request #%d: %w", as.PR.Number, err)
	}
	return nil
}

// observeLatency records the time from each webhook's arrival to its
// jit/validate check run.
func (a *App) observeLatency(items []work) {
	now := a.cfg.Now()
	for _, it := range items {
		if it.delivery != "" && !it.received.IsZero() {
			a.m.WebhookToCheck.Observe(now.Sub(it.received).Seconds())
		}
	}
}

// merge merges an approved pull request with its signed decision. It first
// brings the mirror up to date; when the default branch moved it judges the
// pull request again, with membership and permissions asked afresh.
func (a *App) merge(ctx context.Context, as *Assessment, delivery string) error {
	pr := as.PR
	refusalKey := fmt.Sprintf("%d@%s", pr.Number, pr.HeadSHA)
	a.mu.Lock()
	refused := a.refused[refusalKey]
	a.mu.Unlock()
	if refused >= maxRefusals {
		return nil
	}
	// A webhook's pull request is a snapshot, and deliveries come late or
	// out of order: GitHub merges into the base and state of now, so they
	// must be those that were judged.
	// The mirror's fetch (did the default branch move?) runs meanwhile.
	fetched := make(chan error, 1)
	go func() { fetched <- a.cfg.Mirror.Fetch(ctx) }()
	cur, err := a.gh.PullRequest(ctx, pr.Number)
	if err != nil {
		<-fetched
		return fmt.Errorf("reading pull request #%d before merging: %w", pr.Number, err)
	}
	if cur.State != "open" || cur.Draft || cur.HeadSHA != pr.HeadSHA || cur.BaseRef != pr.BaseRef || !grant.SameLogin(cur.Author, pr.Author) {
		a.log.Info("the pull request changed since the event judged; evaluating it again", append(logAttrs(pr, as),
			"state", cur.State, "draft", cur.Draft, "now_head", cur.HeadSHA, "base", pr.BaseRef, "now_base", cur.BaseRef)...)
		<-fetched
		a.enqueue(prKey(pr.Number), work{trigger: "stale", received: a.cfg.Now()})
		return nil
	}
	pr.Labels = cur.Labels
	as.PR.Labels = cur.Labels
	if err := <-fetched; err != nil {
		return fmt.Errorf("fetching the access repository before merging #%d: %w", pr.Number, err)
	}
	ev := a.evaluator()
	tip, err := ev.defaultTip(ctx)
	if err != nil {
		return err
	}
	if tip != as.DefaultTip || !as.freshEvidence() {
		fresh, err := ev.Assess(ctx, pr, true)
		if err != nil {
			return err
		}
		if err := a.checkSigner(ctx, fresh); err != nil {
			return err
		}
		if fresh.Decision.Outcome != grant.Approved || !fresh.Report.Valid || fresh.untrusted {
			a.log.Info("no longer approved on a fresh look; not merging", logAttrs(pr, fresh)...)
			return a.post(ctx, fresh, nil)
		}
		as = fresh
	}
	rec, err := newRecord(as, a.gh.ServerNow())
	if err != nil {
		a.m.Merges.WithLabelValues("error").Inc()
		return fmt.Errorf("writing the decision for pull request #%d: %w", pr.Number, err)
	}
	message, err := rec.message(a.cfg.Signer)
	if err != nil {
		a.m.Merges.WithLabelValues("error").Inc()
		return err
	}
	if rec.breakGlass && !slices.Contains(pr.Labels, BreakGlassLabel) {
		if err := a.gh.AddLabel(ctx, pr.Number, BreakGlassLabel); err != nil {
			return fmt.Errorf("labelling break-glass pull request #%d: %w", pr.Number, err)
		}
	}
	sha, err := a.gh.Merge(ctx, pr.Number, pr.HeadSHA, rec.title, message)
	switch {
	case errors.Is(err, ghapi.ErrHeadChanged):
		a.m.Merges.WithLabelValues("head-changed").Inc()
		a.log.Info("the head moved before the merge; evaluating again", logAttrs(pr, as)...)
		a.enqueue(prKey(pr.Number), work{trigger: "head-changed", received: a.cfg.Now()})
		return nil
	case errors.Is(err, ghapi.ErrNotMergeable):
		a.m.Merges.WithLabelValues("not-mergeable").Inc()
		a.mu.Lock()
		a.refused[refusalKey]++
		n := a.refused[refusalKey]
		a.mu.Unlock()
		a.log.Warn("GitHub refused the merge", append(logAttrs(pr, as), "err", err, "attempt", n)...)
		if n < maxRefusals {
			a.busy.Add(1)
			time.AfterFunc(time.Duration(n)*time.Second, func() {
				defer a.busy.Add(-1)
				a.enqueue(prKey(pr.Number), work{trigger: "merge-refused", received: a.cfg.Now()})
			})
		}
		return nil
	case err != nil:
		a.m.Merges.WithLabelValues("error").Inc()
		return fmt.Errorf("merging pull request #%d: %w", pr.Number, err)
	}
	a.m.Merges.WithLabelValues("merged").Inc()
	if a.cfg.Lifecycle != nil {
		// Apply at once: the merge's push webhook comes later, and finds
		// the merge settled.
		a.cfg.Lifecycle.KnownMerge(pr.Number, sha)
		a.enqueue(keyPass, work{trigger: "merge", received: a.cfg.Now(), delivery: delivery, at: sha})
	}
	a.log.Info("merged", append(logAttrs(pr, as), "delivery", delivery, "merge", sha, "approved_by", strings.Join(as.Decision.ApprovedBy(), ","),
		"break_glass", rec.breakGlass)...)
	return nil
}

// freshEvidence reports whether the assessment asked GitHub afresh for
// everything a merge depends on.
func (as *Assessment) freshEvidence() bool { return as.fresh }

// defaultTip resolves the default branch's tip in the mirror.
func (e *Evaluator) defaultTip(ctx context.Context) (string, error) {
	var tip string
	err := e.Mirror.Read(ctx, func(r *history.Repo) error {
		var err error
		tip, err = r.Resolve("refs/heads/" + e.DefaultBranch)
		return err
	})
	return tip, err
}

// checkSigner marks an approved assessment untrusted when the App's signing
// key is not one .github/jit-signers allows at the default tip judged
// against: the desired-state reader verifies a merge's decision with the
// key of its first parent, so such a merge would never be applied.
func (a *App) checkSigner(ctx context.Context, as *Assessment) error {
	if !as.Decided || as.Decision.Outcome != grant.Approved || !as.Report.Valid {
		return nil
	}
	probe, err := a.keyProbe(as.DefaultTip)
	if err != nil {
		return err
	}
	var problem error
	err = a.cfg.Mirror.Read(ctx, func(r *history.Repo) error {
		problem = verifyKeyAt(r, as.DefaultTip, probe)
		return nil
	})
	if err != nil {
		return err
	}
	if problem != nil {
		as.untrusted = true
		a.m.Errors.WithLabelValues("signing-key").Inc()
		a.log.Error("the signing key is not trusted by the default branch; not merging until the operator fixes it",
			append(logAttrs(as.PR, as), "file", desired.SignersFile, "default_tip", as.DefaultTip, "err", problem)...)
	}
	return nil
}
