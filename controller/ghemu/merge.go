package ghemu

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge
func (s *Server) mergePull(c *call) {
	var in struct {
		CommitTitle   *string `json:"commit_title"`
		CommitMessage *string `json:"commit_message"`
		SHA           string  `json:"sha"`
		MergeMethod   string  `json:"merge_method"`
	}
	if !c.decode(&in) || !c.canWrite("contents") {
		return
	}
	p := c.pullParam()
	if p == nil {
		return
	}
	switch in.MergeMethod {
	case "":
		in.MergeMethod = "merge"
	case "merge", "squash":
	case "rebase":
		c.fail(http.StatusMethodNotAllowed, rebaseRefusal)
		return
	default:
		c.invalid("PullRequest", "merge_method", "invalid", "merge_method must be one of merge, squash, rebase")
		return
	}
	c.rp.writeMu.Lock()
	defer c.rp.writeMu.Unlock()
	res := s.merge(c.ctx, c.rp, p, c.id, mergeOptions{sha: in.SHA, method: in.MergeMethod,
		title: in.CommitTitle, message: in.CommitMessage, adminBypass: true})
	if res.outcome != merged {
		c.fail(res.status, res.msg)
		return
	}
	c.json(http.StatusOK, obj{"sha": res.sha, "merged": true, "message": "Pull Request successfully merged"})
}

// rebaseRefusal is the 405 message for a rebase merge (the emulated
// repositories allow merge commits and squash merges only).
const rebaseRefusal = "Rebase merges are not allowed on this repository."

// mergeOptions is what a merge is asked to do.
type mergeOptions struct {
	sha            string  // the head must be this commit; "" means any
	method         string  // "merge" or "squash"
	title, message *string // nil means GitHub's default text
	// adminBypass lets repository admins merge regardless of protection
	// (enforce_admins off), as the merge API does; auto-merge waits for the
	// requirements whoever enabled it.
	adminBypass bool
}

// mergeOutcome says how a merge attempt ended.
type mergeOutcome int

const (
	merged        mergeOutcome = iota
	mergeBlocked               // branch protection is not satisfied yet
	mergeConflict              // head and base do not merge cleanly
	mergeRefused               // closed, draft, head or base moved, base gone
	mergeFailed                // git failed (a server error)
)

// mergeResult is a merge attempt's outcome: the merge commit, or the status
// and message the merge API answers.
type mergeResult struct {
	outcome mergeOutcome
	sha     string
	status  int
	msg     string
}

func mergeFailure(o mergeOutcome, status int, msg string) mergeResult {
	return mergeResult{outcome: o, status: status, msg: msg}
}

// merge merges pull request p as id, applying the rules of the merge API
// (the merge API and auto-merge both come through here, so they cannot
// disagree). The merge is a real commit made with git plumbing: merge-tree
// finds conflicts and the tree, commit-tree writes the commit with the
// message kept byte for byte, and update-ref moves the base branch only if
// it still points where it did (compare-and-swap). On success it delivers
// pull_request closed (merged) and push, as id. The caller holds
// rp.writeMu.
func (s *Server) merge(ctx context.Context, rp *repo, p *pull, id identity, opt mergeOptions) mergeResult {
	s.mu.Lock()
	head, baseRef, number, title, headRef, draft, open := p.headSHA, p.baseRef, p.number, p.title, p.headRef, p.draft, p.state == "open"
	s.mu.Unlock()
	if !open || draft {
		return mergeFailure(mergeRefused, http.StatusMethodNotAllowed, "Pull Request is not mergeable")
	}
	if opt.sha != "" && opt.sha != head {
		return mergeFailure(mergeRefused, http.StatusConflict, "Head branch was modified. Review and try the merge again.")
	}
	base, ok := rp.git.resolve(ctx, "refs/heads/"+baseRef)
	if !ok {
		return mergeFailure(mergeRefused, http.StatusMethodNotAllowed, "Pull Request is not mergeable")
	}
	s.refreshPull(ctx, rp, p)
	s.mu.Lock()
	blocked := ""
	if !opt.adminBypass || !s.adminBypasses(rp, p.baseRef, id) {
		blocked = s.protectionMessage(rp, p, head)
	}
	s.mu.Unlock()
	if blocked != "" {
		return mergeFailure(mergeBlocked, http.StatusMethodNotAllowed, blocked)
	}
	tree, clean, err := rp.git.mergeTree(ctx, base, head)
	if err != nil {
		s.log.Error("merging with merge-tree", logKeyRepo, rp.fullName(), logKeyPR, number, logKeyErr, err)
		return mergeFailure(mergeFailed, http.StatusInternalServerError, "Server Error")
	}
	if !clean {
		s.mu.Lock()
		p.stats = prStats{known: true, key: base + head, mergeable: false}
		s.mu.Unlock()
		return mergeFailure(mergeConflict, http.StatusMethodNotAllowed, "Pull Request is not mergeable")
	}

	squash := opt.method == "squash"
	msgTitle, msgBody := defaultMergeText(rp.owner.login, number, headRef, title, squash)
	if squash && opt.message == nil {
		msgBody, err = s.squashMessage(ctx, rp, base, head)
		if err != nil {
			return mergeFailure(mergeFailed, http.StatusInternalServerError, "Server Error")
		}
	}
	if opt.title != nil {
		msgTitle = *opt.title
	}
	if opt.message != nil {
		msgBody = *opt.message
	}
	message := msgTitle
	if msgBody != "" {
		message += "\n\n" + msgBody
	}
	now := s.now()
	who := signature{name: id.acct.commitName(), email: id.acct.commitEmail(), when: now}
	parents := []string{base, head}
	if squash {
		parents = []string{base}
	}
	sha, err := rp.git.commitTree(ctx, tree, parents, message, who, who)
	if err != nil {
		s.log.Error("writing the merge commit", logKeyRepo, rp.fullName(), logKeyPR, number, logKeyErr, err)
		return mergeFailure(mergeFailed, http.StatusInternalServerError, "Server Error")
	}
	if err := rp.git.updateRef(ctx, "refs/heads/"+baseRef, sha, base); err != nil {
		return mergeFailure(mergeRefused, http.StatusConflict, "Base branch was modified. Review and try the merge again.")
	}
	s.mu.Lock()
	at := now.UTC()
	p.state, p.mergedAt, p.closedAt, p.mergedBy, p.mergeCommitSHA = "closed", &at, &at, id.acct, sha
	p.baseSHA, p.updated = base, at
	s.emitPullRequest(ctx, rp, id, p, "closed", nil)
	s.mu.Unlock()
	s.refsChanged(ctx, rp, id, []refChange{{ref: "refs/heads/" + baseRef, before: base, after: sha}}, false)
	s.log.Info("pull request merged", logKeyRepo, rp.fullName(), logKeyPR, number, logKeySHA, sha, logKeyLogin, id.login())
	return mergeResult{outcome: merged, sha: sha}
}

// squashMessage is GitHub's default squash body: each commit's message as a
// bullet, oldest first.
func (s *Server) squashMessage(ctx context.Context, rp *repo, base, head string) (string, error) {
	shas, err := rp.git.revList(ctx, head, []string{base}, 0)
	if err != nil {
		return "", err
	}
	var parts []string
	for i := len(shas) - 1; i >= 0; i-- {
		ci, err := rp.git.readCommit(ctx, shas[i])
		if err != nil {
			return "", err
		}
		parts = append(parts, "* "+strings.TrimRight(ci.message, "\n"))
	}
	return strings.Join(parts, "\n\n"), nil
}

// protectionMessage returns GitHub's 405 message when the base branch's
// protection is not satisfied for head, or "". It knows no bypass: only
// repository admins merge regardless (enforce_admins off, through the
// merge API, see merge); bypass_pull_request_allowances let actors push
// without a pull request but not merge one that protection blocks. The
// caller holds s.mu.
func (s *Server) protectionMessage(rp *repo, p *pull, head string) string {
	prot, ok := rp.protection[p.baseRef]
	if !ok {
		return ""
	}
	// Each reviewer's latest opinionated review counts (COMMENTED ones do
	// not); the author's own never does.
	latest := map[*account]string{}
	var order []*account
	for _, rv := range p.reviews {
		switch rv.state {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
			if rv.user.typ == "Bot" && !s.cfg.CountBotApprovals {
				continue
			}
			if rv.user != p.user && !rp.readers[strings.ToLower(rv.user.login)] {
				if _, ok := latest[rv.user]; !ok {
					order = append(order, rv.user)
				}
				latest[rv.user] = rv.state
			}
		}
	}
	var approvers []*account
	for _, a := range order {
		switch latest[a] {
		case "CHANGES_REQUESTED":
			if prot.RequiredApprovingReviewCount > 0 || prot.RequireCodeOwnerReviews {
				return "Changes must be made through a pull request. Changes were requested."
			}
		case "APPROVED":
			approvers = append(approvers, a)
		}
	}
	if n := prot.RequiredApprovingReviewCount; len(approvers) < n {
		return fmt.Sprintf("At least %d approving review%s required by reviewers with write access.", n, map[bool]string{true: " is", false: "s are"}[n == 1])
	}
	if prot.RequireCodeOwnerReviews {
		if !p.stats.known || p.stats.key != p.baseSHA+head {
			return "Waiting on code owner review."
		}
		if missing := s.missingCodeOwners(p.stats.coRules, p.stats.changed, approvers); len(missing) > 0 {
			return "Waiting on code owner review from " + strings.Join(missing, ", ") + "."
		}
	}
	for _, ctxName := range prot.RequiredStatusChecks {
		if s.checkState(rp, head, ctxName) != "success" {
			return "Required status check \"" + ctxName + "\" is expected."
		}
	}
	if prot.StrictStatusChecks && len(prot.RequiredStatusChecks) > 0 {
		if !p.stats.known || p.stats.key != p.baseSHA+head || p.stats.behind {
			return headBehindMessage
		}
	}
	return ""
}

// headBehindMessage is the 405 message for a head that does not contain the
// base tip when protection requires strict status checks. GitHub's exact
// wording is not documented; the mergeable_state is "behind".
const headBehindMessage = "Head branch is out of date. Update the branch and try the merge again."

// checkState is the state of a required check context on sha: the latest
// commit status with that context, or a completed check run by that name.
func (s *Server) checkState(rp *repo, sha, name string) string {
	state := ""
	for _, st := range rp.statuses[sha] {
		if st.context == name {
			state = st.state
		}
	}
	for _, cr := range rp.checkRuns {
		if cr.headSHA == sha && cr.name == name && cr.status == "completed" && cr.conclusion != nil {
			switch *cr.conclusion {
			case "success", "neutral", "skipped":
				state = "success"
			default:
				state = "failure"
			}
		}
	}
	return state
}

// PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch
func (s *Server) updateBranch(c *call) {
	var in struct {
		ExpectedHeadSHA string `json:"expected_head_sha"`
	}
	if !c.decode(&in) || !c.canWrite("contents") {
		return
	}
	p := c.pullParam()
	if p == nil {
		return
	}
	rp := c.rp
	rp.writeMu.Lock()
	defer rp.writeMu.Unlock()
	s.mu.Lock()
	head, baseRef, headRef, number, open := p.headSHA, p.baseRef, p.headRef, p.number, p.state == "open"
	s.mu.Unlock()
	if !open {
		c.invalid("PullRequest", "state", "invalid", "Pull request is closed")
		return
	}
	if in.ExpectedHeadSHA != "" && in.ExpectedHeadSHA != head {
		c.fail(http.StatusUnprocessableEntity, "expected head sha didn’t match current head ref.")
		return
	}
	base, ok := rp.git.resolve(c.ctx, "refs/heads/"+baseRef)
	if !ok {
		c.fail(http.StatusUnprocessableEntity, "Base branch does not exist")
		return
	}
	if up, err := rp.git.isAncestor(c.ctx, base, head); err == nil && up {
		c.fail(http.StatusUnprocessableEntity, "There are no new commits on the base branch.")
		return
	}
	tree, clean, err := rp.git.mergeTree(c.ctx, head, base)
	if err != nil || !clean {
		c.fail(http.StatusUnprocessableEntity, "merge conflict between base and head")
		return
	}
	who := signature{name: c.id.acct.commitName(), email: c.id.acct.commitEmail(), when: s.now()}
	sha, err := rp.git.commitTree(c.ctx, tree, []string{head, base}, "Merge branch '"+baseRef+"' into "+headRef, who, who)
	if err == nil {
		err = rp.git.updateRef(c.ctx, "refs/heads/"+headRef, sha, head)
	}
	if err != nil {
		c.fail(http.StatusUnprocessableEntity, "Head branch was modified. Review and try the update again.")
		return
	}
	s.refsChanged(c.ctx, rp, c.id, []refChange{{ref: "refs/heads/" + headRef, before: head, after: sha}}, false)
	c.json(http.StatusAccepted, obj{"message": "Updating pull request branch.",
		"url": s.URL + "/" + rp.fullName() + "/pull/" + strconv.Itoa(number)})
}
