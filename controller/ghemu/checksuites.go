package ghemu

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// checkSuite is the App's check suite for one head commit. GitHub keeps one
// suite per App and head SHA: a push creates it (and sends check_suite
// requested to Apps with checks: write), and creating a check run on a
// commit without one creates it silently.
type checkSuite struct {
	id         int64
	headSHA    string
	headBranch *string
	before     *string
	after      *string
	status     string // queued | in_progress | completed
	conclusion *string
	headCommit obj // SimpleCommit; nil when the commit could not be read
	created    time.Time
	updated    time.Time
}

// suiteConclusions ranks check run conclusions: a suite's conclusion is the
// first one in this list any of its completed runs has.
var suiteConclusions = []string{"action_required", "cancelled", "timed_out", "failure", "stale", "success", "neutral", "skipped"}

// simpleCommit reads sha as webhook payloads' SimpleCommit. It runs git, so
// the caller must not hold s.mu.
func (s *Server) simpleCommit(ctx context.Context, rp *repo, sha string) obj {
	ci, err := rp.git.readCommit(ctx, sha)
	if err != nil {
		return nil
	}
	person := func(sg signature) obj { return obj{"name": sg.name, "email": sg.email, "date": ts(sg.when)} }
	return obj{"id": sha, "tree_id": ci.tree, "message": ci.message, "timestamp": ts(ci.committer.when),
		"author": person(ci.author), "committer": person(ci.committer)}
}

// suiteFor returns the App's suite for sha, creating it when missing; created
// says whether it did. Without an App there are no suites. The caller holds
// s.mu.
func (s *Server) suiteFor(rp *repo, sha string, branch *string, headCommit obj) (cs *checkSuite, created bool) {
	if s.st.app == nil {
		return nil, false
	}
	if cs := rp.checkSuites[sha]; cs != nil {
		return cs, false
	}
	if rp.checkSuites == nil {
		rp.checkSuites = map[string]*checkSuite{}
	}
	now := s.now().UTC()
	cs = &checkSuite{id: s.st.newID(), headSHA: sha, headBranch: branch, status: "queued", headCommit: headCommit, created: now, updated: now}
	rp.checkSuites[sha] = cs
	return cs, true
}

// checkSuitePushed creates the App's suite for a pushed branch head and
// sends check_suite requested. It runs git, so the caller must not hold
// s.mu.
func (s *Server) checkSuitePushed(ctx context.Context, rp *repo, id identity, branch string, c refChange) {
	hc := s.simpleCommit(ctx, rp, c.after)
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, created := s.suiteFor(rp, c.after, &branch, hc)
	if !created {
		return
	}
	before, after := c.before, c.after
	cs.before, cs.after = &before, &after
	s.emitCheckSuite(rp, id, cs, "requested")
}

// checkRunsChanged recomputes the suite of sha from its check runs and sends
// check_suite completed when the last of them completes. The caller holds
// s.mu.
func (s *Server) checkRunsChanged(rp *repo, id identity, sha string, headCommit obj) {
	cs, _ := s.suiteFor(rp, sha, nil, headCommit)
	if cs == nil {
		return
	}
	was := cs.status
	cs.status, cs.conclusion = "queued", nil
	if runs := s.suiteRuns(rp, cs); len(runs) > 0 {
		done, started := 0, false
		seen := map[string]bool{}
		for _, cr := range runs {
			started = started || cr.status != "queued"
			if cr.status == "completed" {
				done++
				seen[*cr.conclusion] = true
			}
		}
		switch {
		case done == len(runs):
			cs.status = "completed"
			for _, c := range suiteConclusions {
				if seen[c] {
					cs.conclusion = &c
					break
				}
			}
		case started:
			cs.status = "in_progress"
		}
	}
	cs.updated = s.now().UTC()
	if was != "completed" && cs.status == "completed" {
		s.emitCheckSuite(rp, id, cs, "completed")
	}
}

// suiteRuns lists the newest run of each name on the suite's head commit, as
// GitHub's latest_check_runs_count counts them. The caller holds s.mu.
func (s *Server) suiteRuns(rp *repo, cs *checkSuite) []*checkRun {
	var runs []*checkRun
	latest := map[string]bool{}
	for i := len(rp.checkRuns) - 1; i >= 0; i-- {
		cr := rp.checkRuns[i]
		if cr.headSHA == cs.headSHA && !latest[cr.name] {
			latest[cr.name] = true
			runs = append(runs, cr)
		}
	}
	return runs
}

// emitCheckSuite sends a check_suite event. GitHub subscribes every App
// with checks: write to check_suite whether or not it lists the event, and
// sends it to no one else. The caller holds s.mu.
func (s *Server) emitCheckSuite(rp *repo, id identity, cs *checkSuite, action string) {
	a := s.st.app
	if a == nil || a.permissions["checks"] != "write" || !a.installed(rp) {
		return
	}
	o := s.envelope(rp, id, action)
	o["check_suite"] = s.checkSuiteJSON(rp, cs)
	s.deliver("check_suite", o)
}

// checkSuiteJSON renders a suite as check_suite payloads carry it. The
// caller holds s.mu.
func (s *Server) checkSuiteJSON(rp *repo, cs *checkSuite) obj {
	u := s.api() + "/repos/" + rp.fullName() + "/check-suites/" + itoa(cs.id)
	prs := []obj{}
	for _, pr := range s.checkPullRequests(rp, cs.headSHA) {
		if cs.headBranch == nil || pr["head"].(obj)["ref"] == *cs.headBranch {
			prs = append(prs, pr)
		}
	}
	var hc any
	if cs.headCommit != nil {
		hc = cs.headCommit
	}
	return obj{
		"id": cs.id, "node_id": nodeID("CheckSuite", cs.id), "head_branch": strPtr(cs.headBranch), "head_sha": cs.headSHA,
		"status": cs.status, "conclusion": strPtr(cs.conclusion), "url": u,
		"before": strPtr(cs.before), "after": strPtr(cs.after), "pull_requests": prs, "app": s.appJSON(),
		"created_at": ts(cs.created), "updated_at": ts(cs.updated),
		"latest_check_runs_count": len(s.suiteRuns(rp, cs)), "check_runs_url": u + "/check-runs",
		"head_commit": hc, "rerequestable": true, "runs_rerequestable": true,
	}
}

// requeue resets a suite to queued without a conclusion, as a rerequest
// does (its runs are left as they are). The caller holds s.mu.
func (s *Server) requeue(cs *checkSuite) {
	cs.status, cs.conclusion = "queued", nil
	cs.updated = s.now().UTC()
}

// POST /repos/{owner}/{repo}/check-runs/{check_run_id}/rerequest
//
// GitHub requeues the run's suite, leaves the run itself unchanged and
// sends check_run rerequested to the App that made the run. Users with
// write access may rerequest (the "Re-run" button), as may the App.
func (s *Server) rerequestCheckRun(c *call) {
	if !c.canWrite("checks") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cr := c.checkRunParam()
	if cr == nil {
		return
	}
	if cs := c.rp.checkSuites[cr.headSHA]; cs != nil {
		s.requeue(cs)
	}
	s.emitCheckRun(c.ctx, c.rp, c.id, cr, "rerequested")
	c.json(http.StatusCreated, obj{})
}

// POST /repos/{owner}/{repo}/check-suites/{check_suite_id}/rerequest
//
// GitHub requeues the suite and sends check_suite rerequested to its App.
func (s *Server) rerequestCheckSuite(c *call) {
	if !c.canWrite("checks") {
		return
	}
	id, _ := strconv.ParseInt(c.param("check_suite_id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cs := range c.rp.checkSuites {
		if cs.id == id {
			s.requeue(cs)
			s.emitCheckSuite(c.rp, c.id, cs, "rerequested")
			c.json(http.StatusCreated, obj{})
			return
		}
	}
	c.notFound()
}
