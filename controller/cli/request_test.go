package cli_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/cli"
	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
	"github.com/jitops/jit/controller/internal/decisiontest"
	"github.com/jitops/jit/controller/trailer"
)

// requireTool fails under CI=true, and skips otherwise, when name is not
// on PATH; with -short it skips.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: %v", name, err)
	}
	t.Skipf("%s not installed: %v", name, err)
	return ""
}

// userFixture is an access repository on the emulator (the repository's
// postgres-role template, a prod policy, CODEOWNERS and a signers file
// trusting key), and alice's clone of it.
type userFixture struct {
	srv   *ghemu.Server
	key   *decisiontest.Key
	clone string
}

const userPolicy = `policy "prod" {
  paths        = ["access/prod/**"]
  templates    = ["postgres-role"]
  max_duration = "4h"
  approvals    = 1
  approvers    = ["@acme/dba"]
  ticket       = "^[A-Z]+-[0-9]+$"
}
`

func newUserFixture(t *testing.T) *userFixture {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: runs git against the emulator")
	}
	requireTool(t, "git")
	key := decisiontest.NewKey(t)
	files := provTemplateFiles(t, "../../templates/postgres-role", "postgres-role")
	files["policies/prod.hcl"] = userPolicy
	files[".github/CODEOWNERS"] = "/access/ @acme/dba\n"
	files[".github/jit-signers"] = key.AllowedSigners()
	srv := ghemutest.NewServer(t, ghemu.Seed{
		Org:   ghemu.SeedOrg{Login: "acme"},
		Users: []ghemu.SeedUser{{Login: "alice"}, {Login: "bob"}},
		Teams: []ghemu.SeedTeam{{Slug: "dba", Members: []string{"alice", "bob"}}},
		Repos: []ghemu.SeedRepo{{Name: "access", Files: files}},
		App:   &ghemu.SeedApp{ID: 77, Slug: "jit"},
	})
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GH_TOKEN", "")
	t.Setenv("JIT_GITHUB_REPO", "")
	t.Setenv("JIT_GITHUB_URL", srv.APIURL)
	t.Setenv("GITHUB_TOKEN", srv.Token("alice"))
	f := &userFixture{srv: srv, key: key, clone: filepath.Join(t.TempDir(), "access")}
	f.git(t, "", "alice", "clone", "--quiet", srv.GitURL("acme", "access"), f.clone)
	return f
}

// git runs git in dir as login (its token as the basic-auth password) and
// returns the trimmed output.
func (f *userFixture) git(t *testing.T, dir, login string, args ...string) string {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + f.srv.Token(login)))
	full := append([]string{"-c", "http.extraHeader=Authorization: Basic " + basic, "-c", "user.name=" + login, "-c", "user.email=" + login + "@example.com"}, args...)
	cmd := exec.Command("git", full...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// run runs jit as login in alice's clone.
func (f *userFixture) run(t *testing.T, login string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("GITHUB_TOKEN", f.srv.Token(login))
	defer t.Setenv("GITHUB_TOKEN", f.srv.Token("alice"))
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := cli.Main(ctx, append(args, "--repo", f.clone), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// branchFile returns path at branch on the emulator, read as alice.
func (f *userFixture) branchFile(t *testing.T, branch, path string) (string, bool) {
	t.Helper()
	fc, _, resp, err := f.srv.Client("alice").Repositories.GetContents(context.Background(), "acme", "access", path,
		&github.RepositoryContentGetOptions{Ref: branch})
	if resp != nil && resp.StatusCode == 404 {
		return "", false
	}
	if err != nil {
		t.Fatalf("reading %s at %s: %v", path, branch, err)
	}
	s, err := fc.GetContent()
	if err != nil {
		t.Fatal(err)
	}
	return s, true
}

// pull returns the pull request whose head is branch.
func (f *userFixture) pull(t *testing.T, branch string) ghemu.PullRequest {
	t.Helper()
	for _, pr := range f.srv.PullRequests("access") {
		if pr.HeadRef == branch {
			return pr
		}
	}
	t.Fatalf("no pull request from %s; have %+v", branch, f.srv.PullRequests("access"))
	return ghemu.PullRequest{}
}

// merge lands the head of pull request number on main the way the App
// does: a merge commit whose message carries a decision signed by the
// fixture's key, pushed (as bob) to the emulator's main.
func (f *userFixture) merge(t *testing.T, number int, grantID, requester string, dur time.Duration) time.Time {
	t.Helper()
	pr := f.srv.PullRequests("access")[number-1]
	dir := filepath.Join(t.TempDir(), "merge")
	f.git(t, "", "bob", "clone", "--quiet", f.srv.GitURL("acme", "access"), dir)
	f.git(t, dir, "bob", "fetch", "--quiet", "origin", pr.HeadRef)
	head := f.git(t, dir, "bob", "rev-parse", "FETCH_HEAD")
	now := time.Now().UTC().Truncate(time.Second)
	msg := f.key.Message(t, trailer.Decision{Grants: []string{grantID}, RequestedBy: []string{requester}, ApprovedBy: []string{"bob"},
		EligibleVia: []trailer.Via{{Login: "bob", Owner: "@acme/dba"}}, Policies: []string{"prod"}, Duration: dur,
		ExpiresAt: now.Add(dur), PullRequest: number, Head: head})
	msgFile := filepath.Join(t.TempDir(), "msg")
	if err := os.WriteFile(msgFile, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	merge := f.git(t, dir, "bob", "commit-tree", head+"^{tree}", "-p", "HEAD", "-p", head, "-F", msgFile)
	f.git(t, dir, "bob", "push", "--quiet", "origin", merge+":refs/heads/main")
	return now.Add(dur)
}

const aliceRequest = "access/prod/orders/alice-inc-1.yaml"

// request opens alice's request for prod/orders/alice-inc-1 and checks it
// succeeded.
func (f *userFixture) request(t *testing.T) string {
	t.Helper()
	code, out, errOut := f.run(t, "alice", "request", "--no-prompt", "--template", "postgres-role", "--scope", "database=orders",
		"--scope", "connection_limit=2", "--for", "2h", "--reason", "Investigate: stuck orders # now", "--ticket", "INC-1", "--path", aliceRequest)
	if code != cli.ExitOK {
		t.Fatalf("jit request exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	return out
}

// TestRequestOpensPullRequest: jit request pushes the grant file on
// jit/request/<id> and opens the pull request as the token's user, says
// who may approve, and leaves the user's working tree and branch alone.
func TestRequestOpensPullRequest(t *testing.T) {
	f := newUserFixture(t)
	if err := os.WriteFile(filepath.Join(f.clone, "scratch.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	headBefore := f.git(t, f.clone, "alice", "rev-parse", "HEAD")
	out := f.request(t)

	pr := f.pull(t, "jit/request/prod/orders/alice-inc-1")
	if pr.Author != "alice" || pr.BaseRef != "main" || pr.Title != "jit: alice requests postgres-role on connection_limit=2, database=orders for 2h" {
		t.Errorf("pull request %+v", pr)
	}
	if !strings.Contains(out, fmt.Sprintf("opened %s/acme/access/pull/%d\n", f.srv.URL, pr.Number)) {
		t.Errorf("output lacks the pull request URL:\n%s", out)
	}
	for _, want := range []string{"needs 1 approval from code owners of " + aliceRequest + ": @acme/dba",
		"who must also be one of: @acme/dba", "never the requester (alice)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	got, ok := f.branchFile(t, "jit/request/prod/orders/alice-inc-1", aliceRequest)
	const want = `template: postgres-role
requester: alice
duration: 2h
reason: "Investigate: stuck orders # now"
ticket: INC-1
scope:
  connection_limit: 2
  database: orders
`
	if !ok || got != want {
		t.Errorf("grant file on the branch:\n%s\nwant:\n%s", got, want)
	}
	if h := f.git(t, f.clone, "alice", "rev-parse", "HEAD"); h != headBefore {
		t.Errorf("HEAD moved from %s to %s", headBefore, h)
	}
	if st := f.git(t, f.clone, "alice", "status", "--porcelain"); st != "?? scratch.txt" {
		t.Errorf("working tree changed: %q", st)
	}
	if b := f.git(t, f.clone, "alice", "branch", "--show-current"); b != "main" {
		t.Errorf("current branch %q", b)
	}
}

// TestRequestRefusesBadGrant: a grant the App would refuse is refused
// locally with every problem at file:line:col, and nothing is pushed.
func TestRequestRefusesBadGrant(t *testing.T) {
	f := newUserFixture(t)
	f.srv.ResetRequests()
	code, out, errOut := f.run(t, "alice", "request", "--no-prompt", "--template", "postgres-role", "--scope", "database=orders",
		"--for", "10h", "--reason", "too long", "--ticket", "not-a-ticket", "--path", aliceRequest)
	if code != cli.ExitProblems {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{aliceRequest + ":3:11: ", "4h", aliceRequest + ":5:9: ", "^[A-Z]+-[0-9]+$"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "nothing was pushed") {
		t.Errorf("stderr: %s", errOut)
	}
	for _, r := range f.srv.Requests() {
		if strings.Contains(r.Path, "git-receive-pack") || r.Route == "POST /repos/{owner}/{repo}/pulls" {
			t.Errorf("pushed or opened a pull request: %s %s", r.Method, r.Path)
		}
	}
	if prs := f.srv.PullRequests("access"); len(prs) != 0 {
		t.Errorf("pull requests %+v", prs)
	}
}

// TestRequestUsage: without a terminal a missing field is a usage error
// naming its flag, and nothing is pushed.
func TestRequestUsage(t *testing.T) {
	f := newUserFixture(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no template", []string{"--for", "1h", "--reason", "r"}, "--template is required"},
		{"no duration", []string{"--template", "postgres-role", "--reason", "r", "--path", aliceRequest}, "--for is required"},
		{"no reason", []string{"--template", "postgres-role", "--for", "1h", "--path", aliceRequest}, "--reason is required"},
		{"unknown input", []string{"--template", "postgres-role", "--scope", "colour=red"}, `--scope colour: template postgres-role has no input "colour"`},
		{"number input", []string{"--template", "postgres-role", "--scope", "connection_limit=lots"}, `--scope connection_limit: "lots" is not a number`},
		{"path outside access", []string{"--template", "postgres-role", "--for", "1h", "--reason", "r", "--path", "policies/x.yaml"}, "--path policies/x.yaml: "},
		{"unknown template", []string{"--template", "nosuch"}, `template "nosuch" at the default branch`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := f.run(t, "alice", append([]string{"request", "--no-prompt"}, tc.args...)...)
			if code != cli.ExitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 with %q", code, errOut, tc.want)
			}
		})
	}
	t.Setenv("GITHUB_TOKEN", "")
	var stderr bytes.Buffer
	if code := cli.Main(context.Background(), []string{"list", "--repo", f.clone}, &bytes.Buffer{}, &stderr); code != cli.ExitUsage ||
		!strings.Contains(stderr.String(), "set GITHUB_TOKEN") {
		t.Errorf("without a token: exit %d %s", code, stderr.String())
	}
	if prs := f.srv.PullRequests("access"); len(prs) != 0 {
		t.Errorf("pull requests %+v", prs)
	}
}

// TestGitHubRepoMustMatchOrigin: every requester-side command refuses a
// --github-repo or JIT_GITHUB_REPO naming another repository than the
// clone's origin (grants read from one, pull requests opened on the
// other), naming both; the same repository is accepted.
func TestGitHubRepoMustMatchOrigin(t *testing.T) {
	f := newUserFixture(t)
	top := f.git(t, f.clone, "alice", "rev-parse", "--show-toplevel")
	commands := [][]string{
		{"request", "--no-prompt", "--template", "postgres-role", "--scope", "database=orders", "--for", "1h", "--reason", "r", "--ticket", "INC-1", "--path", aliceRequest},
		{"revoke", "prod/orders/alice-inc-1"},
		{"extend", "prod/orders/alice-inc-1", "--for", "3h"},
		{"list"},
		{"credentials", "prod/orders/alice-inc-1", "--identity", "/nonexistent"},
	}
	for _, args := range commands {
		t.Run(args[0]+" flag", func(t *testing.T) {
			code, out, errOut := f.run(t, "alice", append(args, "--github-repo", "acme/other")...)
			want := "jit " + args[0] + ": --github-repo names acme/other but the origin remote of " + top +
				" names acme/access: jit reads the grants from origin and opens pull requests on acme/other, so both must be the same repository; fix the remote (git remote set-url origin URL) or --github-repo\n"
			if code != cli.ExitUsage || errOut != want || out != "" {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant   %q", code, out, errOut, want)
			}
		})
		t.Run(args[0]+" environment", func(t *testing.T) {
			t.Setenv("JIT_GITHUB_REPO", "Acme/Other")
			code, _, errOut := f.run(t, "alice", args...)
			if code != cli.ExitUsage || !strings.Contains(errOut, "JIT_GITHUB_REPO names Acme/Other but the origin remote of") ||
				!strings.HasSuffix(errOut, "or JIT_GITHUB_REPO\n") {
				t.Errorf("exit %d\n%s", code, errOut)
			}
		})
	}
	t.Setenv("JIT_GITHUB_REPO", "acme/access")
	if code, out, errOut := f.run(t, "alice", "list", "--github-repo", "acme/access"); code != cli.ExitOK {
		t.Errorf("the origin's own repository: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestExtendAndRevoke: on a merged grant, jit extend opens a pull request
// changing only the duration and jit revoke one deleting the file, each on
// its own branch.
func TestExtendAndRevoke(t *testing.T) {
	f := newUserFixture(t)
	f.request(t)
	f.merge(t, 1, "prod/orders/alice-inc-1", "alice", 2*time.Hour)
	before, _ := f.branchFile(t, "main", aliceRequest)

	code, out, errOut := f.run(t, "alice", "extend", "prod/orders/alice-inc-1", "--for", "3h", "--reason", "still digging")
	if code != cli.ExitOK {
		t.Fatalf("extend exit %d\n%s\n%s", code, out, errOut)
	}
	ext := f.pull(t, "jit/extend/prod/orders/alice-inc-1")
	if ext.Author != "alice" || ext.Title != "jit: alice extends prod/orders/alice-inc-1 to 3h" || !strings.Contains(out, "needs 1 approval") {
		t.Errorf("extension %+v\n%s", ext, out)
	}
	after, _ := f.branchFile(t, "jit/extend/prod/orders/alice-inc-1", aliceRequest)
	if want := strings.Replace(before, "duration: 2h\n", "duration: 3h\n", 1); after != want || after == before {
		t.Errorf("extended file:\n%s\nwant:\n%s", after, want)
	}

	code, out, errOut = f.run(t, "alice", "revoke", "access/prod/orders/alice-inc-1.yaml", "--reason", "done early")
	if code != cli.ExitOK {
		t.Fatalf("revoke exit %d\n%s\n%s", code, out, errOut)
	}
	rev := f.pull(t, "jit/revoke/prod/orders/alice-inc-1")
	if rev.Author != "alice" || rev.Title != "jit: alice revokes prod/orders/alice-inc-1" || !strings.Contains(out, "no approval needed (your own revocation)") {
		t.Errorf("revocation %+v\n%s", rev, out)
	}
	if _, ok := f.branchFile(t, "jit/revoke/prod/orders/alice-inc-1", aliceRequest); ok {
		t.Errorf("the revocation branch still holds the grant file")
	}

	code, _, errOut = f.run(t, "alice", "revoke", "prod/orders/nobody-1")
	if code != cli.ExitProblems || !strings.Contains(errOut, "no grant prod/orders/nobody-1 at main's tip") {
		t.Errorf("revoking an unknown grant: exit %d %s", code, errOut)
	}
	code, _, errOut = f.run(t, "alice", "extend", "prod/orders/alice-inc-1")
	if code != cli.ExitUsage || !strings.Contains(errOut, "--for is required") {
		t.Errorf("extend without --for: exit %d %s", code, errOut)
	}
}

// TestList: a grant merged with a signed decision is listed with its time
// left; --mine keeps the caller's own; a grant file without a decision is
// not live.
func TestList(t *testing.T) {
	f := newUserFixture(t)
	f.request(t)
	expires := f.merge(t, 1, "prod/orders/alice-inc-1", "alice", 2*time.Hour)
	// A grant file pushed without a decision is never live.
	dir := filepath.Join(t.TempDir(), "direct")
	f.git(t, "", "bob", "clone", "--quiet", f.srv.GitURL("acme", "access"), dir)
	if err := os.WriteFile(filepath.Join(dir, "access/prod/orders/alice-inc-2.yaml"),
		[]byte("template: postgres-role\nrequester: bob\nduration: 1h\nreason: r\nticket: INC-2\nscope:\n  database: orders\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.git(t, dir, "bob", "add", ".")
	f.git(t, dir, "bob", "commit", "--quiet", "-m", "unsigned")
	f.git(t, dir, "bob", "push", "--quiet", "origin", "HEAD:main")

	code, out, errOut := f.run(t, "alice", "list")
	if code != cli.ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], "prod/orders/alice-inc-1") ||
		!strings.Contains(lines[1], "connection_limit=2, database=orders") || !strings.Contains(lines[1], expires.Format(time.RFC3339)) ||
		!(strings.HasSuffix(lines[1], "1h59m") || strings.HasSuffix(lines[1], "2h")) {
		t.Errorf("jit list:\n%s", out)
	}

	code, out, _ = f.run(t, "alice", "list", "--mine", "--json")
	var listed []struct {
		ID          string    `json:"id"`
		Requester   string    `json:"requester"`
		ExpiresAt   time.Time `json:"expires_at"`
		SecondsLeft int64     `json:"seconds_left"`
		PullRequest int       `json:"pull_request"`
	}
	if err := json.Unmarshal([]byte(out), &listed); code != cli.ExitOK || err != nil || len(listed) != 1 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if l := listed[0]; l.ID != "prod/orders/alice-inc-1" || l.Requester != "alice" || !l.ExpiresAt.Equal(expires) ||
		l.SecondsLeft < 7000 || l.SecondsLeft > 7200 || l.PullRequest != 1 {
		t.Errorf("listed %+v", l)
	}
	code, out, _ = f.run(t, "bob", "list", "--mine", "--json")
	if code != cli.ExitOK || strings.TrimSpace(out) != "[]" {
		t.Errorf("bob's own grants: exit %d %s", code, out)
	}
}

// TestListQuotesUnprintable: a merged grant file whose scope value carries
// what the grant file parser lets through but a terminal table must not
// print raw (a tab and a newline forging a row, a private-use rune) is
// listed with that value quoted (strconv.Quote style) in the table; the
// JSON escapes them and decodes to the same value. (Escape sequences and
// other controls are rejected by the parser; TestQuoteUnprintable and
// TestJSONPrintable cover them.)
func TestListQuotesUnprintable(t *testing.T) {
	f := newUserFixture(t)
	dir := filepath.Join(t.TempDir(), "bob")
	f.git(t, "", "bob", "clone", "--quiet", f.srv.GitURL("acme", "access"), dir)
	file := filepath.Join(dir, "access/prod/orders/alice-inc-2.yaml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("template: postgres-role\nrequester: alice\nduration: 1h\nreason: r\nticket: INC-2\nscope:\n"+
		"  database: \"orders\\tX\\nFORGED\\ue000\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.git(t, dir, "bob", "checkout", "--quiet", "-b", "jit/request/prod/orders/alice-inc-2")
	f.git(t, dir, "bob", "add", ".")
	f.git(t, dir, "bob", "commit", "--quiet", "-m", "escapes")
	f.git(t, dir, "bob", "push", "--quiet", "origin", "HEAD")
	if _, _, err := f.srv.Client("bob").PullRequests.Create(context.Background(), "acme", "access", &github.NewPullRequest{
		Title: github.String("t"), Head: github.String("jit/request/prod/orders/alice-inc-2"), Base: github.String("main")}); err != nil {
		t.Fatal(err)
	}
	f.merge(t, 1, "prod/orders/alice-inc-2", "alice", time.Hour)

	code, out, errOut := f.run(t, "alice", "list")
	if code != cli.ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	want := `  database="orders\tX\nFORGED\ue000"  `
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], want) {
		t.Errorf("jit list lacks %s:\n%s", want, out)
	}
	code, out, _ = f.run(t, "alice", "list", "--json")
	if code != cli.ExitOK || !strings.Contains(out, `"database": "orders\tX\nFORGED\ue000"`) {
		t.Errorf("jit list --json: exit %d\n%s", code, out)
	}
	var listed []struct {
		Scope map[string]any `json:"scope"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 1 || listed[0].Scope["database"] != "orders\tX\nFORGED\ue000" {
		t.Errorf("the JSON does not decode to the grant's values: %v %+v", err, listed)
	}
}
