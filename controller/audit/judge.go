package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// judge settles what only the whole history can say: revocation and
// cleanup, expiry without revocation, break-glass reviews and renewals.
func (r *reader) judge(opts Options) {
	now := r.trail.Now
	for _, s := range r.trail.Stories {
		switch {
		case !s.revoked.IsZero() && !s.revokeFailed.After(s.revoked):
			s.Cleanup = CleanupRevoked
			s.RevokedAt = s.revoked
		case !s.revokeFailed.IsZero():
			s.Cleanup = CleanupFailed
			s.RevokedAt = s.expiryMerge
		default:
			s.RevokedAt = s.expiryMerge
		}
		if s.Ending == Open && s.Approved && !s.ExpiresAt.IsZero() && !s.ExpiresAt.After(now) {
			s.Ending = Expired
		}
		r.judgeCleanup(s, now)
		r.judgeReview(s, now)
	}
	run, gap := opts.RenewalRun, opts.RenewalGap
	if run == 0 {
		run = DefaultRenewalRun
	}
	if gap == 0 {
		gap = DefaultRenewalGap
	}
	if run > 0 {
		r.judgeRenewals(run, gap)
	}
}

// judgeCleanup flags a grant that should have been destroyed by now but has
// no revoked record after its last revoke-failed one.
func (r *reader) judgeCleanup(s *Story, now time.Time) {
	if s.Cleanup == CleanupFailed {
		c := lastStep(s, "revoke-failed")
		r.add(&Anomaly{Kind: RevokeFailed, Grant: s.ID, Commit: c, Message: fmt.Sprintf(
			"destroying grant %s failed at %s and no revoked record follows; its resources may still exist: run jit reconcile and check the target", s.ID, rfc3339(s.revokeFailed))})
		return
	}
	if s.Cleanup == CleanupRevoked || !(s.Approved || !s.ActivatedAt.IsZero()) {
		return
	}
	var due time.Time
	var commit string
	switch {
	case !s.expiryMerge.IsZero():
		due, commit = s.expiryMerge, lastStep(s, "expire")
	case !s.ExpiresAt.IsZero() && !s.ExpiresAt.After(now):
		due, commit = s.ExpiresAt, s.MergeCommit
	default:
		return
	}
	r.add(&Anomaly{Kind: NotRevoked, Grant: s.ID, Commit: commit, Message: fmt.Sprintf(
		"grant %s was due to end at %s but no revoked record follows by %s: nothing shows its resources were destroyed", s.ID, rfc3339(due), rfc3339(now))})
}

// judgeReview flags a break-glass grant without a review within its
// policies' review window, counted from activation (or the merge).
func (r *reader) judgeReview(s *Story, now time.Time) {
	if !s.BreakGlass || !s.Approved {
		return
	}
	start := s.ActivatedAt
	if start.IsZero() {
		start = s.MergedAt
	}
	deadline := start.Add(s.reviewWindow)
	if s.reviewWindow == 0 {
		deadline = now // no window known: any review in the history counts
	}
	switch {
	case !s.ReviewedAt.IsZero() && !s.ReviewedAt.After(deadline):
		return
	case s.ReviewedAt.IsZero() && deadline.After(now):
		return // still inside the window
	}
	msg := fmt.Sprintf("break-glass grant %s has no break-glass-reviewed record by %s (review window %s from %s)", s.ID, rfc3339(deadline), s.reviewWindow, rfc3339(start))
	if !s.ReviewedAt.IsZero() {
		msg = fmt.Sprintf("break-glass grant %s was reviewed at %s, after the deadline %s (review window %s from %s)", s.ID, rfc3339(s.ReviewedAt), rfc3339(deadline), s.reviewWindow, rfc3339(start))
	}
	r.add(&Anomaly{Kind: Unreviewed, Grant: s.ID, Commit: s.MergeCommit, Message: msg})
}

// judgeRenewals flags run or more approved grants for the same requester,
// template and scope, each starting less than gap after the previous one
// ended: access that was in effect standing.
func (r *reader) judgeRenewals(run int, gap time.Duration) {
	groups := map[string][]*Story{}
	var keys []string
	for _, s := range r.trail.Stories {
		if !s.Approved {
			continue
		}
		scope, _ := json.Marshal(s.Scope) // map keys are sorted
		k := strings.ToLower(s.Requester) + "\x00" + s.Template + "\x00" + string(scope)
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], s)
	}
	for _, k := range keys {
		g := groups[k]
		slices.SortStableFunc(g, func(a, b *Story) int { return start(a).Compare(start(b)) })
		chain := []*Story{g[0]}
		for _, s := range g[1:] {
			prev := chain[len(chain)-1]
			if end := end(prev); !end.IsZero() && start(s).Sub(end) < gap {
				chain = append(chain, s)
			} else {
				chain = []*Story{s}
			}
			if len(chain) == run {
				ids := make([]string, len(chain))
				for i, c := range chain {
					ids[i] = c.ID
				}
				r.add(&Anomaly{Kind: Standing, Grant: s.ID, Commit: s.MergeCommit, Message: fmt.Sprintf(
					"%d grants for %s on template %s with the same scope ran back to back (gaps under %s): %s; access was in effect standing",
					run, s.Requester, s.Template, gap, strings.Join(ids, ", "))})
			}
		}
	}
}

// start is when a grant's access began: activation, else the merge.
func start(s *Story) time.Time {
	iv, _ := s.Live()
	return iv.From
}

// end is when a grant's access ended: revocation, else its expiry.
func end(s *Story) time.Time {
	if !s.RevokedAt.IsZero() {
		return s.RevokedAt
	}
	return s.ExpiresAt
}

// lastStep returns the commit of s's last step named what.
func lastStep(s *Story, what string) string {
	for i := len(s.Steps) - 1; i >= 0; i-- {
		if s.Steps[i].What == what && s.Steps[i].Verified {
			return s.Steps[i].Commit
		}
	}
	return s.MergeCommit
}
