package ghemu

import (
	"net/http"
	"strconv"
)

var reviewEvents = map[string]string{
	"APPROVE":         "APPROVED",
	"REQUEST_CHANGES": "CHANGES_REQUESTED",
	"COMMENT":         "COMMENTED",
}

// canReview answers 401/403 unless the caller may review: any user with
// access, or an installation with pull_requests write.
func (c *call) canReview() bool {
	if c.id.kind == userToken {
		return true
	}
	return c.canWrite("pull_requests")
}

// reviewParam resolves {review_id} on p; pending reviews are visible only to
// their author.
func (c *call) reviewParam(p *pull) *review {
	id, _ := strconv.ParseInt(c.param("review_id"), 10, 64)
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, rv := range p.reviews {
		if rv.id == id && (rv.state != "PENDING" || rv.user == c.id.acct) {
			return rv
		}
	}
	c.notFound()
	return nil
}

// validateEvent checks a review event and body; it answers 422 itself.
func (c *call) validateEvent(p *pull, event string, body string) (string, bool) {
	state, ok := reviewEvents[event]
	if !ok {
		c.failSimple("Unprocessable Entity: event must be one of APPROVE, REQUEST_CHANGES, COMMENT")
		return "", false
	}
	if c.id.acct == p.user {
		switch state {
		case "APPROVED":
			c.failSimple("Can not approve your own pull request")
			return "", false
		case "CHANGES_REQUESTED":
			c.failSimple("Can not request changes on your own pull request")
			return "", false
		}
	}
	if body == "" && state != "APPROVED" {
		c.failSimple("Body is required when using " + event)
		return "", false
	}
	return state, true
}

// POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews
func (s *Server) createReview(c *call) {
	var in struct {
		CommitID string `json:"commit_id"`
		Body     string `json:"body"`
		Event    string `json:"event"`
	}
	if !c.decode(&in) || !c.canReview() {
		return
	}
	p := c.pullParam()
	if p == nil {
		return
	}
	if in.CommitID != "" && c.rp.git.objectType(c.ctx, in.CommitID) != "commit" {
		c.failSimple("Commit " + in.CommitID + " could not be found")
		return
	}
	state := "PENDING"
	if in.Event != "" {
		var ok bool
		if state, ok = c.validateEvent(p, in.Event, in.Body); !ok {
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == "PENDING" {
		for _, rv := range p.reviews {
			if rv.state == "PENDING" && rv.user == c.id.acct {
				c.failSimple("User can only have one pending review per pull request")
				return
			}
		}
	}
	rv := &review{id: s.st.newID(), user: c.id.acct, body: in.Body, state: state, commitID: in.CommitID}
	if rv.commitID == "" {
		rv.commitID = p.headSHA
	}
	if state != "PENDING" {
		now := s.now().UTC()
		rv.submittedAt = &now
	}
	p.reviews = append(p.reviews, rv)
	if state != "PENDING" {
		s.log.Info("review submitted", logKeyRepo, c.rp.fullName(), logKeyPR, p.number, logKeyLogin, c.id.login(), logKeyState, state)
		s.emitReview(c.ctx, c.rp, c.id, p, rv, "submitted")
	}
	c.json(http.StatusOK, s.reviewJSON(c.rp, p, rv, false))
}

// POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/events
func (s *Server) submitReview(c *call) {
	var in struct {
		Body  string `json:"body"`
		Event string `json:"event"`
	}
	if !c.decode(&in) || !c.canReview() {
		return
	}
	p := c.pullParam()
	if p == nil {
		return
	}
	rv := c.reviewParam(p)
	if rv == nil {
		return
	}
	body := in.Body
	if body == "" {
		body = rv.body
	}
	state, ok := c.validateEvent(p, in.Event, body)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rv.state != "PENDING" || rv.user != c.id.acct {
		c.failSimple("Can not submit a review that is not pending")
		return
	}
	now := s.now().UTC()
	rv.state, rv.body, rv.submittedAt = state, body, &now
	s.emitReview(c.ctx, c.rp, c.id, p, rv, "submitted")
	c.json(http.StatusOK, s.reviewJSON(c.rp, p, rv, false))
}

// GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews
func (s *Server) listReviews(c *call) {
	p := c.pullParam()
	if p == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var rvs []*review
	for _, rv := range p.reviews {
		if rv.state != "PENDING" || rv.user == c.id.acct {
			rvs = append(rvs, rv)
		}
	}
	out := []obj{}
	for _, rv := range paged(c, rvs) {
		out = append(out, s.reviewJSON(c.rp, p, rv, false))
	}
	c.json(http.StatusOK, out)
}

// GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}
func (s *Server) getReview(c *call) {
	p := c.pullParam()
	if p == nil {
		return
	}
	rv := c.reviewParam(p)
	if rv == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c.json(http.StatusOK, s.reviewJSON(c.rp, p, rv, false))
}

// PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals
func (s *Server) dismissReview(c *call) {
	var in struct {
		Message string `json:"message"`
		Event   string `json:"event"`
	}
	if !c.decode(&in) || !c.canWrite("pull_requests") {
		return
	}
	p := c.pullParam()
	if p == nil {
		return
	}
	rv := c.reviewParam(p)
	if rv == nil {
		return
	}
	if in.Message == "" {
		c.failSimple("message is required to dismiss a review")
		return
	}
	if in.Event != "" && in.Event != "DISMISS" {
		c.failSimple("event must be DISMISS")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch rv.state {
	case "APPROVED", "CHANGES_REQUESTED":
	case "PENDING":
		c.failSimple("Can not dismiss a pending pull request review")
		return
	default:
		c.failSimple("Can not dismiss a " + lower(rv.state) + " pull request review")
		return
	}
	rv.state = "DISMISSED"
	s.emitReview(c.ctx, c.rp, c.id, p, rv, "dismissed")
	c.json(http.StatusOK, s.reviewJSON(c.rp, p, rv, false))
}
