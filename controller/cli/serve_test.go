package cli_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/cli"
	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveFixture is an access repository on the emulator and the files an
// operator gives jit serve: the App's key, the webhook secret, the signing
// key (trusted by .github/jit-signers) and a data directory.
type serveFixture struct {
	srv                              *ghemu.Server
	env                              map[string]string
	keyFile, secretFile, signingFile string
	dataDir                          string
}

func newServeFixture(t *testing.T) *serveFixture {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	files := provTemplateFiles(t, "../../templates/postgres-role", "postgres-role")
	files["policies/prod.hcl"] = "policy \"prod\" {\n  paths        = [\"access/prod/**\"]\n  templates    = [\"postgres-role\"]\n  max_duration = \"4h\"\n  approvals    = 1\n}\n"
	files[".github/CODEOWNERS"] = "/access/ @acme/dba\n"
	files[".github/jit-signers"] = "jit namespaces=\"jit\" " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + "\n"
	const secret = "serve-test-webhook-secret"
	srv := ghemutest.NewServer(t, ghemu.Seed{
		Org:   ghemu.SeedOrg{Login: "acme"},
		Users: []ghemu.SeedUser{{Login: "alice"}, {Login: "bob"}},
		Teams: []ghemu.SeedTeam{{Slug: "dba", Members: []string{"bob"}}},
		Repos: []ghemu.SeedRepo{{Name: "access", Files: files, Protection: map[string]ghemu.SeedProtection{"main": {
			RequiredStatusChecks: []string{"jit/validate", "jit/approval"}, BypassPullRequestAllowances: ghemu.SeedBypassAllowances{Apps: []string{"jit"}}}}}},
		App:     &ghemu.SeedApp{ID: 77, Slug: "jit"},
		Webhook: ghemu.SeedWebhook{Secret: secret},
	})
	dir := t.TempDir()
	f := &serveFixture{srv: srv, keyFile: filepath.Join(dir, "app.pem"), secretFile: filepath.Join(dir, "secret"),
		signingFile: filepath.Join(dir, "jit-signing"), dataDir: filepath.Join(dir, "data")}
	app, _ := srv.App()
	for file, data := range map[string][]byte{f.keyFile: app.PrivateKeyPEM, f.secretFile: []byte(secret + "\n"), f.signingFile: pem.EncodeToMemory(block)} {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f.env = map[string]string{"JIT_GITHUB_API_URL": srv.APIURL, "JIT_APP_ID": fmt.Sprint(app.ID), "JIT_APP_PRIVATE_KEY_FILE": f.keyFile, "JIT_REPO": "acme/access"}
	for k, v := range f.env {
		t.Setenv(k, v)
	}
	return f
}

// TestServeAndStatus runs jit serve as an operator would (settings from the
// environment and flags), checks its endpoints, lets it validate a pull
// request through real webhooks, and asks jit status about that pull
// request; then stops it with its context, as SIGTERM does.
func TestServeAndStatus(t *testing.T) {
	f := newServeFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", f.dataDir, "--state", "none",
			"--webhook-secret-file", f.secretFile, "--signing-key", f.signingFile, "--resync", "1m"}, &stdout, &stderr)
	}()
	base := ""
	deadline := time.Now().Add(20 * time.Second)
	for base == "" {
		for _, line := range strings.Split(stderr.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				base = "http://" + rec.Addr
			}
		}
		select {
		case code := <-done:
			t.Fatalf("jit serve exited %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("jit serve never listened:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz %d", code)
	}
	for code, _ := get("/readyz"); code != http.StatusOK; code, _ = get("/readyz") {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz %d:\n%s", code, stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.srv.SetWebhookURL(base + "/webhook")

	alice := f.srv.Client("alice")
	if _, err := f.srv.Commit(ctx, "access", ghemu.Change{Branch: "req", Author: "alice", Message: "request",
		Files: map[string]string{"access/prod/alice-1.yaml": provAliceGrant}}); err != nil {
		t.Fatal(err)
	}
	pr, _, err := alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String("access"), Head: github.String("req"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	for {
		runs := f.srv.CheckRuns("access", pr.GetHead().GetSHA())
		if len(runs) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no check runs:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, body := get("/metrics"); !strings.Contains(body, `jit_webhook_events_total{action="opened",event="pull_request",result="accepted"}`) ||
		!strings.Contains(body, "jit_github_requests_total") {
		t.Errorf("/metrics lacks the webhook and GitHub counters:\n%s", body)
	}
	for !strings.Contains(stderr.String(), `"msg":"evaluated"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no evaluation logged:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var logged struct {
		PR       int    `json:"pr"`
		Grant    string `json:"grant"`
		Delivery string `json:"delivery"`
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, `"msg":"evaluated"`) {
			if err := json.Unmarshal([]byte(line), &logged); err != nil {
				t.Fatal(err)
			}
		}
	}
	if logged.PR != pr.GetNumber() || logged.Grant != "prod/alice-1" || logged.Delivery == "" {
		t.Errorf("the evaluation's log line lacks the pull request, grant or delivery: %+v\n%s", logged, stderr.String())
	}

	// jit status explains the same thing, without posting anything.
	before := len(f.srv.APIRequests())
	code, out, errOut := provRun(t, "status", "--pr", fmt.Sprint(pr.GetNumber()))
	if code != cli.ExitProblems || !strings.Contains(out, "prod/alice-1") || !strings.Contains(out, "jit/approval") {
		t.Errorf("status exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, q := range f.srv.APIRequests()[before:] {
		if !strings.HasPrefix(q.Route, "GET ") && !strings.Contains(q.Route, "access_tokens") {
			t.Errorf("jit status wrote to GitHub: %s", q.Route)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != cli.ExitOK {
			t.Errorf("jit serve exit %d on shutdown:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("jit serve did not stop")
	}
	_ = stdout.String()
}

// TestServeRefusesBadConfiguration: a mistyped setting stops jit serve at
// start, naming the setting.
func TestServeRefusesBadConfiguration(t *testing.T) {
	f := newServeFixture(t)
	code, _, errOut := provRun(t, "serve", "--listen", "127.0.0.1:0", "--data-dir", f.dataDir, "--webhook-secret-file", f.secretFile,
		"--signing-key", f.keyFile, "--app-id", "abc")
	if code != cli.ExitUsage || !strings.Contains(errOut, "--app-id (JIT_APP_ID)") || !strings.Contains(errOut, "--signing-key (JIT_SIGNING_KEY_FILE)") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
	code, _, errOut = provRun(t, "status")
	if code != cli.ExitUsage || !strings.Contains(errOut, "--pr is required") {
		t.Errorf("status without --pr: exit %d\n%s", code, errOut)
	}
}
