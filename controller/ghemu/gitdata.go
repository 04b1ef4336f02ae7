package ghemu

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
	"time"
)

func (s *Server) gitCommitJSON(rp *repo, ci *commitInfo) obj {
	base := s.api() + "/repos/" + rp.fullName()
	parents := []obj{}
	for _, p := range ci.parents {
		parents = append(parents, obj{"sha": p, "url": base + "/git/commits/" + p, "html_url": s.URL + "/" + rp.fullName() + "/commit/" + p})
	}
	return obj{
		"sha": ci.sha, "node_id": nodeID("Commit", rp.id) + ci.sha[:8], "url": base + "/git/commits/" + ci.sha,
		"html_url": s.URL + "/" + rp.fullName() + "/commit/" + ci.sha,
		"author":   gitUserJSON(ci.author), "committer": gitUserJSON(ci.committer), "message": ci.message,
		"tree": obj{"sha": ci.tree, "url": base + "/git/trees/" + ci.tree}, "parents": parents,
		"verification": obj{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil},
	}
}

func (s *Server) refJSON(rp *repo, ref, sha, typ string) obj {
	base := s.api() + "/repos/" + rp.fullName()
	kind := "commits"
	if typ == "tag" {
		kind = "tags"
	}
	return obj{
		"ref": ref, "node_id": nodeID("Ref", rp.id) + sha[:8], "url": base + "/git/" + escapePath(ref),
		"object": obj{"type": typ, "sha": sha, "url": base + "/git/" + kind + "/" + sha},
	}
}

// GET /repos/{owner}/{repo}/git/ref/{ref}
func (s *Server) getRef(c *call) {
	ref := "refs/" + c.param("ref")
	refs, err := c.rp.git.refs(c.ctx)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	sha, ok := refs[ref]
	if !ok {
		c.notFound()
		return
	}
	c.json(http.StatusOK, s.refJSON(c.rp, ref, sha, c.rp.git.objectType(c.ctx, sha)))
}

// GET /repos/{owner}/{repo}/git/matching-refs/{ref}
func (s *Server) matchingRefs(c *call) {
	prefix := "refs/" + c.param("ref")
	refs, err := c.rp.git.refs(c.ctx)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	var names []string
	for r := range refs {
		if strings.HasPrefix(r, prefix) {
			names = append(names, r)
		}
	}
	sort.Strings(names)
	out := []obj{}
	for _, r := range names {
		out = append(out, s.refJSON(c.rp, r, refs[r], c.rp.git.objectType(c.ctx, refs[r])))
	}
	c.json(http.StatusOK, out)
}

func validRefName(ref string) bool {
	if !strings.HasPrefix(ref, "refs/") || strings.Count(ref, "/") < 2 {
		return false
	}
	for _, bad := range []string{"..", "//", "@{", "\\", " ", "~", "^", ":", "?", "*", "["} {
		if strings.Contains(ref, bad) {
			return false
		}
	}
	return !strings.HasSuffix(ref, "/") && !strings.HasSuffix(ref, ".lock") && !strings.HasSuffix(ref, ".")
}

// hiddenRefRefused answers 422 for a write to refs/pull/..., which only
// GitHub moves (GitHub's generic "Reference update failed"; the exact
// message for these refs is not documented).
func hiddenRefRefused(c *call, ref string) bool {
	if !hiddenRef(ref) {
		return false
	}
	c.fail(http.StatusUnprocessableEntity, "Reference update failed")
	return true
}

// POST /repos/{owner}/{repo}/git/refs
func (s *Server) createRef(c *call) {
	var in struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !c.decode(&in) || !c.canWrite("contents") {
		return
	}
	if !validRefName(in.Ref) {
		c.fail(http.StatusUnprocessableEntity, "Reference name must start with 'refs' and have at least two slashes.")
		return
	}
	if hiddenRefRefused(c, in.Ref) {
		return
	}
	rp := c.rp
	typ := rp.git.objectType(c.ctx, in.SHA)
	if len(in.SHA) != 40 || typ == "" {
		c.fail(http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	rp.writeMu.Lock()
	defer rp.writeMu.Unlock()
	if err := rp.git.updateRef(c.ctx, in.Ref, in.SHA, ""); err != nil {
		c.fail(http.StatusUnprocessableEntity, "Reference already exists")
		return
	}
	s.refsChanged(c.ctx, rp, c.id, []refChange{{ref: in.Ref, before: zeroSHA, after: in.SHA}}, false)
	c.json(http.StatusCreated, s.refJSON(rp, in.Ref, in.SHA, typ))
}

// PATCH /repos/{owner}/{repo}/git/refs/{ref}
func (s *Server) updateRef(c *call) {
	var in struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !c.decode(&in) || !c.canWrite("contents") {
		return
	}
	rp := c.rp
	ref := "refs/" + c.param("ref")
	if hiddenRefRefused(c, ref) {
		return
	}
	rp.writeMu.Lock()
	defer rp.writeMu.Unlock()
	refs, err := rp.git.refs(c.ctx)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	old, ok := refs[ref]
	if !ok {
		c.fail(http.StatusUnprocessableEntity, "Reference does not exist")
		return
	}
	typ := rp.git.objectType(c.ctx, in.SHA)
	if len(in.SHA) != 40 || typ == "" {
		c.fail(http.StatusUnprocessableEntity, "Object does not exist")
		return
	}
	ff, err := rp.git.isAncestor(c.ctx, old, in.SHA)
	if err != nil {
		ff = false
	}
	if !ff && !in.Force {
		c.fail(http.StatusUnprocessableEntity, "Update is not a fast forward")
		return
	}
	if !s.refUpdateAllowed(c, ref, old, in.SHA, ff) {
		return
	}
	if err := rp.git.updateRef(c.ctx, ref, in.SHA, old); err != nil {
		c.fail(http.StatusConflict, "Reference was modified concurrently; retry")
		return
	}
	if old != in.SHA {
		s.refsChanged(c.ctx, rp, c.id, []refChange{{ref: ref, before: old, after: in.SHA}}, true)
	}
	c.json(http.StatusOK, s.refJSON(rp, ref, in.SHA, typ))
}

// DELETE /repos/{owner}/{repo}/git/refs/{ref}
func (s *Server) deleteRef(c *call) {
	if !c.canWrite("contents") {
		return
	}
	rp := c.rp
	ref := "refs/" + c.param("ref")
	if hiddenRefRefused(c, ref) {
		return
	}
	rp.writeMu.Lock()
	defer rp.writeMu.Unlock()
	refs, err := rp.git.refs(c.ctx)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	old, ok := refs[ref]
	if !ok {
		c.fail(http.StatusUnprocessableEntity, "Reference does not exist")
		return
	}
	if !s.refUpdateAllowed(c, ref, old, zeroSHA, false) {
		return
	}
	if err := rp.git.deleteRef(c.ctx, ref, old); err != nil {
		c.fail(http.StatusConflict, "Reference was modified concurrently; retry")
		return
	}
	s.refsChanged(c.ctx, rp, c.id, []refChange{{ref: ref, before: old, after: zeroSHA}}, false)
	c.w.WriteHeader(http.StatusNoContent)
}

var treeModes = map[string]string{"100644": "blob", "100755": "blob", "040000": "tree", "160000": "commit", "120000": "blob"}

// POST /repos/{owner}/{repo}/git/trees
func (s *Server) createTree(c *call) {
	var in struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path    string  `json:"path"`
			Mode    string  `json:"mode"`
			Type    string  `json:"type"`
			SHA     *string `json:"sha"`
			Content *string `json:"content"`
		} `json:"tree"`
	}
	if !c.decode(&in) || !c.canWrite("contents") {
		return
	}
	rp := c.rp
	base := ""
	if in.BaseTree != "" {
		switch rp.git.objectType(c.ctx, in.BaseTree) {
		case "tree", "commit":
			base = in.BaseTree + "^{tree}"
		default:
			c.invalid("Tree", "base_tree", "invalid", "base_tree is not a valid tree oid")
			return
		}
	}
	if in.Tree == nil {
		c.invalid("Tree", "tree", "missing_field", "")
		return
	}
	var edits []indexEdit
	for i, e := range in.Tree {
		want, ok := treeModes[e.Mode]
		if !ok || (e.Type != "" && e.Type != want) || e.Path == "" || strings.HasPrefix(e.Path, "/") {
			c.invalid("Tree", "tree", "invalid", "tree["+itoa(int64(i))+"] has an invalid path, mode or type")
			return
		}
		switch {
		case e.Content != nil:
			sha, err := rp.git.writeBlob(c.ctx, []byte(*e.Content))
			if err != nil {
				c.fail(http.StatusInternalServerError, "Server Error")
				return
			}
			edits = append(edits, indexEdit{path: e.Path, mode: e.Mode, sha: sha})
		case e.SHA == nil:
			edits = append(edits, indexEdit{path: e.Path, remove: true})
		case want == "tree":
			if rp.git.objectType(c.ctx, *e.SHA) != "tree" {
				c.invalid("Tree", "tree", "invalid", "tree.sha "+*e.SHA+" is not a valid tree")
				return
			}
			kids, err := rp.git.lsTree(c.ctx, *e.SHA, true)
			if err != nil {
				c.fail(http.StatusInternalServerError, "Server Error")
				return
			}
			for _, k := range kids {
				if k.typ != "tree" {
					edits = append(edits, indexEdit{path: e.Path + "/" + k.path, mode: k.mode, sha: k.sha})
				}
			}
		default:
			if want == "blob" && rp.git.objectType(c.ctx, *e.SHA) != "blob" {
				c.invalid("Tree", "tree", "invalid", "tree.sha "+*e.SHA+" is not a valid blob")
				return
			}
			edits = append(edits, indexEdit{path: e.Path, mode: e.Mode, sha: *e.SHA})
		}
	}
	tree, err := rp.git.buildTree(c.ctx, base, edits)
	if err != nil {
		c.invalid("Tree", "tree", "invalid", "tree could not be built")
		return
	}
	s.writeTree(c, tree, false, http.StatusCreated)
}

func (s *Server) writeTree(c *call, tree string, recursive bool, status int) {
	rp := c.rp
	es, err := rp.git.lsTree(c.ctx, tree, recursive)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	base := s.api() + "/repos/" + rp.fullName()
	entries := []obj{}
	for _, e := range es {
		o := obj{"path": e.path, "mode": e.mode, "type": e.typ, "sha": e.sha}
		switch e.typ {
		case "blob":
			o["size"] = e.size
			o["url"] = base + "/git/blobs/" + e.sha
		case "tree":
			o["url"] = base + "/git/trees/" + e.sha
		}
		entries = append(entries, o)
	}
	c.json(status, obj{"sha": tree, "url": base + "/git/trees/" + tree, "truncated": false, "tree": entries})
}

// GET /repos/{owner}/{repo}/git/trees/{tree_sha}
func (s *Server) getTree(c *call) {
	rp := c.rp
	id := c.param("tree_sha")
	var tree string
	switch rp.git.objectType(c.ctx, id) {
	case "tree":
		tree = id
	case "commit":
		ci, err := rp.git.readCommit(c.ctx, id)
		if err != nil {
			c.notFound()
			return
		}
		tree = ci.tree
	default:
		sha, ok := rp.git.resolve(c.ctx, id)
		if !ok {
			c.notFound()
			return
		}
		ci, err := rp.git.readCommit(c.ctx, sha)
		if err != nil {
			c.notFound()
			return
		}
		tree = ci.tree
	}
	if len(tree) != 40 {
		out, err := rp.git.run(c.ctx, nil, nil, "rev-parse", "--verify", tree+"^{tree}")
		if err != nil {
			c.notFound()
			return
		}
		tree = strings.TrimSpace(string(out))
	}
	rec := c.r.URL.Query().Get("recursive")
	s.writeTree(c, tree, rec != "" && rec != "0" && rec != "false", http.StatusOK)
}

// POST /repos/{owner}/{repo}/git/commits
func (s *Server) createGitCommit(c *call) {
	var in struct {
		Message   *string      `json:"message"`
		Tree      string       `json:"tree"`
		Parents   []string     `json:"parents"`
		Author    *personInput `json:"author"`
		Committer *personInput `json:"committer"`
	}
	if !c.decode(&in) || !c.canWrite("contents") {
		return
	}
	rp := c.rp
	if in.Message == nil {
		c.invalid("Commit", "message", "missing_field", "")
		return
	}
	if len(in.Tree) != 40 || rp.git.objectType(c.ctx, in.Tree) != "tree" {
		c.invalid("Commit", "tree", "invalid", "Tree SHA does not exist")
		return
	}
	for _, p := range in.Parents {
		if len(p) != 40 || rp.git.objectType(c.ctx, p) != "commit" {
			c.invalid("Commit", "parents", "invalid", "Parent SHA does not exist or is not a commit object")
			return
		}
	}
	now := s.now()
	who := signature{name: c.id.acct.commitName(), email: c.id.acct.commitEmail(), when: now}
	person := func(p *personInput, def signature) (signature, bool) {
		if p == nil {
			return def, true
		}
		sg := signature{name: p.Name, email: p.Email, when: now}
		if sg.name == "" || sg.email == "" {
			return sg, false
		}
		if p.Date != "" {
			t, err := time.Parse(time.RFC3339, p.Date)
			if err != nil {
				return sg, false
			}
			sg.when = t
		}
		return sg, true
	}
	au, ok1 := person(in.Author, who)
	cm, ok2 := person(in.Committer, au)
	if !ok1 || !ok2 {
		c.invalid("Commit", "author", "invalid", "author and committer need a name, an email and an ISO 8601 date")
		return
	}
	sha, err := rp.git.commitTree(c.ctx, in.Tree, in.Parents, *in.Message, au, cm)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	ci, err := rp.git.readCommit(c.ctx, sha)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	c.json(http.StatusCreated, s.gitCommitJSON(rp, ci))
}

// GET /repos/{owner}/{repo}/git/commits/{commit_sha}
func (s *Server) getGitCommit(c *call) {
	sha := c.param("commit_sha")
	if c.rp.git.objectType(c.ctx, sha) != "commit" {
		c.notFound()
		return
	}
	ci, err := c.rp.git.readCommit(c.ctx, sha)
	if err != nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, s.gitCommitJSON(c.rp, ci))
}

// POST /repos/{owner}/{repo}/git/blobs
func (s *Server) createBlob(c *call) {
	var in struct {
		Content  *string `json:"content"`
		Encoding string  `json:"encoding"`
	}
	if !c.decode(&in) || !c.canWrite("contents") {
		return
	}
	if in.Content == nil {
		c.invalid("Blob", "content", "missing_field", "")
		return
	}
	data := []byte(*in.Content)
	switch in.Encoding {
	case "", "utf-8":
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(*in.Content, "\n", ""))
		if err != nil {
			c.invalid("Blob", "content", "invalid", "content is not valid Base64")
			return
		}
		data = b
	default:
		c.invalid("Blob", "encoding", "invalid", "encoding must be utf-8 or base64")
		return
	}
	sha, err := c.rp.git.writeBlob(c.ctx, data)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	c.json(http.StatusCreated, obj{"url": s.api() + "/repos/" + c.rp.fullName() + "/git/blobs/" + sha, "sha": sha})
}

// GET /repos/{owner}/{repo}/git/blobs/{file_sha}
func (s *Server) getBlob(c *call) {
	sha := c.param("file_sha")
	if c.rp.git.objectType(c.ctx, sha) != "blob" {
		c.notFound()
		return
	}
	b, err := c.rp.git.catBlob(c.ctx, sha)
	if err != nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, obj{
		"content": wrapBase64(b), "encoding": "base64", "url": s.api() + "/repos/" + c.rp.fullName() + "/git/blobs/" + sha,
		"sha": sha, "size": len(b), "node_id": nodeID("Blob", c.rp.id) + sha[:8],
	})
}
