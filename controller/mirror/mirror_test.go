package mirror

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
	"github.com/jitops/jit/controller/history"
)

// requireGit skips without git (and fails under CI=true); -short skips.
func requireGit(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("needs real git and the emulator; skipped with -short")
	}
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("git is required under CI=true: %v", err)
		}
		tb.Skipf("git not installed: %v", err)
	}
}

// rig is an emulator with an access repository and the App installed, and
// a mirror of it fetching with installation tokens.
type rig struct {
	srv    *ghemu.Server
	m      *Mirror
	tokens atomic.Int64 // token requests, one per fetch
}

func newRig(t *testing.T) *rig {
	t.Helper()
	requireGit(t)
	srv := ghemutest.NewServer(t, ghemu.Seed{
		Org:   ghemu.SeedOrg{Login: "acme"},
		Users: []ghemu.SeedUser{{Login: "alice"}},
		Repos: []ghemu.SeedRepo{{Name: "access", Files: map[string]string{"README.md": "# access\n"}}},
		App:   &ghemu.SeedApp{ID: 42, Slug: "jit", InstallationID: 7},
	})
	app, _ := srv.App()
	itr, err := ghinstallation.New(http.DefaultTransport, app.ID, app.InstallationID, app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	itr.BaseURL = strings.TrimSuffix(srv.APIURL, "/")
	r := &rig{srv: srv}
	m, err := Open(t.Context(), Config{
		Dir: filepath.Join(t.TempDir(), "mirror"),
		URL: srv.GitURL("acme", "access"),
		Token: func(ctx context.Context) (string, error) {
			r.tokens.Add(1)
			return itr.Token(ctx)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r.m = m
	return r
}

func (r *rig) commit(t *testing.T, branch string, files map[string]string) string {
	t.Helper()
	sha, err := r.srv.Commit(t.Context(), "access", ghemu.Change{Branch: branch, Author: "alice", Message: "change " + branch, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// refs lists the mirror's refs as name → sha.
func refs(t *testing.T, m *Mirror) map[string]string {
	t.Helper()
	out, err := m.run(t.Context(), nil, "for-each-ref", "--format=%(refname) %(objectname)")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if name, sha, ok := strings.Cut(l, " "); ok {
			got[name] = sha
		}
	}
	return got
}

func fetch(t *testing.T, m *Mirror) {
	t.Helper()
	if err := m.Fetch(t.Context()); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
}

func TestOpenRejectsConfig(t *testing.T) {
	token := func(context.Context) (string, error) { return "t", nil }
	notRepo := t.TempDir()
	if err := os.WriteFile(filepath.Join(notRepo, "x"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no dir", Config{URL: "https://github.com/acme/access.git", Token: token}, "mirror: no data directory configured; set Config.Dir"},
		{"no token", Config{Dir: t.TempDir(), URL: "https://github.com/acme/access.git"}, "mirror: no token source configured; set Config.Token"},
		{"empty url", Config{Dir: t.TempDir(), Token: token}, `mirror: clone URL "" is not a URL`},
		{"credentials in url", Config{Dir: t.TempDir(), URL: "https://x-access-token:ghs_secret@github.com/acme/access.git", Token: token},
			"mirror: clone URL https://x-access-token:xxxxx@github.com/acme/access.git carries credentials"},
		{"plain http remote", Config{Dir: t.TempDir(), URL: "http://github.com/acme/access.git", Token: token},
			"mirror: clone URL http://github.com/acme/access.git is plain http to a non-loopback host"},
		{"ssh scheme", Config{Dir: t.TempDir(), URL: "ssh://github.com/acme/access.git", Token: token}, `has scheme "ssh"`},
		{"option-like url", Config{Dir: t.TempDir(), URL: "--upload-pack=touch /tmp/x", Token: token}, "mirror: clone URL"},
		{"query", Config{Dir: t.TempDir(), URL: "https://github.com/acme/access.git?x=1", Token: token}, "has a query or fragment"},
		{"dir not a repository", Config{Dir: notRepo, URL: "https://github.com/acme/access.git", Token: token},
			"is neither empty nor a mirror"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(t.Context(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(fmt.Sprint(err), "ghs_secret") {
				t.Errorf("error leaks the password in the URL: %v", err)
			}
		})
	}
}

// TestOpenBareWithHistory: Open makes a bare repository without any
// network, reopens it, and controller/history opens the bare mirror.
func TestOpenBareWithHistory(t *testing.T) {
	requireGit(t)
	dir := filepath.Join(t.TempDir(), "data", "mirror")
	cfg := Config{Dir: dir, URL: "https://127.0.0.1:1/acme/access.git", Token: func(context.Context) (string, error) {
		t.Error("Open asked for a token")
		return "", errors.New("no")
	}}
	m, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !isBare(filepath.Join(dir, ".git")) || m.Dir() != dir {
		t.Fatalf("Open did not make a git directory at %s/.git (Dir %s)", dir, m.Dir())
	}
	if out, err := m.run(t.Context(), nil, "rev-parse", "--is-bare-repository"); err != nil || strings.TrimSpace(string(out)) != "true" {
		t.Fatalf("the mirror is not bare: %q, %v", out, err)
	}
	if err := m.Read(t.Context(), func(r *history.Repo) error { return nil }); err != nil {
		t.Fatalf("history.Open on an empty bare mirror: %v", err)
	}
	if _, err := Open(t.Context(), cfg); err != nil {
		t.Fatalf("reopening an existing mirror: %v", err)
	}
	other := cfg
	other.URL = "https://127.0.0.1:1/acme/other.git"
	_, err = Open(t.Context(), other)
	if err == nil || !strings.Contains(err.Error(), "mirrors https://127.0.0.1:1/acme/access.git, not https://127.0.0.1:1/acme/other.git") {
		t.Fatalf("opening the mirror of access for another repository: %v", err)
	}
}

// TestFetchFollowsRemote: the first fetch, an incremental fetch, a pull
// request head, a forced update and a pruned branch.
func TestFetchFollowsRemote(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	alice := r.srv.Client("alice")

	fetch(t, r.m)
	main1, _, err := alice.Repositories.GetBranch(ctx, "acme", "access", "main", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := refs(t, r.m)["refs/heads/main"]; got != main1.GetCommit().GetSHA() {
		t.Fatalf("first fetch: main = %q, want %s", got, main1.GetCommit().GetSHA())
	}

	// Incremental: a new commit on main and a new branch.
	main2 := r.commit(t, "main", map[string]string{"a.txt": "a"})
	feat1 := r.commit(t, "feature", map[string]string{"b.txt": "b"})
	if r.m.Has(ctx, main2) {
		t.Fatal("Has reports a commit before it was fetched")
	}
	fetch(t, r.m)
	got := refs(t, r.m)
	if got["refs/heads/main"] != main2 || got["refs/heads/feature"] != feat1 {
		t.Fatalf("incremental fetch: refs %v, want main %s feature %s", got, main2, feat1)
	}
	if !r.m.Has(ctx, main2) || !r.m.Has(ctx, feat1) {
		t.Fatal("Has does not see fetched commits")
	}

	// A pull request's head arrives as refs/pull/N/head.
	pr, _, err := alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{
		Title: github.String("feature"), Head: github.String("feature"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	fetch(t, r.m)
	pull := fmt.Sprintf("refs/pull/%d/head", pr.GetNumber())
	if got := refs(t, r.m)[pull]; got != feat1 {
		t.Fatalf("%s = %q, want %s", pull, got, feat1)
	}

	// A forced update (the branch rewritten to an unrelated commit) is followed.
	other := r.commit(t, "other", map[string]string{"c.txt": "c"})
	if _, _, err := alice.Git.UpdateRef(ctx, "acme", "access", &github.Reference{
		Ref: github.String("refs/heads/feature"), Object: &github.GitObject{SHA: github.String(other)}}, true); err != nil {
		t.Fatal(err)
	}
	fetch(t, r.m)
	got = refs(t, r.m)
	if got["refs/heads/feature"] != other || got[pull] != other {
		t.Fatalf("after a force update: feature %s, %s %s; want both %s", got["refs/heads/feature"], pull, got[pull], other)
	}

	// A deleted branch is pruned; the pull request head stays, as on GitHub.
	if _, err := alice.Git.DeleteRef(ctx, "acme", "access", "refs/heads/other"); err != nil {
		t.Fatal(err)
	}
	fetch(t, r.m)
	got = refs(t, r.m)
	if _, ok := got["refs/heads/other"]; ok {
		t.Fatalf("deleted branch not pruned: %v", got)
	}
	if got[pull] != other {
		t.Fatalf("%s = %q after pruning, want %s", pull, got[pull], other)
	}

	// The bare mirror reads with controller/history after the fetch.
	err = r.m.Read(ctx, func(h *history.Repo) error {
		sha, err := h.Resolve("refs/heads/main")
		if err != nil {
			return err
		}
		if sha != main2 {
			return fmt.Errorf("history resolves main to %s, want %s", sha, main2)
		}
		_, err = h.CommitInfo(feat1)
		return err
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
}

func TestHasRejectsNonHashes(t *testing.T) {
	r := newRig(t)
	fetch(t, r.m)
	main := refs(t, r.m)["refs/heads/main"]
	for _, tc := range []struct {
		name, sha string
		want      bool
	}{
		{"fetched commit", main, true},
		{"unknown commit", strings.Repeat("ab", 20), false},
		{"revision, not a hash", "refs/heads/main", false},
		{"upper case", strings.ToUpper(main), false},
		{"abbreviated", main[:12], false},
		{"option", "--batch-all-objects", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.m.Has(t.Context(), tc.sha); got != tc.want {
				t.Fatalf("Has(%q) = %v, want %v", tc.sha, got, tc.want)
			}
		})
	}
}

// TestFetchTokenOnlyInEnvironment runs git through a wrapper recording its
// command line and environment: the token is in neither the command line
// nor the mirror's config, and reaches git only as the extra header.
func TestFetchTokenOnlyInEnvironment(t *testing.T) {
	r := newRig(t)
	real, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(t.TempDir(), "rec")
	wrapper := filepath.Join(t.TempDir(), "git")
	script := "#!/bin/sh\n{ printf 'ARGV'; printf ' %s' \"$@\"; printf '\\n'; env; } >> '" + rec + "'\nexec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	r.m.git = wrapper
	var token string
	inner := r.m.token
	r.m.token = func(ctx context.Context) (string, error) {
		tok, err := inner(ctx)
		token = tok
		return tok, err
	}
	fetch(t, r.m)
	if token == "" {
		t.Fatal("no token was asked for")
	}
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	var argv string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "ARGV ") {
			argv += l + "\n"
		}
	}
	if want := "ARGV " + strings.Join(r.m.fetchArgs(), " ") + "\n"; argv != want {
		t.Fatalf("git ran as\n%s\nwant\n%s", argv, want)
	}
	if strings.Contains(argv, token) {
		t.Fatalf("the token is on git's command line: %s", argv)
	}
	if !strings.Contains(string(b), "GIT_CONFIG_KEY_0=http.extraHeader") || !strings.Contains(string(b), "GIT_TERMINAL_PROMPT=0") {
		t.Fatalf("git's environment lacks the extra header or GIT_TERMINAL_PROMPT=0:\n%s", b)
	}
	if strings.Contains(string(b), token) {
		t.Fatal("the token itself (not its basic-auth form) is in git's environment")
	}
	cfg, err := os.ReadFile(filepath.Join(r.m.gitDir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfg), token) || strings.Contains(string(cfg), "extraHeader") || strings.Contains(string(cfg), "remote") {
		t.Fatalf("the mirror's config holds credentials or a remote:\n%s", cfg)
	}
}

// TestFetchWrongTokenRedacted: a refused token fails the fetch with git's
// message, and the token is not in it.
func TestFetchWrongTokenRedacted(t *testing.T) {
	r := newRig(t)
	const bad = "ghs_wrongtoken0123456789"
	r.m.token = func(context.Context) (string, error) { return bad, nil }
	err := r.m.Fetch(t.Context())
	if err == nil {
		t.Fatal("Fetch with a wrong token succeeded")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "mirror: fetching "+r.srv.GitURL("acme", "access")+": the remote refused the installation token") ||
		!strings.Contains(msg, "git fetch: exit status 128: fatal: could not read Username") {
		t.Fatalf("error = %q, want git's authentication failure", msg)
	}
	if strings.Contains(msg, bad) {
		t.Fatalf("error leaks the token: %q", msg)
	}

	r.m.token = func(context.Context) (string, error) { return "", nil }
	if err := r.m.Fetch(t.Context()); err == nil || !strings.Contains(err.Error(), "returned an empty token") {
		t.Fatalf("Fetch with an empty token: %v", err)
	}
	r.m.token = func(context.Context) (string, error) { return "", errors.New("app key revoked") }
	if err := r.m.Fetch(t.Context()); err == nil || !strings.Contains(err.Error(), "getting an installation token to fetch") || !strings.Contains(err.Error(), "app key revoked") {
		t.Fatalf("Fetch with a failing token source: %v", err)
	}
}

func TestRedact(t *testing.T) {
	const tok = "ghs_abc"
	for _, tc := range []struct{ name, in, want string }{
		{"raw token", "fatal: bad ghs_abc here", "fatal: bad [REDACTED] here"},
		{"basic form", "header Authorization: Basic eC1hY2Nlc3MtdG9rZW46Z2hzX2FiYw==", "header Authorization: Basic [REDACTED]"},
		{"nothing to redact", "fatal: repository not found", "fatal: repository not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact(errors.New(tc.in), tok).Error(); got != tc.want {
				t.Fatalf("redact = %q, want %q", got, tc.want)
			}
		})
	}
}

// gitFetches counts the fetches the emulator served (one ref
// advertisement each).
func gitFetches(srv *ghemu.Server) int {
	n := 0
	for _, q := range srv.Requests() {
		if strings.HasPrefix(q.Route, "GIT ") && q.Method == http.MethodGet && strings.HasSuffix(q.Path, "/info/refs") {
			n++
		}
	}
	return n
}

// gate holds every fetch at its start: each signals started, then waits
// until release is closed.
func (r *rig) gate() (started chan struct{}, release chan struct{}) {
	inner := r.m.token
	release = make(chan struct{})
	started = make(chan struct{}, 10)
	r.m.token = func(ctx context.Context) (string, error) {
		started <- struct{}{}
		<-release
		return inner(ctx)
	}
	return started, release
}

// TestFetchCoalesces: while one fetch runs, 200 callers ask; they share the
// one next fetch, and none returns before a fetch that started after it
// asked has completed.
func TestFetchCoalesces(t *testing.T) {
	r := newRig(t)
	started, release := r.gate()
	before := gitFetches(r.srv)

	first := make(chan error, 1)
	go func() { first <- r.m.Fetch(context.Background()) }()
	<-started // the first fetch is running

	const callers = 200
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() { errs <- r.m.Fetch(context.Background()) })
	}
	waitFor(t, func() bool {
		r.m.mu.Lock()
		defer r.m.mu.Unlock()
		return r.m.pending != nil && r.m.pending.waiters == callers
	})
	sha := r.commit(t, "main", map[string]string{"late.txt": "pushed while the first fetch ran"})
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := r.tokens.Load(); n != 2 {
		t.Errorf("token asked %d times, want 2 (one per fetch)", n)
	}
	if n := gitFetches(r.srv) - before; n != 2 {
		t.Errorf("the emulator served %d fetches, want 2", n)
	}
	if !r.m.Has(t.Context(), sha) {
		t.Error("callers that asked during the first fetch returned without the commit pushed meanwhile")
	}
}

// TestFetchSinceSharesRunning: a caller that needs only what the remote
// held at a time before the running fetch started shares that fetch; one
// that needs more (since after it started, or Fetch) waits for the next.
func TestFetchSinceSharesRunning(t *testing.T) {
	r := newRig(t)
	started, release := r.gate()
	before := gitFetches(r.srv)
	asked := time.Now()
	first := make(chan error, 1)
	go func() { first <- r.m.Fetch(context.Background()) }()
	<-started

	shared := make(chan error, 1)
	go func() { shared <- r.m.FetchSince(context.Background(), asked) }()
	later := make(chan error, 1)
	go func() { later <- r.m.FetchSince(context.Background(), time.Now().Add(time.Hour)) }()
	waitFor(t, func() bool {
		r.m.mu.Lock()
		defer r.m.mu.Unlock()
		return r.m.current != nil && r.m.current.waiters == 2 && r.m.pending != nil && r.m.pending.waiters == 1
	})
	close(release)
	for _, c := range []chan error{first, shared, later} {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	if n := gitFetches(r.srv) - before; n != 2 {
		t.Errorf("the emulator served %d fetches, want 2: the running one, shared, and the next", n)
	}
}

// TestFetchCallerCancelled: a caller whose context ends returns at once;
// the fetch it alone waited for is cancelled and the mirror still works.
func TestFetchCallerCancelled(t *testing.T) {
	r := newRig(t)
	inner := r.m.token
	r.m.token = func(ctx context.Context) (string, error) {
		<-ctx.Done() // hangs until the fetch is cancelled
		return "", ctx.Err()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := r.m.Fetch(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Fetch = %v, want the caller's deadline", err)
	}
	waitFor(t, func() bool {
		r.m.mu.Lock()
		defer r.m.mu.Unlock()
		return !r.m.running
	})
	r.m.token = inner
	fetch(t, r.m)
}

// TestReadConcurrentWithFetch runs reads, fetches and pushes at once (run
// with -race): every read sees a consistent mirror.
func TestReadConcurrentWithFetch(t *testing.T) {
	r := newRig(t)
	fetch(t, r.m)
	ctx := t.Context()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 3 {
		wg.Go(func() {
			for j := range 4 {
				r.commit(t, fmt.Sprintf("b%d", i), map[string]string{fmt.Sprintf("f%d.txt", j): "x"})
				if err := r.m.Fetch(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var reads atomic.Int64
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := r.m.Read(ctx, func(h *history.Repo) error {
					sha, err := h.Resolve("refs/heads/main")
					if err != nil {
						return err
					}
					fsys, err := h.FS(sha)
					if err != nil {
						return err
					}
					_, err = fsys.Open("README.md")
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
			}
		})
	}
	go func() {
		time.Sleep(2 * time.Second)
		close(stop)
	}()
	wg.Wait()
	if reads.Load() == 0 {
		t.Fatal("no read completed")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}
