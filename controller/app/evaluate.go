package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/mirror"
	"github.com/jitops/jit/controller/validate"
)

// Evaluator judges one pull request at its current head: validation over
// the mirror, evidence from GitHub, and grant.Decide. It posts nothing; the
// App and jit status share it so that both explain the same thing.
type Evaluator struct {
	GitHub        *ghapi.Client
	Mirror        *mirror.Mirror
	DefaultBranch string
	// CacheFor is how long team membership and permissions may be reused
	// when no approval on the head could lead to a merge.
	CacheFor time.Duration
	Now      func() time.Time
}

// Assessment is one evaluation of a pull request at one head.
type Assessment struct {
	PR ghapi.PullRequest
	// Base and DefaultTip are the revisions judged against.
	Base, DefaultTip string
	Report           validate.Report
	Reviews          []grant.Review
	Evidence         grant.Evidence
	Decision         grant.Decision
	// Decided is false when the pull request changes no grant (nothing for
	// jit to approve or merge).
	Decided bool
	// fresh is set when nothing the decision rests on came from a cache.
	fresh bool
	// untrusted is set by the App when its signing key is not one the
	// default branch's .github/jit-signers allows: it must not merge.
	untrusted bool
}

// Grants reports whether the pull request touches grants at all (so that
// jit comments and may merge).
func (as *Assessment) Grants() bool {
	return len(as.Report.Change.Grants) > 0 || len(as.Report.Grants) > 0
}

// ExplainPR is the pull request as the explanations name it.
func (as *Assessment) ExplainPR(defaultBranch string) explain.PullRequest {
	return explain.PullRequest{Number: as.PR.Number, Author: as.PR.Author, URL: as.PR.URL, HeadSHA: as.PR.HeadSHA,
		BaseRef: as.PR.BaseRef, DefaultBranch: defaultBranch, Draft: as.PR.Draft}
}

// Assess validates pr's change on the mirror and, when it changes grants,
// gathers the evidence and decides. fresh asks GitHub afresh for team
// membership and permissions (also done whenever an approval on the head
// exists, since a merge may follow).
func (e *Evaluator) Assess(ctx context.Context, pr ghapi.PullRequest, fresh bool) (*Assessment, error) {
	if pr.HeadSHA == "" {
		return nil, fmt.Errorf("pull request #%d has no head commit", pr.Number)
	}
	if err := e.Mirror.Ensure(ctx, pr.HeadSHA); err != nil {
		return nil, fmt.Errorf("head %s of pull request #%d: %w (it is evaluated again on its next event)", pr.HeadSHA, pr.Number, err)
	}
	as := &Assessment{PR: pr}
	err := e.Mirror.Read(ctx, func(r *history.Repo) error {
		tip, err := r.Resolve("refs/heads/" + e.DefaultBranch)
		if err != nil {
			return fmt.Errorf("the mirror has no default branch %s: %w", e.DefaultBranch, err)
		}
		as.DefaultTip, as.Base = tip, tip
		if pr.BaseRef != e.DefaultBranch {
			if b, err := r.Resolve("refs/heads/" + pr.BaseRef); err == nil {
				as.Base = b
			} else if pr.BaseSHA != "" {
				as.Base = pr.BaseSHA
			}
		}
		as.Report, err = validate.Change(ctx, validate.ChangeInput{Repo: r, Base: as.Base, Head: pr.HeadSHA,
			DefaultBranch: e.DefaultBranch, DefaultTip: tip, BaseRef: pr.BaseRef, Author: pr.Author})
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(as.Report.Change.Grants) == 0 && len(as.Report.Problems) == 0 {
		return as, nil
	}
	as.Decided = true
	now := time.Now()
	if e.Now != nil {
		now = e.Now()
	}
	if !as.Report.Valid || len(as.Report.Change.Grants) == 0 {
		as.Decision = grant.Decide(as.Report.Change, grant.Evidence{Author: pr.Author, HeadSHA: pr.HeadSHA}, now)
		as.fresh = true
		return as, nil
	}
	if as.Reviews, err = e.GitHub.Reviews(ctx, pr.Number); err != nil {
		return nil, fmt.Errorf("reading the reviews of pull request #%d: %w", pr.Number, err)
	}
	if as.Evidence, as.fresh, err = e.evidence(ctx, pr, as.Base, as.Report.Change, as.Reviews, fresh); err != nil {
		return nil, err
	}
	as.Decision = grant.Decide(as.Report.Change, as.Evidence, now)
	return as, nil
}

// evidence gathers what grant.Decide needs. Commits are always read (they
// say who may not approve); permissions and teams only when someone
// reviewed or a deletion may need no approval, and afresh whenever that
// could lead to a merge. It reports whether nothing came from a cache.
func (e *Evaluator) evidence(ctx context.Context, pr ghapi.PullRequest, base string, ch grant.Change, reviews []grant.Review, fresh bool) (grant.Evidence, bool, error) {
	ev := grant.Evidence{Author: pr.Author, BaseSHA: base, HeadSHA: pr.HeadSHA, Reviews: reviews,
		Teams: map[string][]string{}, Permissions: map[string]grant.Permission{}}
	var err error
	if ev.Commits, err = e.GitHub.Commits(ctx, pr.Number, pr.HeadSHA); err != nil {
		return ev, false, fmt.Errorf("reading the commits of pull request #%d: %w", pr.Number, err)
	}
	deletion := slices.ContainsFunc(ch.Grants, func(g grant.GrantChange) bool { return g.Kind == grant.Deleted })
	mayMerge := deletion || slices.ContainsFunc(reviews, func(r grant.Review) bool {
		return strings.EqualFold(string(r.State), string(grant.ReviewApproved)) && r.CommitSHA == pr.HeadSHA
	})
	if len(reviews) == 0 && !deletion {
		// Nothing can count: no permission or team can change the outcome.
		return ev, true, nil
	}
	maxAge := e.CacheFor
	if fresh || mayMerge {
		maxAge = 0
	}
	logins := []string{}
	if deletion {
		logins = append(logins, pr.Author)
	}
	for _, r := range reviews {
		if !slices.ContainsFunc(logins, func(l string) bool { return grant.SameLogin(l, r.Reviewer) }) {
			logins = append(logins, r.Reviewer)
		}
	}
	for _, l := range logins {
		p, err := e.GitHub.Permission(ctx, l, maxAge)
		if err != nil {
			return ev, false, fmt.Errorf("reading %s's permission on the repository: %w", l, err)
		}
		ev.Permissions[l] = p
	}
	for _, t := range teamsOf(ch) {
		org, slug, _ := strings.Cut(strings.TrimPrefix(t, "@"), "/")
		members, err := e.GitHub.TeamMembers(ctx, org, slug, maxAge)
		if err != nil {
			return ev, false, fmt.Errorf("reading the members of team %s: %w", t, err)
		}
		ev.Teams[t] = members
	}
	return ev, maxAge == 0, nil
}

// teamsOf lists every "@org/team" named by the owners or the policy
// approvers of the change's grants, once each (as written).
func teamsOf(ch grant.Change) []string {
	var out []string
	add := func(entry string) {
		if strings.HasPrefix(entry, "@") && strings.Contains(entry, "/") && !slices.ContainsFunc(out, func(t string) bool { return strings.EqualFold(t, entry) }) {
			out = append(out, entry)
		}
	}
	for _, g := range ch.Grants {
		for _, o := range g.Owners {
			add(o)
		}
		for _, set := range g.Requirements.ApproverSets {
			for _, o := range set {
				add(o)
			}
		}
	}
	return out
}

// logAttrs are the fields every log line about a pull request carries.
func logAttrs(pr ghapi.PullRequest, as *Assessment) []any {
	attrs := []any{slog.Int("pr", pr.Number), slog.String("head", pr.HeadSHA)}
	if as != nil {
		var ids []string
		for _, g := range as.Report.Grants {
			ids = append(ids, g.ID)
		}
		if len(ids) > 0 {
			attrs = append(attrs, slog.String("grant", strings.Join(ids, ",")))
		}
	}
	return attrs
}
