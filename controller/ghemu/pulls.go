package ghemu

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// prStats is what rendering a pull request needs from git, computed before
// rendering and cached by (base tip, head).
type prStats struct {
	known        bool
	key          string
	mergeable    bool
	testMerge    string
	commits      int
	additions    int
	deletions    int
	changedFiles int
	changed      []string // paths of the changed files
	behind       bool     // the base tip is not in head's history
	coRules      []coRule // base CODEOWNERS, when protection requires owners
}

// refreshPull recomputes p's git-derived fields if its base or head moved.
// It runs git without holding s.mu.
func (s *Server) refreshPull(ctx context.Context, rp *repo, p *pull) {
	s.mu.Lock()
	open := p.state == "open"
	head, baseRef, baseSHA, key := p.headSHA, p.baseRef, p.baseSHA, p.stats.key
	s.mu.Unlock()
	base := baseSHA
	if open {
		if tip, ok := rp.git.resolve(ctx, "refs/heads/"+baseRef); ok {
			base = tip
		}
	}
	if base+head == key {
		return
	}
	st := s.pullStats(ctx, rp, baseRef, base, head, open)
	s.mu.Lock()
	if open {
		p.baseSHA = base
	}
	if p.headSHA == head {
		p.stats = st
	}
	s.mu.Unlock()
}

// pullStats computes what a pull request from base to head shows: commit
// count, diff size (against the merge base) and, when open, whether it
// merges cleanly. The three git commands run in parallel.
func (s *Server) pullStats(ctx context.Context, rp *repo, baseRef, base, head string, open bool) prStats {
	st := prStats{known: true, key: base + head}
	var wg sync.WaitGroup
	if open && rp.protection[baseRef].RequireCodeOwnerReviews {
		// The base branch's CODEOWNERS decides, as on GitHub.
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, text := rp.git.codeownersAt(ctx, base)
			st.coRules = parseCodeowners(text)
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		if out, err := rp.git.run(ctx, nil, nil, "rev-list", "--count", head, "^"+base); err == nil {
			st.commits, _ = strconv.Atoi(strings.TrimSpace(string(out)))
		}
	}()
	go func() {
		defer wg.Done()
		if files, err := rp.git.diff(ctx, base+"..."+head, ""); err == nil {
			st.changedFiles = len(files)
			for _, f := range files {
				st.changed = append(st.changed, f.path)
				st.additions += f.additions
				st.deletions += f.deletions
			}
		}
	}()
	if open {
		_, clean, err := rp.git.mergeTree(ctx, base, head)
		st.mergeable = err == nil && clean
		upToDate, err := rp.git.isAncestor(ctx, base, head)
		st.behind = err != nil || !upToDate
	}
	wg.Wait()
	return st
}

// pullParam resolves {pull_number}; it answers 404 itself.
func (c *call) pullParam() *pull {
	n, err := strconv.Atoi(c.param("pull_number"))
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if err == nil {
		if is := c.rp.issues[n]; is != nil && is.pr != nil {
			return is.pr
		}
	}
	c.notFound()
	return nil
}

// POST /repos/{owner}/{repo}/pulls
func (s *Server) createPull(c *call) {
	var in struct {
		Title *string `json:"title"`
		Head  string  `json:"head"`
		Base  string  `json:"base"`
		Body  *string `json:"body"`
		Draft bool    `json:"draft"`
	}
	if !c.decode(&in) || !c.canWrite("pull_requests") {
		return
	}
	rp := c.rp
	if in.Title == nil || *in.Title == "" {
		c.invalid("PullRequest", "title", "missing_field", "")
		return
	}
	head := in.Head
	if owner, br, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(owner, rp.owner.login) {
			c.invalid("PullRequest", "head", "invalid", "")
			return
		}
		head = br
	}
	if in.Base == "" {
		c.invalid("PullRequest", "base", "missing_field", "")
		return
	}
	// The head may not move between reading it and writing the pull
	// request's refs/pull/N/head.
	rp.writeMu.Lock()
	defer rp.writeMu.Unlock()
	headSHA, ok := rp.git.resolve(c.ctx, "refs/heads/"+head)
	if head == "" || !ok {
		c.invalid("PullRequest", "head", "invalid", "")
		return
	}
	baseSHA, ok := rp.git.resolve(c.ctx, "refs/heads/"+in.Base)
	if !ok {
		c.invalid("PullRequest", "base", "invalid", "")
		return
	}
	stats := s.pullStats(c.ctx, rp, in.Base, baseSHA, headSHA, true)
	if stats.commits == 0 {
		c.fail(http.StatusUnprocessableEntity, "Validation Failed", fieldError{Resource: "PullRequest", Code: "custom",
			Message: "No commits between " + in.Base + " and " + head})
		return
	}
	s.mu.Lock()
	for _, is := range rp.issues {
		if p := is.pr; p != nil && p.state == "open" && p.headRef == head && p.baseRef == in.Base {
			s.mu.Unlock()
			c.fail(http.StatusUnprocessableEntity, "Validation Failed", fieldError{Resource: "PullRequest", Code: "custom",
				Message: "A pull request already exists for " + rp.owner.login + ":" + head + "."})
			return
		}
	}
	now := s.now().UTC()
	rp.nextNumber++
	p := &pull{
		number: rp.nextNumber, id: s.st.newID(), title: *in.Title, body: in.Body, user: c.id.acct, state: "open",
		draft: in.Draft, headRef: head, headSHA: headSHA, baseRef: in.Base, baseSHA: baseSHA, created: now, updated: now,
	}
	p.stats = stats
	rp.issues[p.number] = &issue{number: p.number, id: s.st.newID(), pr: p}
	s.mu.Unlock()
	// Set, not created: after a restart on the same DataDir numbering starts
	// again and the ref may be left from before.
	if err := rp.git.setRef(c.ctx, pullHeadRef(p.number), headSHA); err != nil {
		s.log.Error("writing the pull request head ref", logKeyRepo, rp.fullName(), logKeyPR, p.number, logKeyErr, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.Info("pull request opened", logKeyRepo, rp.fullName(), logKeyPR, p.number, logKeyLogin, c.id.login())
	s.emitPullRequest(c.ctx, rp, c.id, p, "opened", nil)
	c.json(http.StatusCreated, s.pullJSON(rp, p))
}

// GET /repos/{owner}/{repo}/pulls/{pull_number}
func (s *Server) getPull(c *call) {
	p := c.pullParam()
	if p == nil {
		return
	}
	s.refreshPull(c.ctx, c.rp, p)
	s.mu.Lock()
	defer s.mu.Unlock()
	c.json(http.StatusOK, s.pullJSON(c.rp, p))
}

// GET /repos/{owner}/{repo}/pulls
func (s *Server) listPulls(c *call) {
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	if state != "open" && state != "closed" && state != "all" {
		c.invalid("PullRequest", "state", "invalid", "")
		return
	}
	head := q.Get("head")
	if owner, br, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(owner, c.rp.owner.login) {
			head = "\x00none"
		} else {
			head = br
		}
	}
	s.mu.Lock()
	var ps []*pull
	for _, is := range c.rp.issues {
		p := is.pr
		if p == nil || (state != "all" && p.state != state) {
			continue
		}
		if head != "" && p.headRef != head {
			continue
		}
		if b := q.Get("base"); b != "" && p.baseRef != b {
			continue
		}
		ps = append(ps, p)
	}
	s.mu.Unlock()
	sortBy := q.Get("sort")
	asc := q.Get("direction") == "asc"
	if q.Get("direction") == "" && sortBy != "" && sortBy != "created" {
		asc = true
	}
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		less := a.number < b.number
		if sortBy == "updated" && !a.updated.Equal(b.updated) {
			less = a.updated.Before(b.updated)
		}
		if asc {
			return less
		}
		return !less
	})
	ps = paged(c, ps)
	// The list shows the simple form, which has no mergeability or diff
	// statistics: only the base's current tip is refreshed, once per base
	// branch (computing every pull request's merge would cost a git merge
	// each, which GitHub does not do for a list either).
	tips := map[string]string{}
	for _, p := range ps {
		if _, ok := tips[p.baseRef]; !ok {
			tips[p.baseRef], _ = c.rp.git.resolve(c.ctx, "refs/heads/"+p.baseRef)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []obj{}
	for _, p := range ps {
		if tip := tips[p.baseRef]; p.state == "open" && tip != "" {
			p.baseSHA = tip
		}
		out = append(out, s.pullSimpleJSON(c.rp, p))
	}
	c.json(http.StatusOK, out)
}

// PATCH /repos/{owner}/{repo}/pulls/{pull_number}
func (s *Server) updatePull(c *call) {
	var in struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		State *string `json:"state"`
		Base  *string `json:"base"`
	}
	if !c.decode(&in) || !c.canWrite("pull_requests") {
		return
	}
	p := c.pullParam()
	if p == nil {
		return
	}
	rp := c.rp
	var newBaseSHA string
	if in.Base != nil {
		sha, ok := rp.git.resolve(c.ctx, "refs/heads/"+*in.Base)
		if !ok {
			c.invalid("PullRequest", "base", "invalid", "Proposed base branch '"+*in.Base+"' was not found")
			return
		}
		newBaseSHA = sha
	}
	if in.State != nil && *in.State != "open" && *in.State != "closed" {
		c.invalid("PullRequest", "state", "invalid", "")
		return
	}
	s.mu.Lock()
	if p.mergedAt != nil && (in.State != nil || in.Base != nil) {
		s.mu.Unlock()
		c.invalid("PullRequest", "state", "invalid", "Cannot change the state or base of a merged pull request")
		return
	}
	if in.State != nil && *in.State == "open" && p.state == "closed" {
		if _, ok := rp.git.resolve(c.ctx, "refs/heads/"+p.headRef); !ok {
			s.mu.Unlock()
			c.invalid("PullRequest", "state", "invalid", "state cannot be changed. The "+p.headRef+" branch has been deleted.")
			return
		}
	}
	now := s.now().UTC()
	changes := obj{}
	if in.Title != nil && *in.Title != p.title {
		changes["title"] = obj{"from": p.title}
		p.title = *in.Title
	}
	if in.Body != nil && (p.body == nil || *in.Body != *p.body) {
		from := ""
		if p.body != nil {
			from = *p.body
		}
		changes["body"] = obj{"from": from}
		p.body = in.Body
	}
	if in.Base != nil && *in.Base != p.baseRef {
		changes["base"] = obj{"ref": obj{"from": p.baseRef}, "sha": obj{"from": p.baseSHA}}
		p.baseRef, p.baseSHA = *in.Base, newBaseSHA
		p.stats.key = ""
		if rp.protection[p.baseRef].DismissStaleReviews {
			for _, rv := range p.reviews {
				if rv.state == "APPROVED" {
					rv.state = "DISMISSED"
					s.emitReview(c.ctx, rp, c.id, p, rv, "dismissed")
				}
			}
		}
	}
	action := ""
	if in.State != nil && *in.State != p.state {
		p.state = *in.State
		if p.state == "closed" {
			p.closedAt = &now
			action = "closed"
		} else {
			p.closedAt = nil
			action = "reopened"
			p.stats.key = ""
		}
	}
	if len(changes) > 0 || action != "" {
		p.updated = now
	}
	if len(changes) > 0 {
		s.emitPullRequest(c.ctx, rp, c.id, p, "edited", obj{"changes": changes})
	}
	if action != "" {
		s.emitPullRequest(c.ctx, rp, c.id, p, action, nil)
	}
	if action == "closed" && p.autoMerge != nil {
		s.disableAutoMerge(c.ctx, rp, p, c.id, reasonClosed)
	}
	s.mu.Unlock()
	s.refreshPull(c.ctx, rp, p)
	s.mu.Lock()
	defer s.mu.Unlock()
	c.json(http.StatusOK, s.pullJSON(rp, p))
}

// pullRange is the commit range of a pull request: merge base (or base) and
// head.
func (s *Server) pullRange(ctx context.Context, rp *repo, p *pull) (from, head string) {
	s.mu.Lock()
	base, head, open, baseRef := p.baseSHA, p.headSHA, p.state == "open", p.baseRef
	s.mu.Unlock()
	if open {
		if tip, ok := rp.git.resolve(ctx, baseRef); ok {
			base = tip
		}
	}
	return base, head
}

// GET /repos/{owner}/{repo}/pulls/{pull_number}/commits
func (s *Server) listPullCommits(c *call) {
	p := c.pullParam()
	if p == nil {
		return
	}
	base, head := s.pullRange(c.ctx, c.rp, p)
	shas, err := c.rp.git.revList(c.ctx, head, []string{base}, 250)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	// GitHub lists a pull request's commits oldest first.
	for i, j := 0, len(shas)-1; i < j; i, j = i+1, j-1 {
		shas[i], shas[j] = shas[j], shas[i]
	}
	shas = paged(c, shas)
	out := []obj{}
	for _, sha := range shas {
		ci, err := c.rp.git.readCommit(c.ctx, sha)
		if err != nil {
			c.fail(http.StatusInternalServerError, "Server Error")
			return
		}
		out = append(out, s.commitJSON(c.rp, ci, nil))
	}
	c.json(http.StatusOK, out)
}

// GET /repos/{owner}/{repo}/pulls/{pull_number}/files
func (s *Server) listPullFiles(c *call) {
	p := c.pullParam()
	if p == nil {
		return
	}
	base, head := s.pullRange(c.ctx, c.rp, p)
	from, err := c.rp.git.mergeBase(c.ctx, base, head)
	if err != nil || from == "" {
		from = base
	}
	files, err := c.rp.git.diff(c.ctx, from, head)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	if len(files) > 3000 {
		files = files[:3000]
	}
	files = paged(c, files)
	patches, err := c.rp.git.patches(c.ctx, from, head)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	out := []obj{}
	for _, f := range files {
		o := s.diffEntryJSON(c.rp, head, f)
		if p, ok := patches[f.path]; ok && !f.binary {
			o["patch"] = p
		}
		out = append(out, o)
	}
	c.json(http.StatusOK, out)
}

func (s *Server) diffEntryJSON(rp *repo, ref string, f fileChange) obj {
	return obj{
		"sha": f.sha, "filename": f.path, "status": f.status,
		"additions": f.additions, "deletions": f.deletions, "changes": f.additions + f.deletions,
		"blob_url":     s.URL + "/" + rp.fullName() + "/blob/" + ref + "/" + escapePath(f.path),
		"raw_url":      s.URL + "/" + rp.fullName() + "/raw/" + ref + "/" + escapePath(f.path),
		"contents_url": s.api() + "/repos/" + rp.fullName() + "/contents/" + escapePath(f.path) + "?ref=" + ref,
	}
}

// GET /repos/{owner}/{repo}/pulls/{pull_number}/merge
func (s *Server) checkMerged(c *call) {
	p := c.pullParam()
	if p == nil {
		return
	}
	s.mu.Lock()
	merged := p.mergedAt != nil
	s.mu.Unlock()
	if merged {
		c.w.WriteHeader(http.StatusNoContent)
		return
	}
	c.w.WriteHeader(http.StatusNotFound)
}
