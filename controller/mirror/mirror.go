// Package mirror keeps the App's local bare mirror of the access
// repository: the branches and pull request heads of the remote, fetched
// over HTTPS with an installation token, and read with controller/history.
//
// On disk the mirror is a bare repository in DIR/.git (core.bare set, no
// work tree ever checked out), so that history.Open(DIR), which looks for a
// .git directory in DIR and its parents, opens the mirror itself and never
// a repository around it.
//
// It runs the real git binary. The token reaches git only through the
// environment of the fetch (an http.extraHeader in GIT_CONFIG_*), never on
// the command line, in the URL or in a config file, and is redacted from
// every error. Git runs hermetically: the inherited GIT_* environment, the
// system and the global git configuration are ignored, so nothing outside
// the mirror (a credential helper, a url.insteadOf) takes part.
package mirror

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jitops/jit/controller/history"
)

// Config says where the mirror lives and what it mirrors.
type Config struct {
	// Dir is the data directory for the bare mirror; it is created if
	// missing and must otherwise be empty or a bare git repository.
	Dir string
	// URL is the https clone URL of the access repository, without
	// credentials. Plain http is accepted only for a loopback host (the
	// emulator in tests and jit dev).
	URL string
	// Token returns the installation token; it is asked once per fetch.
	Token func(ctx context.Context) (string, error)
	// Logger receives one debug record per fetch; nil discards.
	Logger *slog.Logger
}

// Mirror is a bare local mirror of one remote repository. Its methods are
// safe for concurrent use.
type Mirror struct {
	dir    string // the data directory
	gitDir string // dir/.git, the bare repository
	url    string
	token  func(ctx context.Context) (string, error)
	logger *slog.Logger
	// git is the git binary run; tests point it at a wrapper.
	git string

	// rw orders fetches (writers) against reads.
	rw sync.RWMutex

	// mu guards the fetch queue below.
	mu      sync.Mutex
	running bool   // a fetch goroutine is working through rounds
	current *round // the fetch running now, if any
	pending *round // the next fetch, shared by everyone asking while one runs
}

// round is one fetch shared by every caller that asked for it.
type round struct {
	// started is when the fetch began (zero while it waits its turn).
	started time.Time
	ctx     context.Context
	cancel  context.CancelFunc
	waiters int           // callers still waiting; none left cancels it
	done    chan struct{} // closed once err is set
	err     error
}

// Open opens the mirror in cfg.Dir, initialising an empty bare repository
// there when it is new. It never touches the network.
func Open(ctx context.Context, cfg Config) (*Mirror, error) {
	if cfg.Dir == "" {
		return nil, errors.New("mirror: no data directory configured; set Config.Dir")
	}
	if err := checkURL(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Token == nil {
		return nil, errors.New("mirror: no token source configured; set Config.Token")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("mirror: resolving data directory %s: %w", cfg.Dir, err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Mirror{dir: dir, gitDir: filepath.Join(dir, ".git"), url: cfg.URL, token: cfg.Token, logger: logger, git: "git"}
	if err := m.init(ctx); err != nil {
		return nil, err
	}
	if err := m.claim(); err != nil {
		return nil, err
	}
	return m, nil
}

// remoteFile records which repository a mirror follows, so that a data
// directory is never reused for another repository (whose branches and
// pull request heads would mix with the old one's).
const remoteFile = "jit-remote"

// claim records m.url in a new mirror, and refuses a mirror of another URL.
func (m *Mirror) claim() error {
	p := filepath.Join(m.gitDir, remoteFile)
	data, err := os.ReadFile(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.WriteFile(p, []byte(m.url+"\n"), 0o600); err != nil {
			return fmt.Errorf("mirror: recording the remote in %s: %w", p, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("mirror: reading %s: %w", p, err)
	}
	if got := strings.TrimSpace(string(data)); got != m.url {
		return fmt.Errorf("mirror: data directory %s mirrors %s, not %s; give this repository its own data directory", m.dir, got, m.url)
	}
	return nil
}

// checkURL accepts an http(s) URL without credentials, query or fragment;
// plain http only for a loopback host.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return fmt.Errorf("mirror: clone URL %q is not a URL; set Config.URL to the repository's https clone URL", raw)
	}
	switch {
	case u.User != nil:
		return fmt.Errorf("mirror: clone URL %s carries credentials; remove them, the token comes from Config.Token", u.Redacted())
	case u.Host == "":
		return fmt.Errorf("mirror: clone URL %q has no host; set Config.URL to the repository's https clone URL", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("mirror: clone URL %q has a query or fragment; use the plain https clone URL", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("mirror: clone URL %s is plain http to a non-loopback host, which would send the token in clear; use https", raw)
	}
	return fmt.Errorf("mirror: clone URL %s has scheme %q; use the repository's https clone URL", raw, u.Scheme)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// init makes m.gitDir a bare repository unless it is one already.
func (m *Mirror) init(ctx context.Context) error {
	if isBare(m.gitDir) {
		return nil
	}
	entries, err := os.ReadDir(m.dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(m.dir, 0o700); err != nil {
			return fmt.Errorf("mirror: creating data directory: %w", err)
		}
	case err != nil:
		return fmt.Errorf("mirror: reading data directory: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("mirror: data directory %s is neither empty nor a mirror; point Config.Dir at an empty directory or an existing mirror", m.dir)
	}
	if _, err := m.run(ctx, nil, "init", "--bare", "--quiet"); err != nil {
		return fmt.Errorf("mirror: initialising bare repository in %s: %w", m.gitDir, err)
	}
	return nil
}

// isBare reports whether dir looks like a git directory.
func isBare(dir string) bool {
	for _, p := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			return false
		}
	}
	return true
}

// Dir returns the mirror's data directory (absolute); history.Open(Dir())
// opens the mirror.
func (m *Mirror) Dir() string { return m.dir }

// Fetch brings refs/heads/* and refs/pull/*/head from the remote, pruning
// branches deleted there and following forced updates. When it returns
// nil, a fetch that started after the call has completed. Fetches run one
// at a time; every caller arriving while one runs shares the single fetch
// that starts after it. A caller whose ctx ends stops waiting; the fetch is
// cancelled only when no caller waits for it any more.
func (m *Mirror) Fetch(ctx context.Context) error {
	return m.FetchSince(ctx, time.Now())
}

// FetchSince is Fetch for a caller that needs only what the remote held at
// since (a webhook's arrival: GitHub had moved the ref before sending it):
// a fetch running now that started at or after since serves it, so it
// waits for that one instead of the next.
func (m *Mirror) FetchSince(ctx context.Context, since time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	r := m.pending
	if cur := m.current; cur != nil && !cur.started.Before(since) && cur.ctx.Err() == nil {
		r = cur
	}
	if r == nil {
		rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		r = &round{ctx: rctx, cancel: cancel, done: make(chan struct{})}
		m.pending = r
		if !m.running {
			m.running = true
			m.pending = nil
			go m.work(r)
		}
	}
	r.waiters++
	m.mu.Unlock()

	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		m.mu.Lock()
		r.waiters--
		if r.waiters == 0 {
			r.cancel()
			if m.pending == r {
				m.pending = nil
			}
		}
		m.mu.Unlock()
		return ctx.Err()
	}
}

// work runs r and then every round queued meanwhile, until none is left.
func (m *Mirror) work(r *round) {
	for r != nil {
		m.mu.Lock()
		m.current = r
		r.started = time.Now()
		m.mu.Unlock()
		r.err = m.fetch(r.ctx)
		r.cancel()
		close(r.done)
		m.mu.Lock()
		m.current = nil
		r, m.pending = m.pending, nil
		if r == nil {
			m.running = false
		}
		m.mu.Unlock()
	}
}

// refspecs are what the mirror follows: forced, so rewritten branches are
// followed as the remote has them.
var refspecs = []string{"+refs/heads/*:refs/heads/*", "+refs/pull/*/head:refs/pull/*/head"}

// Ensure makes sure the mirror holds commit sha, fetching as little as it
// can: it returns at once when sha is there; otherwise it waits for the
// fetch running now, if any (a push that triggered it usually brought sha),
// and fetches only when sha is still missing after that. It returns an
// error when sha is missing even after a fetch that started after the
// call.
func (m *Mirror) Ensure(ctx context.Context, sha string) error {
	if m.Has(ctx, sha) {
		return nil
	}
	m.mu.Lock()
	running := m.current
	m.mu.Unlock()
	if running != nil {
		select {
		case <-running.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if m.Has(ctx, sha) {
			return nil
		}
	}
	if err := m.Fetch(ctx); err != nil {
		return err
	}
	if !m.Has(ctx, sha) {
		return fmt.Errorf("mirror: commit %s is not on any branch or pull request head of %s", sha, m.url)
	}
	return nil
}

// fetchArgs is the command line of a fetch: no secret ever appears in it.
func (m *Mirror) fetchArgs() []string {
	return append([]string{"fetch", "--prune", "--no-tags", "--quiet", "--no-write-fetch-head", "--", m.url}, refspecs...)
}

// fetch runs one git fetch, holding reads off while it runs.
func (m *Mirror) fetch(ctx context.Context) error {
	token, err := m.token(ctx)
	if err != nil {
		return fmt.Errorf("mirror: getting an installation token to fetch %s: %w", m.url, err)
	}
	if token == "" {
		return fmt.Errorf("mirror: the token source returned an empty token for fetching %s", m.url)
	}
	m.rw.Lock()
	defer m.rw.Unlock()
	start := time.Now()
	_, err = m.run(ctx, authEnv(token), m.fetchArgs()...)
	m.logger.DebugContext(ctx, "mirror fetch", "url", m.url, "duration", time.Since(start), "error", err)
	if err != nil {
		if strings.Contains(err.Error(), "could not read Username") {
			// Git asks for a user name after a 401 to the extra header.
			return fmt.Errorf("mirror: fetching %s: the remote refused the installation token (check the App's installation and its contents permission): %w", m.url, redact(err, token))
		}
		return fmt.Errorf("mirror: fetching %s: %w", m.url, redact(err, token))
	}
	return nil
}

// authEnv passes the token to git as an http.extraHeader through the
// environment (git ≥ 2.31 reads GIT_CONFIG_COUNT).
func authEnv(token string) []string {
	basic := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
	return []string{
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=http.extraHeader",
		"GIT_CONFIG_VALUE_0=Authorization: Basic " + basic,
	}
}

// redact replaces the token, and its basic-auth form, in err's text.
func redact(err error, token string) error {
	msg := err.Error()
	basic := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
	msg = strings.ReplaceAll(msg, basic, "[REDACTED]")
	msg = strings.ReplaceAll(msg, token, "[REDACTED]")
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// Read calls fn with the mirror opened by controller/history, after the
// latest completed fetch. Reads run concurrently with each other; a fetch
// waits for running reads and reads wait for a running fetch. The Repo is
// fn's alone and closed when fn returns.
func (m *Mirror) Read(ctx context.Context, fn func(*history.Repo) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.rw.RLock()
	defer m.rw.RUnlock()
	repo, err := history.Open(m.dir)
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	defer repo.Close()
	return fn(repo)
}

// Has reports whether the mirror holds commit sha (a full 40-hex hash:
// history.CommitInfo refuses anything else). Any error, including ctx's,
// answers false.
func (m *Mirror) Has(ctx context.Context, sha string) bool {
	found := false
	err := m.Read(ctx, func(r *history.Repo) error {
		_, err := r.CommitInfo(sha)
		found = err == nil
		return nil
	})
	return err == nil && found
}
