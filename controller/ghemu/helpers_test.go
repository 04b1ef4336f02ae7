package ghemu_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/contract"
)

// requireGit skips without git, or fails under CI=true.
func requireGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git is required under CI=true: %v", err)
		}
		t.Skipf("git not installed: %v", err)
	}
}

// testSeed is an org with three users, a team, an access repository with a
// CODEOWNERS file and protection, and the App installed on it.
func testSeed(webhookURL string) ghemu.Seed {
	return ghemu.Seed{
		Org: ghemu.SeedOrg{Login: "acme"},
		Users: []ghemu.SeedUser{
			{Login: "alice", Name: "Alice Liddell", Email: "alice@example.com", Keys: []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlice alice"}},
			{Login: "bob", Name: "Bob", Email: "bob@example.com"},
			{Login: "carol", Email: "carol@example.com"},
		},
		Teams: []ghemu.SeedTeam{{Slug: "db-owners", Name: "DB owners", Members: []string{"bob"}, Maintainers: []string{"carol"}}},
		Repos: []ghemu.SeedRepo{{
			Name: "access",
			Files: map[string]string{
				".github/CODEOWNERS": "* @acme/db-owners\naccess/ @bob\n",
				"README.md":          "# access\n",
			},
			Readers:    []string{"carol"},
			Protection: map[string]ghemu.SeedProtection{"main": {DismissStaleReviews: true}},
		}},
		App:     &ghemu.SeedApp{ID: 42, Slug: "jit", InstallationID: 7},
		Webhook: ghemu.SeedWebhook{URL: webhookURL, Secret: "It's a Secret to Everybody"},
	}
}

// hit is one webhook received (signature verified with go-github, payload
// validated against GitHub's schema and parsed by go-github).
type hit struct {
	event, guid string
	body        []byte
	header      http.Header
}

// receiver is a webhook endpoint that verifies signatures with go-github.
type receiver struct {
	t      testing.TB
	secret []byte
	srv    *httptest.Server
	mu     sync.Mutex
	hits   []hit
}

func newReceiver(t testing.TB, secret string) *receiver {
	rc := &receiver{t: t, secret: []byte(secret)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := github.ValidatePayload(r, rc.secret)
		if err != nil {
			t.Errorf("webhook %s: signature: %v", r.Header.Get("X-GitHub-Event"), err)
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		var top struct {
			Action string `json:"action"`
		}
		if err := json.Unmarshal(body, &top); err != nil {
			t.Errorf("webhook %s: payload is not JSON: %v", github.WebHookType(r), err)
		}
		hooks, err := contract.LoadWebhooks()
		if err != nil {
			t.Fatalf("loading webhook schemas: %v", err)
		}
		if err := hooks.ValidatePayload(github.WebHookType(r), top.Action, body); err != nil {
			t.Errorf("webhook %s.%s breaks GitHub's schema: %v", github.WebHookType(r), top.Action, err)
		}
		if _, err := github.ParseWebHook(github.WebHookType(r), body); err != nil {
			t.Errorf("webhook %s: go-github cannot parse it: %v", github.WebHookType(r), err)
		}
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{event: github.WebHookType(r), guid: github.DeliveryID(r), body: body, header: r.Header.Clone()})
		rc.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) got() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

// contractTransport validates every API answer against GitHub's OpenAPI
// description and fails the test on a violation.
func contractTransport(t testing.TB) http.RoundTripper {
	return contract.NewTransport(http.DefaultTransport, func(method, u string, err error) {
		t.Errorf("contract: %s %s: %v", method, u, err)
	})
}

// client is a go-github client for login whose answers are validated.
func client(t testing.TB, s *ghemu.Server, login string) *github.Client {
	return s.ClientWithTransport(login, contractTransport(t))
}

func tokenClient(t testing.TB, s *ghemu.Server, token string) *github.Client {
	c := github.NewClient(&http.Client{Transport: contractTransport(t)}).WithAuthToken(token)
	u, _ := url.Parse(s.APIURL)
	c.BaseURL, c.UploadURL = u, u
	return c
}

// git runs the git CLI in dir.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Alice Liddell", "GIT_AUTHOR_EMAIL=alice@example.com",
		"GIT_COMMITTER_NAME=Alice Liddell", "GIT_COMMITTER_EMAIL=alice@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// cloneURL is the smart-HTTP URL carrying a token as basic-auth password.
func cloneURL(s *ghemu.Server, user, token, owner, repo string) string {
	u, _ := url.Parse(s.GitURL(owner, repo))
	u.User = url.UserPassword(user, token)
	return u.String()
}

// pushBranch clones owner/repo as login, commits files on branch and pushes.
func pushBranch(t testing.TB, s *ghemu.Server, login, repo, branch string, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	git(t, "", "clone", "--quiet", cloneURL(s, login, s.Token(login), "acme", repo), dir)
	git(t, dir, "checkout", "--quiet", "-b", branch)
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "--quiet", "-m", "Add "+branch)
	git(t, dir, "push", "--quiet", "origin", branch)
	return git(t, dir, "rev-parse", "HEAD")
}

func waitDeliveries(t testing.TB, s *ghemu.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
}

func readAll(t testing.TB, r io.Reader) string {
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// kinds lists the received webhooks as "event.action" (or "event").
func (rc *receiver) kinds() []string {
	var out []string
	for _, h := range rc.got() {
		var top struct {
			Action string `json:"action"`
		}
		_ = json.Unmarshal(h.body, &top)
		out = append(out, strings.TrimSuffix(h.event+"."+top.Action, "."))
	}
	return out
}

// installationClient is a go-github client acting as the App's installation,
// through ghinstallation with validated answers.
func installationClient(t testing.TB, s *ghemu.Server, app ghemu.App) *github.Client {
	t.Helper()
	c, err := s.InstallationClient(contractTransport(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
