package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/trailer"
	"github.com/jitops/jit/controller/validate"
)

// breakGlassReviewed records an eligible review of a merged pull request
// whose signed decision is break-glass as a signed controller commit (Jit-Event:
// break-glass-reviewed) on the default branch, once per merge. The review
// is judged by the rules as they were when the grant merged: the change
// between the merge's first parent and the approved head, CODEOWNERS and
// policies of that first parent, reviews on the approved head only.
func (a *App) breakGlassReviewed(ctx context.Context, pr ghapi.PullRequest) error {
	if pr.MergeCommitSHA == "" {
		return nil
	}
	m := a.cfg.Mirror
	if !m.Has(ctx, pr.MergeCommitSHA) {
		if err := m.Fetch(ctx); err != nil {
			return fmt.Errorf("fetching the access repository: %w", err)
		}
	}
	var (
		report   validate.Report
		ids      []string
		recorded bool
		base     string
	)
	err := m.Read(ctx, func(r *history.Repo) error {
		mc, err := r.CommitInfo(pr.MergeCommitSHA)
		if err != nil {
			return fmt.Errorf("reading merge %s of pull request #%d: %w", pr.MergeCommitSHA, pr.Number, err)
		}
		if len(mc.Parents) != 2 || mc.Parents[1] != pr.HeadSHA {
			return fmt.Errorf("merge %s of pull request #%d is not a merge of its head %s; not recording a review", pr.MergeCommitSHA, pr.Number, pr.HeadSHA)
		}
		base = mc.Parents[0]
		// Only the merge's own signed decision says it was break-glass (a
		// label can be added or removed by anyone who triages).
		if !signedBreakGlass(r, mc) {
			return nil
		}
		report, err = validate.Change(ctx, validate.ChangeInput{Repo: r, Base: base, Head: pr.HeadSHA,
			DefaultBranch: a.cfg.DefaultBranch, DefaultTip: base, BaseRef: pr.BaseRef, Author: pr.Author})
		if err != nil {
			return err
		}
		for _, g := range report.Change.Grants {
			if g.BreakGlass && g.Kind == grant.Added {
				ids = append(ids, g.ID)
			}
		}
		tip, err := r.Resolve("refs/heads/" + a.cfg.DefaultBranch)
		if err != nil {
			return err
		}
		recorded, err = reviewRecorded(ctx, r, tip, pr.MergeCommitSHA, ids)
		return err
	})
	if err != nil || len(ids) == 0 || recorded {
		return err
	}
	reviews, err := a.gh.Reviews(ctx, pr.Number)
	if err != nil {
		return fmt.Errorf("reading the reviews of pull request #%d: %w", pr.Number, err)
	}
	ev, _, err := a.evaluator().evidence(ctx, pr, base, report.Change, reviews, true)
	if err != nil {
		return err
	}
	d := grant.Decide(report.Change, ev, a.cfg.Now())
	var by []string
	for _, ap := range d.Approvals {
		by = append(by, ap.Login)
	}
	if len(by) == 0 {
		a.log.Info("break-glass review does not count yet", append(logAttrs(pr, nil), "grant", strings.Join(ids, ","))...)
		return nil
	}
	sha, err := a.gh.WriteCommit(ctx, a.cfg.DefaultBranch, []string{explain.ValidateName, explain.ApprovalName}, func(parent string) (string, error) {
		e := trailer.Event{Kind: trailer.BreakGlassReviewed, Grants: ids, ReviewedBy: by, Parent: parent}
		ts, err := e.Trailers()
		if err != nil {
			return "", err
		}
		signed, err := trailer.Sign(ts, a.cfg.Signer)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Break-glass grant %s reviewed by %s\n\nPull request #%d, merged as %s.\n\n%s",
			strings.Join(ids, ", "), strings.Join(by, ", "), pr.Number, pr.MergeCommitSHA, trailer.Format(signed)), nil
	})
	if err != nil {
		return fmt.Errorf("recording the break-glass review of pull request #%d: %w", pr.Number, err)
	}
	a.log.Info("break-glass review recorded", append(logAttrs(pr, nil), "grant", strings.Join(ids, ","), "reviewed_by", strings.Join(by, ","), "commit", sha)...)
	return nil
}

// reviewRecorded reports whether a signed break-glass-reviewed record for
// every id already follows merge on the default branch's first-parent
// history.
func reviewRecorded(ctx context.Context, r *history.Repo, tip, merge string, ids []string) (bool, error) {
	left := slices.Clone(ids)
	err := r.FirstParentChanges(ctx, tip, func(c history.Commit, _ []history.Change) bool {
		if c.Hash == merge {
			return false
		}
		ts, err := trailer.Parse(c.Message)
		if err != nil || !trailer.IsEvent(ts) {
			return true
		}
		e, err := trailer.EventFrom(ts)
		if err != nil || e.Kind != trailer.BreakGlassReviewed || len(c.Parents) == 0 || e.Parent != c.Parents[0] {
			return true
		}
		// Anyone whose commit lands on the default branch can write these
		// trailers: only a record signed with the key of its first parent
		// is the App's.
		signers, err := signersAt(r, c.Parents[0])
		if err != nil || trailer.Verify(ts, signers) != nil {
			return true
		}
		left = slices.DeleteFunc(left, func(id string) bool { return slices.Contains(e.Grants, id) })
		return len(left) > 0
	})
	return len(left) == 0, err
}

// signersAt reads the allowed signers that .github/jit-signers held at
// commit.
func signersAt(r *history.Repo, commit string) (trailer.AllowedSigners, error) {
	tree, err := r.FS(commit)
	if err != nil {
		return nil, err
	}
	return desired.Signers(tree, commit)
}

// signedBreakGlass reports whether merge carries the App's signed decision
// with Jit-Break-Glass: true.
func signedBreakGlass(r *history.Repo, merge history.Commit) bool {
	ts, err := trailer.Parse(merge.Message)
	if err != nil || len(ts) == 0 || trailer.IsEvent(ts) {
		return false
	}
	d, err := trailer.DecisionFrom(ts)
	if err != nil || !d.BreakGlass || d.Head != merge.Parents[1] {
		return false
	}
	signers, err := signersAt(r, merge.Parents[0])
	return err == nil && trailer.Verify(ts, signers) == nil
}
