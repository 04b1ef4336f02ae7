package ghemu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// issueParam resolves {issue_number}; only pull requests exist as issues
// here. It answers 404 itself.
func (c *call) issueParam() *issue {
	n, err := strconv.Atoi(c.param("issue_number"))
	if err == nil {
		if is := c.rp.issues[n]; is != nil {
			return is
		}
	}
	c.notFound()
	return nil
}

// GET /repos/{owner}/{repo}/issues/{issue_number}/comments
func (s *Server) listComments(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := c.issueParam()
	if is == nil {
		return
	}
	out := []obj{}
	for _, cm := range is.comments {
		out = append(out, s.commentJSON(c.rp, is.number, cm))
	}
	c.json(http.StatusOK, paged(c, out))
}

// POST /repos/{owner}/{repo}/issues/{issue_number}/comments
func (s *Server) createComment(c *call) {
	var in struct {
		Body *string `json:"body"`
	}
	if !c.decode(&in) || !c.canWrite("issues") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := c.issueParam()
	if is == nil {
		return
	}
	if in.Body == nil || *in.Body == "" {
		c.invalid("IssueComment", "body", "missing_field", "")
		return
	}
	if len(*in.Body) > 65536 {
		c.invalid("IssueComment", "body", "custom", "Body is too long (maximum is 65536 characters)")
		return
	}
	now := s.now().UTC()
	cm := &comment{id: s.st.newID(), user: c.id.acct, body: *in.Body, created: now, updated: now, viaApp: c.id.kind == installation}
	is.comments = append(is.comments, cm)
	s.emitIssueComment(c.ctx, c.rp, c.id, is, cm, "created", nil)
	c.json(http.StatusCreated, s.commentJSON(c.rp, is.number, cm))
}

// PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}
func (s *Server) updateComment(c *call) {
	var in struct {
		Body *string `json:"body"`
	}
	if !c.decode(&in) || !c.canWrite("issues") {
		return
	}
	id, _ := strconv.ParseInt(c.param("comment_id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, is := range c.rp.issues {
		for _, cm := range is.comments {
			if cm.id != id {
				continue
			}
			if in.Body == nil || *in.Body == "" {
				c.invalid("IssueComment", "body", "missing_field", "")
				return
			}
			if c.id.kind == userToken && cm.user != c.id.acct && c.rp.readers[strings.ToLower(c.id.acct.login)] {
				c.fail(http.StatusForbidden, "Must have push access to repository")
				return
			}
			from := cm.body
			cm.body = *in.Body
			cm.updated = s.now().UTC()
			s.emitIssueComment(c.ctx, c.rp, c.id, is, cm, "edited", obj{"changes": obj{"body": obj{"from": from}}})
			c.json(http.StatusOK, s.commentJSON(c.rp, is.number, cm))
			return
		}
	}
	c.notFound()
}

// labelNames reads a labels body: go-github sends a bare JSON array
// (["bug"]); GitHub also accepts {"labels": [...]} with strings or
// {"name": ...} objects, and a bare string.
func labelNames(c *call) ([]string, bool) {
	var raw json.RawMessage
	if !c.decode(&raw) {
		return nil, false
	}
	if len(raw) == 0 {
		return nil, true
	}
	var names []string
	if json.Unmarshal(raw, &names) == nil {
		return names, true
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true
	}
	var wrapped struct {
		Labels []json.RawMessage `json:"labels"`
	}
	if json.Unmarshal(raw, &wrapped) == nil {
		for _, l := range wrapped.Labels {
			var n string
			var o struct {
				Name string `json:"name"`
			}
			switch {
			case json.Unmarshal(l, &n) == nil:
				names = append(names, n)
			case json.Unmarshal(l, &o) == nil && o.Name != "":
				names = append(names, o.Name)
			default:
				c.invalid("Label", "labels", "invalid", "labels must be strings or objects with a name")
				return nil, false
			}
		}
		return names, true
	}
	c.invalid("Label", "labels", "invalid", "labels must be an array of strings")
	return nil, false
}

// labelColor is a stable colour for a label name.
func labelColor(name string) string {
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	const hex = "0123456789abcdef"
	b := make([]byte, 6)
	for i := range b {
		b[i] = hex[(h>>(4*i))&0xf]
	}
	return string(b)
}

func (s *Server) labelsJSON(rp *repo, is *issue) []obj {
	out := []obj{}
	for _, l := range is.labels {
		out = append(out, s.labelJSON(rp, l))
	}
	return out
}

// GET /repos/{owner}/{repo}/issues/{issue_number}/labels
func (s *Server) listLabels(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := c.issueParam()
	if is == nil {
		return
	}
	c.json(http.StatusOK, paged(c, s.labelsJSON(c.rp, is)))
}

func (s *Server) addLabelsTo(is *issue, names []string) {
	for _, n := range names {
		found := false
		for _, l := range is.labels {
			if strings.EqualFold(l.name, n) {
				found = true
			}
		}
		if !found && n != "" {
			is.labels = append(is.labels, &label{id: s.st.newID(), name: n, color: labelColor(n)})
		}
	}
}

// POST /repos/{owner}/{repo}/issues/{issue_number}/labels
func (s *Server) addLabels(c *call) {
	names, ok := labelNames(c)
	if !ok || !c.canWrite("issues") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := c.issueParam()
	if is == nil {
		return
	}
	s.addLabelsTo(is, names)
	c.json(http.StatusOK, s.labelsJSON(c.rp, is))
}

// PUT /repos/{owner}/{repo}/issues/{issue_number}/labels
func (s *Server) setLabels(c *call) {
	names, ok := labelNames(c)
	if !ok || !c.canWrite("issues") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := c.issueParam()
	if is == nil {
		return
	}
	is.labels = nil
	s.addLabelsTo(is, names)
	c.json(http.StatusOK, s.labelsJSON(c.rp, is))
}

// DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}
func (s *Server) removeLabel(c *call) {
	if !c.canWrite("issues") {
		return
	}
	name, err := url.PathUnescape(c.param("name"))
	if err != nil {
		name = c.param("name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := c.issueParam()
	if is == nil {
		return
	}
	for i, l := range is.labels {
		if strings.EqualFold(l.name, name) {
			is.labels = append(is.labels[:i], is.labels[i+1:]...)
			c.json(http.StatusOK, s.labelsJSON(c.rp, is))
			return
		}
	}
	c.json(http.StatusNotFound, errorBody{Message: "Label does not exist", DocumentationURL: c.docs(), Status: "404"})
}
