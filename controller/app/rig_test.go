package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/app"
	"github.com/jitops/jit/controller/appmetrics"
	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
	"github.com/jitops/jit/controller/internal/decisiontest"
	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/mirror"
)

const (
	org    = "acme"
	repo   = "access"
	secret = "an-emulated-webhook-secret"
)

// User ids are fixed so that tests can write noreply addresses.
var userIDs = map[string]int64{"alice": 1001, "bob": 1002, "carol": 1003, "dave": 1004, "erin": 1005, "mallory": 1006, "sec": 1007}

func noreply(login string) string {
	return fmt.Sprintf("%d+%s@users.noreply.github.com", userIDs[login], login)
}

// rig is an access repository on the emulator with jit serve running
// against it, as an operator would set it up: branch protection on main
// requiring jit/validate and jit/approval, the App allowed to bypass the
// pull request requirement, the App's signing key in .github/jit-signers.
type rig struct {
	t   testing.TB
	o   rigOptions
	srv *ghemu.Server
	// pg is the target and state cluster of a lifecycle rig.
	pg *pgtest.Cluster
	// sshKeys are the users' private SSH keys (PEM), whose public halves
	// are on their GitHub accounts.
	sshKeys map[string][]byte
	// skew moves the default-branch side's clock ahead of real time.
	skew    atomic.Int64
	key     *decisiontest.Key
	dataDir string
	app     *app.App
	metrics *appmetrics.Metrics
	hookURL string
	stop    func()
}

type rigOptions struct {
	files map[string]string // extra files on main
	// noStart leaves the App stopped (start it with r.start).
	noStart bool
	// lifecycle runs the default-branch side too: a PostgreSQL cluster
	// (target and state backend) and the real terraform.
	lifecycle bool
}

const policyProd = `policy "prod" {
  paths        = ["access/prod/**"]
  templates    = ["postgres-role"]
  max_duration = "4h"
  approvals    = 1
  break_glass {
    allowed       = true
    max_duration  = "1h"
    review_window = "24h"
  }
}
`

const policyStaging = `policy "staging" {
  paths        = ["access/staging/**"]
  templates    = ["postgres-role"]
  max_duration = "24h"
  approvals    = 1
}
`

const policyPayments = `policy "payments" {
  paths        = ["access/payments/**"]
  templates    = ["postgres-role"]
  max_duration = "2h"
  approvals    = 2
  approvers    = ["@acme/dba"]
}
`

const codeowners = `/access/prod/     @acme/dba
/access/staging/  @acme/dba @acme/developers
/access/payments/ @acme/dba @acme/developers
/policies/        @acme/security
/templates/       @acme/security
/.github/         @acme/security
`

func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	r := &rig{t: t, o: o, key: decisiontest.NewKey(t), dataDir: t.TempDir(), sshKeys: map[string][]byte{}}
	content := t.TempDir()
	write := func(p, s string) {
		full := filepath.Join(content, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir("../../templates/postgres-role")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("../../templates/postgres-role", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		write("templates/postgres-role/"+e.Name(), string(b))
	}
	write("policies/prod.hcl", policyProd)
	write("policies/staging.hcl", policyStaging)
	write("policies/payments.hcl", policyPayments)
	write(".github/CODEOWNERS", codeowners)
	write(".github/jit-signers", r.key.AllowedSigners())
	write("access/README.md", "Grant files live here.\n")
	for p, s := range o.files {
		write(p, s)
	}
	var users []ghemu.SeedUser
	for login, id := range userIDs {
		pub, priv := sshKeyPair(t)
		r.sshKeys[login] = priv
		users = append(users, ghemu.SeedUser{Login: login, ID: id, Keys: []string{pub}})
	}
	if o.lifecycle {
		r.startTarget()
	}
	r.srv = ghemutest.NewServer(t, ghemu.Seed{
		Org:   ghemu.SeedOrg{Login: org},
		Users: users,
		Teams: []ghemu.SeedTeam{
			{Slug: "dba", Members: []string{"bob", "erin"}, Maintainers: []string{"carol"}},
			{Slug: "developers", Members: []string{"dave"}},
			{Slug: "security", Members: []string{"sec"}},
		},
		Repos: []ghemu.SeedRepo{{Name: repo, Content: content, Readers: []string{"erin"}, AllowAutoMerge: true,
			Protection: map[string]ghemu.SeedProtection{"main": {
				RequiredStatusChecks:        []string{"jit/validate", "jit/approval"},
				BypassPullRequestAllowances: ghemu.SeedBypassAllowances{Apps: []string{"jit"}},
			}}}},
		App:     &ghemu.SeedApp{ID: 42, Slug: "jit"},
		Webhook: ghemu.SeedWebhook{Secret: secret},
	})
	if !o.noStart {
		r.start()
	}
	return r
}

// start runs jit serve's App against the emulator (again, after stop, on
// the same data directory).
func (r *rig) start() {
	t := r.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ea, _ := r.srv.App()
	r.metrics = appmetrics.New()
	log := slog.New(slog.NewJSONHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	gh, err := ghapi.New(ctx, ghapi.Config{APIURL: r.srv.APIURL, AppID: ea.ID, PrivateKeyPEM: ea.PrivateKeyPEM,
		Owner: org, Repo: repo, Observe: r.metrics.ObserveGitHub, Logger: log,
		Retry: ghapi.Retry{Base: 10 * time.Millisecond, Max: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := gh.Repository(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mirror.Open(ctx, mirror.Config{Dir: filepath.Join(r.dataDir, "mirror"), URL: rp.CloneURL, Token: gh.Token, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ac := app.Config{GitHub: gh, Mirror: m, Signer: r.key.Signer, WebhookSecret: []byte(secret),
		DefaultBranch: rp.DefaultBranch, Resync: time.Hour, Metrics: r.metrics, Logger: log}
	if r.o.lifecycle {
		ac.Lifecycle = r.engine(ctx, gh, rp.DefaultBranch, log)
	}
	a, err := app.New(ac)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a.Handler())
	r.app, r.hookURL = a, hs.URL+"/webhook"
	r.srv.SetWebhookURL(r.hookURL)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx, 5*time.Second)
	}()
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		r.srv.SetWebhookURL("")
		cancel()
		<-done
		hs.Close()
	}
	t.Cleanup(r.stop)
	r.waitFor("the App's first sync", a.Ready)
	r.settle()
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// waitFor polls cond for up to 20 seconds, or three minutes in a rig
// running terraform and PostgreSQL (a loaded machine runs them slowly; how
// fast they are is the benchmarks' to say).
func (r *rig) waitFor(what string, cond func() bool) {
	r.t.Helper()
	limit := 20 * time.Second
	if r.o.lifecycle {
		limit = 3 * time.Minute
	}
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle waits until the emulator delivered every webhook and the App
// handled everything (twice in a row, since handling causes deliveries).
func (r *rig) settle() {
	r.t.Helper()
	quiet := 0
	r.waitFor("the App to settle", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.srv.WaitDeliveries(ctx); err != nil {
			r.t.Fatalf("webhook deliveries: %v", err)
		}
		if r.app != nil && !r.app.Idle() {
			quiet = 0
			return false
		}
		quiet++
		return quiet >= 3
	})
}

func (r *rig) client(login string) *github.Client { return r.srv.Client(login) }

// openPR commits files on a new branch as author and opens a pull request.
func (r *rig) openPR(author, branch string, files map[string]string, del ...string) int {
	r.t.Helper()
	ctx := context.Background()
	if _, err := r.srv.Commit(ctx, repo, ghemu.Change{Branch: branch, Author: author, Message: "request on " + branch, Files: files, Delete: del}); err != nil {
		r.t.Fatal(err)
	}
	pr, _, err := r.client(author).PullRequests.Create(ctx, org, repo, &github.NewPullRequest{
		Title: github.String("Access: " + branch), Head: github.String(branch), Base: github.String("main")})
	if err != nil {
		r.t.Fatal(err)
	}
	return pr.GetNumber()
}

// push adds a commit to a pull request's branch.
func (r *rig) push(author, branch string, files map[string]string) {
	r.t.Helper()
	if _, err := r.srv.Commit(context.Background(), repo, ghemu.Change{Branch: branch, Author: author, Message: "more on " + branch, Files: files}); err != nil {
		r.t.Fatal(err)
	}
}

// review submits a review by login on the pull request's current head.
func (r *rig) review(login string, n int, event string) error {
	_, _, err := r.client(login).PullRequests.CreateReview(context.Background(), org, repo, n, &github.PullRequestReviewRequest{
		Event: github.String(event), Body: github.String(event + " by " + login)})
	return err
}

func (r *rig) approve(login string, n int) {
	r.t.Helper()
	if err := r.review(login, n, "APPROVE"); err != nil {
		r.t.Fatalf("%s approving #%d: %v", login, n, err)
	}
}

func (r *rig) pr(n int) ghemu.PullRequest {
	r.t.Helper()
	for _, p := range r.srv.PullRequests(repo) {
		if p.Number == n {
			return p
		}
	}
	r.t.Fatalf("no pull request #%d", n)
	return ghemu.PullRequest{}
}

// check returns the latest check run named name on the pull request's head.
func (r *rig) check(n int, name string) ghemu.CheckRun {
	r.t.Helper()
	var got ghemu.CheckRun
	for _, c := range r.srv.CheckRuns(repo, r.pr(n).HeadSHA) {
		if c.Name == name && c.ID > got.ID {
			got = c
		}
	}
	if got.ID == 0 {
		r.t.Fatalf("no check run %s on #%d", name, n)
	}
	return got
}

// comments returns the App's comments on a pull request.
func (r *rig) comments(n int) []ghemu.Comment {
	var out []ghemu.Comment
	for _, c := range r.srv.Comments(repo, n) {
		if strings.HasPrefix(c.User, "jit") {
			out = append(out, c)
		}
	}
	return out
}

// git runs git in dir.
func git(t testing.TB, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// clone clones the access repository as login.
func (r *rig) clone(login string) string {
	r.t.Helper()
	dir := filepath.Join(r.t.TempDir(), "clone")
	u := strings.Replace(r.srv.GitURL(org, repo), "://", "://"+login+":"+r.srv.Token(login)+"@", 1)
	git(r.t, filepath.Dir(dir), nil, "clone", "-q", u, dir)
	return dir
}

const aliceGrant = `template: postgres-role
requester: alice
duration: 2h
reason: Investigate stuck orders
ticket: INC-1234
scope:
  database: orders
`

func grantFor(login string) string { return strings.Replace(aliceGrant, "alice", login, 1) }

func ghemuChange(branch, author, message string, files map[string]string) ghemu.Change {
	return ghemu.Change{Branch: branch, Author: author, Message: message, Files: files}
}

func ghemuDelete(branch, author, message string, paths ...string) ghemu.Change {
	return ghemu.Change{Branch: branch, Author: author, Message: message, Delete: paths}
}

func writeFile(t testing.TB, dir, p, content string) {
	t.Helper()
	full := filepath.Join(dir, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

var githubClosed = github.PullRequest{State: github.String("closed")}

// newBenchRig is a rig for a benchmark, logging only warnings.
func newBenchRig(b *testing.B) *rig {
	b.Helper()
	return newRig(b, rigOptions{})
}
