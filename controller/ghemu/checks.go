package ghemu

import (
	"net/http"
	"sort"
	"strconv"
	"time"
)

var (
	checkStatuses    = map[string]bool{"queued": true, "in_progress": true, "completed": true, "waiting": true, "requested": true, "pending": true}
	checkConclusions = map[string]bool{"action_required": true, "cancelled": true, "failure": true, "neutral": true, "success": true, "skipped": true, "stale": true, "timed_out": true}
	statusStates     = map[string]bool{"error": true, "failure": true, "pending": true, "success": true}
)

type checkRunInput struct {
	Name        *string    `json:"name"`
	HeadSHA     *string    `json:"head_sha"`
	DetailsURL  *string    `json:"details_url"`
	ExternalID  *string    `json:"external_id"`
	Status      *string    `json:"status"`
	StartedAt   *time.Time `json:"started_at"`
	Conclusion  *string    `json:"conclusion"`
	CompletedAt *time.Time `json:"completed_at"`
	Output      *struct {
		Title       *string `json:"title"`
		Summary     *string `json:"summary"`
		Text        *string `json:"text"`
		Annotations []any   `json:"annotations"`
	} `json:"output"`
}

// canCheck answers 403 unless the caller is an App installation with checks
// write: on GitHub only Apps create check runs.
func (c *call) canCheck() bool {
	if c.id.kind == userToken {
		c.fail(http.StatusForbidden, "You must authenticate via a GitHub App.")
		return false
	}
	return c.canWrite("checks")
}

// apply validates in and applies it to cr; it answers 422 itself.
func (c *call) applyCheck(cr *checkRun, in *checkRunInput) bool {
	now := c.s.now().UTC()
	if in.Name != nil {
		cr.name = *in.Name
	}
	if in.DetailsURL != nil {
		cr.detailsURL = in.DetailsURL
	}
	if in.ExternalID != nil {
		cr.externalID = *in.ExternalID
	}
	if in.StartedAt != nil {
		t := in.StartedAt.UTC()
		cr.startedAt = &t
	}
	if in.Status != nil {
		if !checkStatuses[*in.Status] {
			c.invalid("CheckRun", "status", "invalid", "")
			return false
		}
		cr.status = *in.Status
	}
	if in.Conclusion != nil {
		if !checkConclusions[*in.Conclusion] {
			c.invalid("CheckRun", "conclusion", "invalid", "")
			return false
		}
		cr.conclusion = in.Conclusion
		cr.status = "completed"
	}
	if cr.status == "completed" && cr.conclusion == nil {
		c.invalid("CheckRun", "conclusion", "missing_field", "conclusion is required when status is completed")
		return false
	}
	if cr.status == "completed" && cr.completedAt == nil {
		t := now
		if in.CompletedAt != nil {
			t = in.CompletedAt.UTC()
		}
		cr.completedAt = &t
	}
	if o := in.Output; o != nil {
		if o.Title == nil || o.Summary == nil {
			c.invalid("CheckRun", "output", "missing_field", "output needs a title and a summary")
			return false
		}
		cr.output.Title, cr.output.Summary, cr.output.Text = o.Title, o.Summary, o.Text
		cr.output.AnnotationsCount += len(o.Annotations)
	}
	return true
}

// POST /repos/{owner}/{repo}/check-runs
func (s *Server) createCheckRun(c *call) {
	var in checkRunInput
	if !c.decode(&in) || !c.canCheck() {
		return
	}
	if in.Name == nil || *in.Name == "" {
		c.invalid("CheckRun", "name", "missing_field", "")
		return
	}
	if in.HeadSHA == nil || c.rp.git.objectType(c.ctx, *in.HeadSHA) != "commit" {
		c.invalid("CheckRun", "head_sha", "invalid", "No commit found for SHA: "+deref(in.HeadSHA))
		return
	}
	hc := s.simpleCommit(c.ctx, c.rp, *in.HeadSHA)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	cr := &checkRun{id: s.st.newID(), headSHA: *in.HeadSHA, status: "queued", startedAt: &now}
	if !c.applyCheck(cr, &in) {
		return
	}
	c.rp.checkRuns = append(c.rp.checkRuns, cr)
	s.suiteFor(c.rp, cr.headSHA, nil, hc)
	s.emitCheckRun(c.ctx, c.rp, c.id, cr, "created")
	s.checkRunsChanged(c.rp, c.id, cr.headSHA, hc)
	c.json(http.StatusCreated, s.checkRunJSON(c.rp, cr))
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (c *call) checkRunParam() *checkRun {
	id, _ := strconv.ParseInt(c.param("check_run_id"), 10, 64)
	for _, cr := range c.rp.checkRuns {
		if cr.id == id {
			return cr
		}
	}
	c.notFound()
	return nil
}

// GET /repos/{owner}/{repo}/check-runs/{check_run_id}
func (s *Server) getCheckRun(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cr := c.checkRunParam(); cr != nil {
		c.json(http.StatusOK, s.checkRunJSON(c.rp, cr))
	}
}

// PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}
func (s *Server) updateCheckRun(c *call) {
	var in checkRunInput
	if !c.decode(&in) || !c.canCheck() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := c.checkRunParam()
	if cr == nil {
		return
	}
	was := cr.status
	upd := *cr
	if !c.applyCheck(&upd, &in) {
		return
	}
	*cr = upd
	if was != "completed" && cr.status == "completed" {
		s.emitCheckRun(c.ctx, c.rp, c.id, cr, "completed")
	}
	s.checkRunsChanged(c.rp, c.id, cr.headSHA, nil)
	c.json(http.StatusOK, s.checkRunJSON(c.rp, cr))
}

// GET /repos/{owner}/{repo}/commits/{ref}/check-runs
func (s *Server) listCheckRuns(c *call) {
	sha, ok := c.rp.git.resolve(c.ctx, c.param("ref"))
	if !ok {
		c.fail(http.StatusUnprocessableEntity, "No commit found for SHA: "+c.param("ref"))
		return
	}
	q := c.r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var runs []*checkRun
	latest := map[string]bool{}
	for i := len(c.rp.checkRuns) - 1; i >= 0; i-- {
		cr := c.rp.checkRuns[i]
		if cr.headSHA != sha {
			continue
		}
		if n := q.Get("check_name"); n != "" && cr.name != n {
			continue
		}
		if st := q.Get("status"); st != "" && cr.status != st {
			continue
		}
		// filter=latest (the default) keeps the newest run of each name.
		if q.Get("filter") != "all" {
			if latest[cr.name] {
				continue
			}
			latest[cr.name] = true
		}
		runs = append(runs, cr)
	}
	total := len(runs)
	out := []obj{}
	for _, cr := range paged(c, runs) {
		out = append(out, s.checkRunJSON(c.rp, cr))
	}
	c.json(http.StatusOK, obj{"total_count": total, "check_runs": out})
}

func (s *Server) checkRunJSON(rp *repo, cr *checkRun) obj {
	u := s.api() + "/repos/" + rp.fullName() + "/check-runs/" + itoa(cr.id)
	html := s.URL + "/" + rp.fullName() + "/runs/" + itoa(cr.id)
	details := html
	if cr.detailsURL != nil {
		details = *cr.detailsURL
	}
	prs := s.checkPullRequests(rp, cr.headSHA)
	var conclusion any
	if cr.conclusion != nil {
		conclusion = *cr.conclusion
	}
	var appJ any
	if s.st.app != nil {
		appJ = s.appJSON()
	}
	suite := obj{"id": 0}
	if cs := rp.checkSuites[cr.headSHA]; cs != nil {
		suite = s.checkSuiteJSON(rp, cs)
		delete(suite, "head_commit")
		delete(suite, "latest_check_runs_count")
		delete(suite, "check_runs_url")
		delete(suite, "rerequestable")
		delete(suite, "runs_rerequestable")
	}
	return obj{
		"id": cr.id, "head_sha": cr.headSHA, "node_id": nodeID("CheckRun", cr.id), "external_id": cr.externalID,
		"url": u, "html_url": html, "details_url": details, "status": cr.status, "conclusion": conclusion,
		"started_at": tsPtr(cr.startedAt), "completed_at": tsPtr(cr.completedAt),
		"output": obj{
			"title": strPtr(cr.output.Title), "summary": strPtr(cr.output.Summary), "text": strPtr(cr.output.Text),
			"annotations_count": cr.output.AnnotationsCount, "annotations_url": u + "/annotations",
		},
		"name":        cr.name,
		"check_suite": suite,
		"app":         appJ, "pull_requests": prs,
	}
}

// checkPullRequests lists the open pull requests whose head is sha, as
// check runs and suites carry them. The caller holds s.mu.
func (s *Server) checkPullRequests(rp *repo, sha string) []obj {
	prs := []obj{}
	for _, n := range sortedNumbers(rp) {
		p := rp.issues[n].pr
		if p != nil && p.state == "open" && p.headSHA == sha {
			r := obj{"id": rp.id, "url": s.api() + "/repos/" + rp.fullName(), "name": rp.name}
			prs = append(prs, obj{
				"id": p.id, "number": p.number, "url": s.api() + "/repos/" + rp.fullName() + "/pulls/" + strconv.Itoa(p.number),
				"head": obj{"ref": p.headRef, "sha": p.headSHA, "repo": r}, "base": obj{"ref": p.baseRef, "sha": p.baseSHA, "repo": r},
			})
		}
	}
	return prs
}

func sortedNumbers(rp *repo) []int {
	ns := make([]int, 0, len(rp.issues))
	for n := range rp.issues {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	return ns
}

// POST /repos/{owner}/{repo}/statuses/{sha}
func (s *Server) createStatus(c *call) {
	var in struct {
		State       string  `json:"state"`
		TargetURL   *string `json:"target_url"`
		Description *string `json:"description"`
		Context     string  `json:"context"`
	}
	if !c.decode(&in) || !c.canWrite("statuses") {
		return
	}
	if !statusStates[in.State] {
		c.invalid("Status", "state", "custom", "state is not included in the list")
		return
	}
	sha := c.param("sha")
	if c.rp.git.objectType(c.ctx, sha) != "commit" {
		c.invalid("Status", "sha", "custom", "No commit found for SHA: "+sha)
		return
	}
	if in.Context == "" {
		in.Context = "default"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(c.rp.statuses[sha]) >= 1000 {
		c.invalid("Status", "", "custom", "This SHA and context has reached the maximum number of statuses.")
		return
	}
	st := &commitStatus{id: s.st.newID(), state: in.State, context: in.Context, description: in.Description,
		targetURL: in.TargetURL, creator: c.id.acct, created: s.now().UTC()}
	c.rp.statuses[sha] = append(c.rp.statuses[sha], st)
	o := s.statusJSON(c.rp, sha, st)
	o["creator"] = s.userJSON(st.creator)
	c.json(http.StatusCreated, o)
}

func (s *Server) statusJSON(rp *repo, sha string, st *commitStatus) obj {
	return obj{
		"url": s.api() + "/repos/" + rp.fullName() + "/statuses/" + sha, "avatar_url": s.URL + "/avatars/u/" + itoa(st.creator.id),
		"id": st.id, "node_id": nodeID("StatusContext", st.id), "state": st.state, "description": strPtr(st.description),
		"target_url": strPtr(st.targetURL), "context": st.context, "created_at": ts(st.created), "updated_at": ts(st.created),
	}
}

// GET /repos/{owner}/{repo}/commits/{ref}/status
func (s *Server) combinedStatus(c *call) {
	sha, ok := c.rp.git.resolve(c.ctx, c.param("ref"))
	if !ok {
		c.notFound()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	latest := map[string]*commitStatus{}
	var order []string
	for _, st := range c.rp.statuses[sha] {
		if _, seen := latest[st.context]; !seen {
			order = append(order, st.context)
		}
		latest[st.context] = st
	}
	sort.Strings(order)
	state := "success"
	if len(order) == 0 {
		state = "pending"
	}
	statuses := []obj{}
	for _, ctxName := range order {
		st := latest[ctxName]
		switch {
		case st.state == "error" || st.state == "failure":
			state = "failure"
		case st.state == "pending" && state != "failure":
			state = "pending"
		}
		statuses = append(statuses, s.statusJSON(c.rp, sha, st))
	}
	total := len(statuses)
	statuses = paged(c, statuses)
	repoJ := s.repoJSON(c.rp)
	c.json(http.StatusOK, obj{
		"state": state, "statuses": statuses, "sha": sha, "total_count": total, "repository": repoJ,
		"commit_url": s.api() + "/repos/" + c.rp.fullName() + "/commits/" + sha,
		"url":        s.api() + "/repos/" + c.rp.fullName() + "/commits/" + sha + "/status",
	})
}

// GET /repos/{owner}/{repo}/commits/{ref}/statuses
func (s *Server) listStatuses(c *call) {
	sha, ok := c.rp.git.resolve(c.ctx, c.param("ref"))
	if !ok {
		c.notFound()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := c.rp.statuses[sha]
	out := []obj{}
	for i := len(all) - 1; i >= 0; i-- {
		o := s.statusJSON(c.rp, sha, all[i])
		o["creator"] = s.userJSON(all[i].creator)
		out = append(out, o)
	}
	c.json(http.StatusOK, paged(c, out))
}
