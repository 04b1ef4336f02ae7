package ghemu

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// wrap76 breaks base64 into lines the way GitHub's contents API does.
func wrapBase64(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(enc) > 60 {
		sb.WriteString(enc[:60])
		sb.WriteByte('\n')
		enc = enc[60:]
	}
	sb.WriteString(enc)
	sb.WriteByte('\n')
	return sb.String()
}

func entryType(e treeEntry) string {
	switch {
	case e.typ == "tree":
		return "dir"
	case e.mode == "120000":
		return "symlink"
	case e.typ == "commit":
		return "submodule"
	}
	return "file"
}

// contentJSON renders one content entry without its content.
func (s *Server) contentJSON(rp *repo, ref string, e treeEntry) obj {
	typ := entryType(e)
	self := s.api() + "/repos/" + rp.fullName() + "/contents/" + escapePath(e.path) + "?ref=" + url.QueryEscape(ref)
	gitURL := s.api() + "/repos/" + rp.fullName() + "/git/blobs/" + e.sha
	html := s.URL + "/" + rp.fullName() + "/blob/" + ref + "/" + escapePath(e.path)
	var download any = s.URL + "/" + rp.fullName() + "/raw/" + ref + "/" + escapePath(e.path)
	if typ == "dir" {
		gitURL = s.api() + "/repos/" + rp.fullName() + "/git/trees/" + e.sha
		html = s.URL + "/" + rp.fullName() + "/tree/" + ref + "/" + escapePath(e.path)
		download = nil
	}
	size := e.size
	if size < 0 {
		size = 0
	}
	return obj{
		"type": typ, "size": size, "name": path.Base(e.path), "path": e.path, "sha": e.sha,
		"url": self, "git_url": gitURL, "html_url": html, "download_url": download,
		"_links": obj{"self": self, "git": gitURL, "html": html},
	}
}

// GET /repos/{owner}/{repo}/contents/{path}
func (s *Server) getContents(c *call) {
	rp := c.rp
	ref, sha, ok := c.refQuery()
	if !ok {
		return
	}
	p := strings.Trim(c.param("path"), "/")
	var entries []treeEntry
	var err error
	if p == "" {
		entries, err = rp.git.lsTree(c.ctx, sha, false)
		if err != nil {
			c.notFound()
			return
		}
		c.json(http.StatusOK, s.dirJSON(rp, ref, entries))
		return
	}
	entries, err = rp.git.lsTree(c.ctx, sha, false, p)
	if err != nil || len(entries) != 1 || entries[0].path != p {
		c.notFound()
		return
	}
	e := entries[0]
	if e.typ == "tree" {
		kids, err := rp.git.lsTree(c.ctx, sha, false, p+"/")
		if err != nil {
			c.fail(http.StatusInternalServerError, "Server Error")
			return
		}
		c.json(http.StatusOK, s.dirJSON(rp, ref, kids))
		return
	}
	o := s.contentJSON(rp, ref, e)
	switch entryType(e) {
	case "file", "symlink":
		b, err := rp.git.catBlob(c.ctx, e.sha)
		if err != nil {
			c.fail(http.StatusInternalServerError, "Server Error")
			return
		}
		if strings.Contains(c.r.Header.Get("Accept"), "application/vnd.github.raw") {
			c.w.Header().Set("Content-Type", "application/octet-stream")
			c.w.WriteHeader(http.StatusOK)
			_, _ = c.w.Write(b)
			return
		}
		if entryType(e) == "symlink" {
			o["target"] = string(b)
		} else {
			o["encoding"] = "base64"
			o["content"] = wrapBase64(b)
		}
	case "submodule":
		o["submodule_git_url"] = s.URL + "/" + rp.fullName() + ".git"
	}
	c.json(http.StatusOK, o)
}

func (s *Server) dirJSON(rp *repo, ref string, entries []treeEntry) []obj {
	out := []obj{}
	for _, e := range entries {
		out = append(out, s.contentJSON(rp, ref, e))
	}
	return out
}

type personInput struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Date  string `json:"date"`
}

// PUT /repos/{owner}/{repo}/contents/{path}
func (s *Server) putContents(c *call) {
	var in struct {
		Message   *string      `json:"message"`
		Content   *string      `json:"content"`
		SHA       string       `json:"sha"`
		Branch    string       `json:"branch"`
		Committer *personInput `json:"committer"`
		Author    *personInput `json:"author"`
	}
	if !c.decode(&in) || !c.canWrite("contents") {
		return
	}
	s.writeFile(c, in.Message, in.Content, in.SHA, in.Branch, in.Author, in.Committer)
}

// DELETE /repos/{owner}/{repo}/contents/{path}
func (s *Server) deleteContents(c *call) {
	var in struct {
		Message   *string      `json:"message"`
		SHA       string       `json:"sha"`
		Branch    string       `json:"branch"`
		Committer *personInput `json:"committer"`
		Author    *personInput `json:"author"`
	}
	if !c.decode(&in) || !c.canWrite("contents") {
		return
	}
	if in.SHA == "" {
		c.invalid("", "sha", "missing_field", "")
		return
	}
	s.writeFile(c, in.Message, nil, in.SHA, in.Branch, in.Author, in.Committer)
}

// writeFile creates, updates (content != nil) or deletes a file with one
// commit on branch, guarded by the blob sha as GitHub does.
func (s *Server) writeFile(c *call, message, content *string, blobSHA, branch string, author, committer *personInput) {
	rp := c.rp
	p := strings.Trim(c.param("path"), "/")
	if message == nil || *message == "" {
		c.invalid("", "message", "missing_field", "")
		return
	}
	var data []byte
	if content != nil {
		var err error
		data, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(*content, "\n", ""))
		if err != nil {
			c.invalid("", "content", "invalid", "content is not valid Base64")
			return
		}
	}
	if p == "" {
		c.invalid("", "path", "invalid", "path is empty")
		return
	}
	if branch == "" {
		branch = rp.defaultBranch
	}
	rp.writeMu.Lock()
	defer rp.writeMu.Unlock()
	parent, ok := rp.git.resolve(c.ctx, "refs/heads/"+branch)
	if !ok && branch != rp.defaultBranch {
		c.fail(http.StatusNotFound, "Branch "+branch+" not found")
		return
	}
	var existing *treeEntry
	if parent != "" {
		es, err := rp.git.lsTree(c.ctx, parent, false, p)
		if err == nil && len(es) == 1 && es[0].path == p {
			existing = &es[0]
		}
	}
	switch {
	case content == nil && existing == nil:
		c.notFound()
		return
	case existing != nil && existing.typ == "tree":
		c.invalid("", "path", "invalid", p+" is a directory")
		return
	case content != nil && existing != nil && blobSHA == "":
		c.fail(http.StatusUnprocessableEntity, "Invalid request.\n\n\"sha\" wasn't supplied.")
		return
	case existing != nil && blobSHA != existing.sha:
		c.fail(http.StatusConflict, p+" does not match "+blobSHA)
		return
	}
	edit := indexEdit{path: p, remove: true}
	if content != nil {
		sha, err := rp.git.writeBlob(c.ctx, data)
		if err != nil {
			c.fail(http.StatusInternalServerError, "Server Error")
			return
		}
		edit = indexEdit{path: p, mode: "100644", sha: sha}
	}
	baseTree := ""
	if parent != "" {
		baseTree = parent + "^{tree}"
	}
	tree, err := rp.git.buildTree(c.ctx, baseTree, []indexEdit{edit})
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	now := s.now()
	who := signature{name: c.id.acct.commitName(), email: c.id.acct.commitEmail(), when: now}
	cm, au := who, who
	if committer != nil && committer.Name != "" && committer.Email != "" {
		cm = signature{name: committer.Name, email: committer.Email, when: now}
		au = cm
	}
	if author != nil && author.Name != "" && author.Email != "" {
		au = signature{name: author.Name, email: author.Email, when: now}
	}
	var parents []string
	if parent != "" {
		parents = []string{parent}
	}
	sha, err := rp.git.commitTree(c.ctx, tree, parents, *message, au, cm)
	if err == nil && parent != "" {
		// A protected branch takes a commit only as a push would.
		s.mu.Lock()
		reason, _ := s.refUpdateRefusal(rp, c.id, "refs/heads/"+branch, parent, sha)
		s.mu.Unlock()
		if reason != "" {
			c.fail(http.StatusConflict, reason)
			return
		}
	}
	if err == nil {
		err = rp.git.updateRef(c.ctx, "refs/heads/"+branch, sha, parent)
	}
	if err != nil {
		c.fail(http.StatusConflict, "Branch "+branch+" was modified; retry")
		return
	}
	before := parent
	if before == "" {
		before = zeroSHA
	}
	s.refsChanged(c.ctx, rp, c.id, []refChange{{ref: "refs/heads/" + branch, before: before, after: sha}}, false)
	ci, err := rp.git.readCommit(c.ctx, sha)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	out := obj{"content": nil, "commit": s.gitCommitJSON(rp, ci)}
	status := http.StatusOK
	if content != nil {
		es, err := rp.git.lsTree(c.ctx, sha, false, p)
		if err != nil || len(es) != 1 {
			c.fail(http.StatusInternalServerError, "Server Error")
			return
		}
		out["content"] = s.contentJSON(rp, branch, es[0])
		if existing == nil {
			status = http.StatusCreated
		}
	}
	c.json(status, out)
}
