package ghapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// requireGit skips without git (the emulator's repositories are real), or
// fails under CI=true; -short skips too.
func requireGit(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("the emulator runs real git; skipped with -short")
	}
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git is required under CI=true: %v", err)
		}
		t.Skipf("git not installed: %v", err)
	}
}

// seed is an org with four users (carol only reads, dave is an admin), a
// team, the access repository with main protected (required check
// jit/validate, the App may bypass pull requests), and the App installed.
func seed() ghemu.Seed {
	return ghemu.Seed{
		Org: ghemu.SeedOrg{Login: "acme"},
		Users: []ghemu.SeedUser{
			{Login: "alice", Email: "alice@example.com"},
			{Login: "bob", Email: "bob@example.com"},
			{Login: "carol", Email: "carol@example.com"},
			{Login: "dave", Email: "dave@example.com"},
		},
		Teams: []ghemu.SeedTeam{{Slug: "db-owners", Members: []string{"bob"}, Maintainers: []string{"dave"}}},
		Repos: []ghemu.SeedRepo{{
			Name:    "access",
			Files:   map[string]string{"README.md": "# access\n"},
			Readers: []string{"carol"},
			Admins:  []string{"dave"},
			Protection: map[string]ghemu.SeedProtection{"main": {
				RequiredStatusChecks:        []string{"jit/validate"},
				BypassPullRequestAllowances: ghemu.SeedBypassAllowances{Apps: []string{"jit"}},
			}},
		}},
		App: &ghemu.SeedApp{ID: 42, Slug: "jit", InstallationID: 7, PrivateKeyPEM: appKey()},
	}
}

// appKey is one App key for every test: generating a 2048-bit key per
// emulator is what makes the package slow under -race.
var appKey = sync.OnceValue(func() string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
})

// observed records Observe calls.
type observed struct {
	mu    sync.Mutex
	calls []observation
}

type observation struct {
	Route  string
	Status int
}

func (o *observed) observe(route string, status int, _ time.Duration) {
	o.mu.Lock()
	o.calls = append(o.calls, observation{route, status})
	o.mu.Unlock()
}

// statuses returns the statuses observed for route, in order.
func (o *observed) statuses(route string) []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []int
	for _, c := range o.calls {
		if c.Route == route {
			out = append(out, c.Status)
		}
	}
	return out
}

// env is an emulator and a client of it.
type env struct {
	srv *ghemu.Server
	c   *ghapi.Client
	obs *observed
}

func newEnv(t *testing.T) *env {
	t.Helper()
	requireGit(t)
	srv := ghemutest.NewServer(t, seed())
	e := &env{srv: srv, obs: &observed{}}
	e.c = e.client(t, nil)
	return e
}

// config is the client configuration for the emulator's App.
func (e *env) config(t *testing.T) ghapi.Config {
	t.Helper()
	app, ok := e.srv.App()
	if !ok {
		t.Fatal("the seed has no App")
	}
	return ghapi.Config{
		APIURL: e.srv.APIURL, AppID: app.ID, PrivateKeyPEM: app.PrivateKeyPEM, InstallationID: app.InstallationID,
		Owner: "acme", Repo: "access",
		Retry:   ghapi.Retry{Base: time.Millisecond, Max: 3 * time.Second},
		Observe: e.obs.observe,
	}
}

// client is a new Client (a "restart"), its config changed by edit.
func (e *env) client(t *testing.T, edit func(*ghapi.Config)) *ghapi.Client {
	t.Helper()
	cfg := e.config(t)
	if edit != nil {
		edit(&cfg)
	}
	c, err := ghapi.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// count returns how many recorded requests went to route.
func (e *env) count(route string) int {
	n := 0
	for _, r := range e.srv.Requests() {
		if r.Route == route {
			n++
		}
	}
	return n
}

// openPR commits files on branch as author and opens a pull request of it
// into main; it returns the number and head sha.
func (e *env) openPR(t *testing.T, author, branch, msg string, files map[string]string) (int, string) {
	t.Helper()
	ctx := context.Background()
	sha, err := e.srv.Commit(ctx, "access", ghemu.Change{Branch: branch, Author: author, Message: msg, Files: files})
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	pr, _, err := e.srv.Client(author).PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{
		Title: github.String("grant " + branch), Head: github.String(branch), Base: github.String("main"),
		Body: github.String("please"),
	})
	if err != nil {
		t.Fatalf("creating the pull request: %v", err)
	}
	return pr.GetNumber(), sha
}

// lostAnswer is a transport in front of the real one that lets the
// emulator do the first request to route and then replaces its answer with
// a 502, as a proxy that lost GitHub's answer would.
type lostAnswer struct {
	base   http.RoundTripper
	method string
	path   string // suffix of the URL path
	n      int
	mu     sync.Mutex
}

func (l *lostAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil || r.Method != l.method || !strings.HasSuffix(r.URL.Path, l.path) || l.n == 0 {
		return resp, err
	}
	l.n--
	resp.Body.Close()
	resp.StatusCode, resp.Status = http.StatusBadGateway, "502 Bad Gateway"
	resp.Body = http.NoBody
	resp.Header = http.Header{"Content-Type": {"application/json"}}
	resp.ContentLength = 0
	return resp, nil
}

func httpDefault() http.RoundTripper { return http.DefaultTransport }
