package ghemu

import (
	"context"
	"fmt"
)

// Auto-merge. A pull request with auto-merge enabled (graphql.go) merges by
// itself, as the actor who enabled it and with the method, title and body
// recorded then, as soon as the merge API would merge it for that actor
// without an admin's bypass. It is tried again after everything that could
// make it mergeable: every write through the REST API on its repository
// (check runs, statuses, reviews, dismissals, ref updates, merges), every
// push, and enabling itself. The merge goes through the same code as the
// merge API (merge in merge.go), so the two cannot disagree.
//
// Auto-merge is disabled, with pull_request auto_merge_disabled and a
// reason, when the pull request is closed, when someone without write
// permission pushes to its head branch, and when a merge attempt finds a
// conflict. GitHub documents the push rule: "if someone who does not have
// write permissions to the repository pushes new changes to the head branch
// or switches the base branch of the pull request, auto-merge will be
// disabled"
// (https://docs.github.com/en/pull-requests/collaborating-with-pull-requests/incorporating-changes-from-a-pull-request/automatically-merging-a-pull-request).
// Switching the base needs write access in the emulator, so only the push
// half can happen here.

// Reasons given in auto_merge_disabled payloads. GitHub's schema makes the
// reason a free string and does not list its values; the push reason is
// the wording GitHub shows on the pull request.
const (
	reasonClosed       = "Pull request was closed"
	reasonNonWriter    = "Head branch was pushed to by a user without write access"
	reasonConflict     = "Merge conflict"
	reasonDisabledByID = "Auto-merge was disabled by "
)

// defaultMergeText is GitHub's default merge commit title and body for pull
// request number (merge commit, or squash: whose default body, the list of
// its commits, the caller computes with git).
func defaultMergeText(owner string, number int, headRef, title string, squash bool) (string, string) {
	if squash {
		return fmt.Sprintf("%s (#%d)", title, number), ""
	}
	return fmt.Sprintf("Merge pull request #%d from %s/%s", number, owner, headRef), title
}

// autoMergeText is the title and body p's auto-merge will use: those given
// when it was enabled, else GitHub's defaults. The caller holds s.mu.
func autoMergeText(rp *repo, p *pull) (title, message string) {
	am := p.autoMerge
	title, message = defaultMergeText(rp.owner.login, p.number, p.headRef, p.title, am.method == "squash")
	if am.title != nil {
		title = *am.title
	}
	if am.message != nil {
		message = *am.message
	}
	return title, message
}

// autoMergeJSON renders p's auto_merge object (REST and webhooks), or nil
// without one. The caller holds s.mu.
func (s *Server) autoMergeJSON(rp *repo, p *pull) any {
	if p.autoMerge == nil {
		return nil
	}
	title, message := autoMergeText(rp, p)
	return obj{"enabled_by": s.userJSON(p.autoMerge.by.acct), "merge_method": p.autoMerge.method,
		"commit_title": title, "commit_message": message}
}

// disableAutoMerge removes p's auto-merge and delivers auto_merge_disabled
// with reason, sent by id. The caller holds s.mu and has checked that p has
// an auto-merge.
func (s *Server) disableAutoMerge(ctx context.Context, rp *repo, p *pull, id identity, reason string) {
	p.autoMerge = nil
	s.log.Info("auto-merge disabled", logKeyRepo, rp.fullName(), logKeyPR, p.number, logKeyLogin, id.login(), "reason", reason)
	s.emitPullRequest(ctx, rp, id, p, "auto_merge_disabled", obj{"reason": reason})
}

// autoMergeCandidates returns rp's open pull requests with auto-merge
// enabled, by number.
func (s *Server) autoMergeCandidates(rp *repo) []*pull {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ps []*pull
	for _, n := range sortedNumbers(rp) {
		if p := rp.issues[n].pr; p != nil && p.state == "open" && p.autoMerge != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// autoMergeAfterWrite tries rp's auto-merges after an API write; it takes
// rp.writeMu, so the caller must not hold it (nor s.mu).
func (s *Server) autoMergeAfterWrite(ctx context.Context, rp *repo) {
	if len(s.autoMergeCandidates(rp)) == 0 {
		return
	}
	rp.writeMu.Lock()
	defer rp.writeMu.Unlock()
	s.runAutoMerges(ctx, rp)
}

// runAutoMerges merges every auto-merge pull request of rp that can merge
// now, looking again after each merge (it moved the base). A pass started
// by a merge of the running pass returns at once. The caller holds
// rp.writeMu.
func (s *Server) runAutoMerges(ctx context.Context, rp *repo) {
	if rp.autoMerging {
		return
	}
	rp.autoMerging = true
	defer func() { rp.autoMerging = false }()
	// The merge must not stop half way because the request that caused it
	// went away.
	ctx = context.WithoutCancel(ctx)
	for again := true; again; {
		again = false
		for _, p := range s.autoMergeCandidates(rp) {
			if s.tryAutoMerge(ctx, rp, p) {
				again = true
				break
			}
		}
	}
}

// tryAutoMerge merges p if its requirements are met and reports whether it
// did. A conflict disables the auto-merge; unmet requirements leave it
// waiting. The caller holds rp.writeMu.
func (s *Server) tryAutoMerge(ctx context.Context, rp *repo, p *pull) bool {
	s.mu.Lock()
	am := p.autoMerge
	s.mu.Unlock()
	if am == nil {
		return false
	}
	res := s.merge(ctx, rp, p, am.by, mergeOptions{method: am.method, title: am.title, message: am.message})
	switch res.outcome {
	case merged:
		return true
	case mergeConflict:
		s.mu.Lock()
		if p.autoMerge == am {
			s.disableAutoMerge(ctx, rp, p, am.by, reasonConflict)
		}
		s.mu.Unlock()
	}
	// Blocked: waiting for requirements. Failed: logged by merge, tried
	// again on the next event.
	return false
}
