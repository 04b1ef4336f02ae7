package ghemu

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func gitUserJSON(sg signature) obj {
	return obj{"name": sg.name, "email": sg.email, "date": ts(sg.when)}
}

// commitJSON renders a commit (the "commit" schema); files adds stats and
// files. It must be called without s.mu held.
func (s *Server) commitJSON(rp *repo, ci *commitInfo, files []fileChange) obj {
	base := s.api() + "/repos/" + rp.fullName()
	parents := []obj{}
	for _, p := range ci.parents {
		parents = append(parents, obj{"sha": p, "url": base + "/commits/" + p, "html_url": s.URL + "/" + rp.fullName() + "/commit/" + p})
	}
	s.mu.Lock()
	author, committer := s.accountJSONByEmail(ci.author.email), s.accountJSONByEmail(ci.committer.email)
	s.mu.Unlock()
	o := obj{
		"url": base + "/commits/" + ci.sha, "sha": ci.sha, "node_id": nodeID("Commit", rp.id) + ci.sha[:8],
		"html_url": s.URL + "/" + rp.fullName() + "/commit/" + ci.sha, "comments_url": base + "/commits/" + ci.sha + "/comments",
		"commit": obj{
			"url": base + "/git/commits/" + ci.sha, "author": gitUserJSON(ci.author), "committer": gitUserJSON(ci.committer),
			"message": ci.message, "comment_count": 0,
			"tree":         obj{"sha": ci.tree, "url": base + "/git/trees/" + ci.tree},
			"verification": obj{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil},
		},
		"author": author, "committer": committer, "parents": parents,
	}
	if files != nil {
		adds, dels := 0, 0
		fs := []obj{}
		for _, f := range files {
			adds += f.additions
			dels += f.deletions
			fs = append(fs, s.diffEntryJSON(rp, ci.sha, f))
		}
		o["stats"] = obj{"total": adds + dels, "additions": adds, "deletions": dels}
		o["files"] = fs
	}
	return o
}

// accountJSONByEmail maps a commit email to a user as GitHub does, or {}.
func (s *Server) accountJSONByEmail(email string) any {
	for _, a := range s.st.users {
		if a.ownsEmail(email) {
			return s.userJSON(a)
		}
	}
	if s.st.app != nil && strings.EqualFold(s.st.app.botAccount().commitEmail(), email) {
		return s.userJSON(s.st.app.botAccount())
	}
	return obj{}
}

// commitWithFiles reads sha and its diff against its first parent.
func (s *Server) commitWithFiles(ctx context.Context, rp *repo, sha string) (obj, error) {
	ci, err := rp.git.readCommit(ctx, sha)
	if err != nil {
		return nil, err
	}
	from := emptyTree
	if len(ci.parents) > 0 {
		from = ci.parents[0]
	}
	files, err := rp.git.diff(ctx, from, sha)
	if err != nil {
		return nil, err
	}
	if len(files) > 300 {
		files = files[:300]
	}
	if files == nil {
		files = []fileChange{}
	}
	return s.commitJSON(rp, ci, files), nil
}

// GET /repos/{owner}/{repo}/commits
func (s *Server) listCommits(c *call) {
	q := c.r.URL.Query()
	start := q.Get("sha")
	if start == "" {
		start = c.rp.defaultBranch
	}
	sha, ok := c.rp.git.resolve(c.ctx, start)
	if !ok {
		if start == c.rp.defaultBranch {
			c.fail(http.StatusConflict, "Git Repository is empty.")
			return
		}
		c.notFound()
		return
	}
	args := []string{"rev-list", sha}
	for _, f := range []struct{ param, flag string }{{"since", "--since="}, {"until", "--until="}} {
		if v := q.Get(f.param); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				c.fail(http.StatusBadRequest, "Invalid "+f.param+" timestamp: "+v)
				return
			}
			args = append(args, f.flag+itoa(t.Unix()))
		}
	}
	if a := q.Get("author"); a != "" {
		s.mu.Lock()
		if acct := s.st.accounts[strings.ToLower(a)]; acct != nil {
			a = acct.commitEmail()
		}
		s.mu.Unlock()
		args = append(args, "--fixed-strings", "--author="+a)
	}
	if p := q.Get("path"); p != "" {
		args = append(args, "--", p)
	}
	out, err := c.rp.git.run(c.ctx, nil, nil, args...)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	shas := paged(c, strings.Fields(string(out)))
	list := []obj{}
	for _, sha := range shas {
		ci, err := c.rp.git.readCommit(c.ctx, sha)
		if err != nil {
			c.fail(http.StatusInternalServerError, "Server Error")
			return
		}
		list = append(list, s.commitJSON(c.rp, ci, nil))
	}
	c.json(http.StatusOK, list)
}

// GET /repos/{owner}/{repo}/commits/{ref}
func (s *Server) getCommit(c *call) {
	sha, ok := c.rp.git.resolve(c.ctx, c.param("ref"))
	if !ok {
		c.fail(http.StatusUnprocessableEntity, "No commit found for SHA: "+c.param("ref"))
		return
	}
	o, err := s.commitWithFiles(c.ctx, c.rp, sha)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	c.json(http.StatusOK, o)
}

// GET /repos/{owner}/{repo}/compare/{basehead}
func (s *Server) compareCommits(c *call) {
	baseName, headName, ok := strings.Cut(c.param("basehead"), "...")
	if !ok {
		c.notFound()
		return
	}
	strip := func(n string) string {
		if owner, br, ok := strings.Cut(n, ":"); ok && strings.EqualFold(owner, c.rp.owner.login) {
			return br
		}
		return n
	}
	rp := c.rp
	base, ok1 := rp.git.resolve(c.ctx, strip(baseName))
	head, ok2 := rp.git.resolve(c.ctx, strip(headName))
	if !ok1 || !ok2 {
		c.notFound()
		return
	}
	mb, err := rp.git.mergeBase(c.ctx, base, head)
	if err != nil || mb == "" {
		c.notFound()
		return
	}
	aheadList, err1 := rp.git.revList(c.ctx, head, []string{base}, 0)
	behindList, err2 := rp.git.revList(c.ctx, base, []string{head}, 0)
	files, err3 := rp.git.diff(c.ctx, mb, head)
	if err1 != nil || err2 != nil || err3 != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	status := "diverged"
	switch {
	case len(aheadList) == 0 && len(behindList) == 0:
		status = "identical"
	case len(behindList) == 0:
		status = "ahead"
	case len(aheadList) == 0:
		status = "behind"
	}
	shown := aheadList
	if len(shown) > 250 {
		shown = shown[:250]
	}
	commits := []obj{}
	for i := len(shown) - 1; i >= 0; i-- {
		ci, err := rp.git.readCommit(c.ctx, shown[i])
		if err != nil {
			c.fail(http.StatusInternalServerError, "Server Error")
			return
		}
		commits = append(commits, s.commitJSON(rp, ci, nil))
	}
	baseCommit, err1 := s.commitWithFiles(c.ctx, rp, base)
	mbCommit, err2 := s.commitWithFiles(c.ctx, rp, mb)
	if err1 != nil || err2 != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	fs := []obj{}
	for _, f := range files {
		fs = append(fs, s.diffEntryJSON(rp, head, f))
	}
	bh := c.param("basehead")
	c.json(http.StatusOK, obj{
		"url":           s.api() + "/repos/" + rp.fullName() + "/compare/" + bh,
		"html_url":      s.URL + "/" + rp.fullName() + "/compare/" + bh,
		"permalink_url": s.URL + "/" + rp.fullName() + "/compare/" + base[:7] + "..." + head[:7],
		"diff_url":      s.URL + "/" + rp.fullName() + "/compare/" + bh + ".diff",
		"patch_url":     s.URL + "/" + rp.fullName() + "/compare/" + bh + ".patch",
		"base_commit":   baseCommit, "merge_base_commit": mbCommit, "status": status,
		"ahead_by": len(aheadList), "behind_by": len(behindList), "total_commits": len(aheadList),
		"commits": commits, "files": fs,
	})
}
