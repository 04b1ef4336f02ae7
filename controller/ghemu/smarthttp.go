package ghemu

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// isGitPath reports whether p is a smart-HTTP URL: /OWNER/REPO.git/...
func isGitPath(p string) bool {
	// ".." or empty segments could walk out of the repository under
	// GIT_PROJECT_ROOT; such paths are not git paths (and answer 404).
	if strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.Contains(p, "//") || strings.Contains(p, "\\") {
		return false
	}
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
	return len(parts) >= 2 && strings.HasSuffix(parts[1], ".git") && len(parts[1]) > 4
}

// withGitSuffix turns a smart-HTTP request path without ".git"
// (/OWNER/REPO/info/refs) into the ".git" form; other paths come back
// unchanged.
func withGitSuffix(p string) string {
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
	if len(parts) != 3 || strings.HasSuffix(parts[1], ".git") {
		return p
	}
	switch parts[2] {
	case "info/refs", "git-upload-pack", "git-receive-pack":
		return "/" + parts[0] + "/" + parts[1] + ".git/" + parts[2]
	}
	return p
}

// GitURL is the smart-HTTP clone URL of owner/repo (without credentials).
func (s *Server) GitURL(owner, repo string) string {
	return s.URL + "/" + owner + "/" + repo + ".git"
}

// serveGit serves git clone/fetch/push through the real `git http-backend`,
// authenticated with a user or installation token as the basic-auth
// password. A push is serialised with every other write to the repository
// and turned into push (and pull request) events afterwards.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	owner, name := parts[0], strings.TrimSuffix(parts[1], ".git")
	rec := Request{Method: r.Method, Route: "GIT " + r.Method + " /{owner}/{repo}.git", Path: r.URL.Path}
	defer func() { s.record(rec) }()

	push := strings.HasSuffix(r.URL.Path, "/git-receive-pack") || r.URL.Query().Get("service") == "git-receive-pack"
	id, err := s.authenticate(r)
	if err != nil || id.kind == appJWT {
		rec.Status = s.gitAuthFail(w)
		return
	}
	rec.Login = id.login()

	s.mu.Lock()
	rp := s.st.repos[strings.ToLower(owner+"/"+name)]
	readable := rp != nil && s.canRead(id, rp)
	denied := ""
	if readable && push {
		denied = s.writeDenied(id, rp, "contents")
	}
	s.mu.Unlock()
	switch {
	case !readable && id.kind == anonymous:
		rec.Status = s.gitAuthFail(w)
		return
	case !readable:
		rec.Status = http.StatusNotFound
		http.Error(w, "Repository not found.", http.StatusNotFound)
		return
	case push && id.kind == anonymous:
		rec.Status = s.gitAuthFail(w)
		return
	case denied != "":
		rec.Status = http.StatusForbidden
		http.Error(w, "Permission to "+rp.fullName()+".git denied to "+id.login()+".", http.StatusForbidden)
		return
	}

	gitPath, err := exec.LookPath("git")
	if err != nil {
		rec.Status = http.StatusInternalServerError
		http.Error(w, "git is not installed", http.StatusInternalServerError)
		return
	}
	h := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Dir:  filepath.Join(s.cfg.DataDir, "repos"),
		Env: append(gitEnv(),
			"GIT_PROJECT_ROOT="+filepath.Join(s.cfg.DataDir, "repos"),
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER="+id.login(),
		),
		InheritEnv: []string{"TMPDIR"},
		Stderr:     os.Stderr,
	}
	// refs/pull/* are GitHub's: fetchable, hidden from pushes, and
	// receive-pack refuses to update them ("deny updating a hidden ref"),
	// as on GitHub.
	config := []string{"receive.hideRefs", "refs/pull"}
	sw := &statusWriter{ResponseWriter: w}
	if !push || r.Method != http.MethodPost {
		h.Env = append(h.Env, configEnv(config...)...)
		h.ServeHTTP(sw, r)
		rec.Status = sw.status
		return
	}
	// Branch protection: judge the ref updates the push asks for, and let
	// the pre-receive hook enforce the verdicts once the pack is in.
	raw, decoded, err := readPushBody(r.Body, r.Header.Get("Content-Encoding"))
	if raw == nil {
		rec.Status = http.StatusBadRequest
		http.Error(w, "reading the request body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var cmds []pushCommand
	if err == nil {
		cmds, _ = parsePushCommands(decoded) // unparsed: protected refs are refused
	}
	hooks, err := hooksDir(s.cfg.DataDir)
	if err != nil {
		s.log.Error("installing the pre-receive hook", logKeyRepo, rp.fullName(), logKeyErr, err)
		rec.Status = http.StatusInternalServerError
		http.Error(w, "installing the pre-receive hook", http.StatusInternalServerError)
		return
	}
	rp.writeMu.Lock()
	defer rp.writeMu.Unlock()
	s.mu.Lock()
	h.Env = append(h.Env, s.pushProtectionEnv(rp, id, cmds)...)
	s.mu.Unlock()
	h.Env = append(h.Env, configEnv(append(config, "core.hooksPath", hooks)...)...)
	ctx := context.WithoutCancel(r.Context())
	before, err := rp.git.refs(ctx)
	if err != nil {
		rec.Status = http.StatusInternalServerError
		http.Error(w, "reading refs", http.StatusInternalServerError)
		return
	}
	h.ServeHTTP(sw, r)
	rec.Status = sw.status
	after, err := rp.git.refs(ctx)
	if err != nil {
		s.log.Error("reading refs after push", logKeyRepo, rp.fullName(), logKeyErr, err)
		return
	}
	s.refsChanged(ctx, rp, id, diffRefs(before, after), true)
}

// configEnv passes git configuration (key, value, key, value...) through
// the environment (GIT_CONFIG_COUNT).
func configEnv(kv ...string) []string {
	env := []string{"GIT_CONFIG_COUNT=" + strconv.Itoa(len(kv)/2)}
	for i := 0; i+1 < len(kv); i += 2 {
		n := strconv.Itoa(i / 2)
		env = append(env, "GIT_CONFIG_KEY_"+n+"="+kv[i], "GIT_CONFIG_VALUE_"+n+"="+kv[i+1])
	}
	return env
}

func (s *Server) gitAuthFail(w http.ResponseWriter) int {
	w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
	http.Error(w, "Invalid username or token. Password authentication is not supported for Git operations.", http.StatusUnauthorized)
	return http.StatusUnauthorized
}

// refChange is one ref moved by a push or an API write.
type refChange struct {
	ref    string
	before string // zeroSHA when created
	after  string // zeroSHA when deleted
}

func diffRefs(before, after map[string]string) []refChange {
	var cs []refChange
	for ref, a := range after {
		if b := before[ref]; b != a {
			if b == "" {
				b = zeroSHA
			}
			cs = append(cs, refChange{ref: ref, before: b, after: a})
		}
	}
	for ref, b := range before {
		if _, ok := after[ref]; !ok {
			cs = append(cs, refChange{ref: ref, before: b, after: zeroSHA})
		}
	}
	return cs
}

// refsChanged records the effects of moved refs: push webhooks, pull request
// head updates (synchronize), stale approval dismissal and the auto-merges
// that can now happen. The caller holds rp.writeMu.
func (s *Server) refsChanged(ctx context.Context, rp *repo, id identity, changes []refChange, forcedCheck bool) {
	for _, c := range changes {
		if !strings.HasPrefix(c.ref, "refs/heads/") && !strings.HasPrefix(c.ref, "refs/tags/") {
			continue
		}
		branch, isBranch := strings.CutPrefix(c.ref, "refs/heads/")
		forced := false
		if forcedCheck && c.before != zeroSHA && c.after != zeroSHA {
			ff, err := rp.git.isAncestor(ctx, c.before, c.after)
			forced = err == nil && !ff
		}
		s.emitPush(ctx, rp, id, c, forced)
		if c.after == zeroSHA || !isBranch {
			continue
		}
		s.mu.Lock()
		now := s.now().UTC()
		rp.pushed = now
		var moved []*pull
		for _, is := range rp.issues {
			if p := is.pr; p != nil && p.state == "open" && p.headRef == branch && p.headSHA != c.after {
				moved = append(moved, p)
			}
		}
		s.mu.Unlock()
		for _, p := range moved {
			s.headMoved(ctx, rp, id, p, c.after, now)
		}
	}
	// A moved base or head may let an auto-merge pull request merge.
	s.runAutoMerges(ctx, rp)
}

// headMoved updates a pull request whose head branch moved to sha, and its
// refs/pull/N/head. The caller holds rp.writeMu.
func (s *Server) headMoved(ctx context.Context, rp *repo, id identity, p *pull, sha string, now time.Time) {
	s.mu.Lock()
	baseRef := p.baseRef
	s.mu.Unlock()
	base, ok := rp.git.resolve(ctx, "refs/heads/"+baseRef)
	var stats prStats
	if ok {
		stats = s.pullStats(ctx, rp, baseRef, base, sha, true)
	}
	if err := rp.git.setRef(ctx, pullHeadRef(p.number), sha); err != nil {
		s.log.Error("moving the pull request head ref", logKeyRepo, rp.fullName(), logKeyPR, p.number, logKeyErr, err)
	}
	s.mu.Lock()
	before := p.headSHA
	p.headSHA = sha
	p.updated = now
	if ok {
		p.baseSHA, p.stats = base, stats
	}
	var dismissed []*review
	if rp.protection[p.baseRef].DismissStaleReviews {
		for _, rv := range p.reviews {
			if rv.state == "APPROVED" {
				rv.state = "DISMISSED"
				dismissed = append(dismissed, rv)
			}
		}
	}
	s.emitPullRequest(ctx, rp, id, p, "synchronize", map[string]any{"before": before, "after": sha})
	for _, rv := range dismissed {
		s.emitReview(ctx, rp, id, p, rv, "dismissed")
	}
	if p.autoMerge != nil && s.writeDenied(id, rp, "contents") != "" {
		s.disableAutoMerge(ctx, rp, p, id, reasonNonWriter)
	}
	s.mu.Unlock()
}
