package ghapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/ghemu"
)

const (
	aliceGrant = "access/prod/db/alice-1.yaml"
	bobGrant   = "access/prod/db/bob-2.yaml"
	pullsRoute = "POST /repos/{owner}/{repo}/pulls"
	refsRoute  = "POST /repos/{owner}/{repo}/git/refs"
)

// newDeletionEnv is an emulator whose main holds two grant files.
func newDeletionEnv(t *testing.T) *env {
	t.Helper()
	return newEnvSeed(t, func(sd *ghemu.Seed) {
		sd.Repos[0].Files = map[string]string{"README.md": "# access\n", aliceGrant: "template: pg\n", bobGrant: "template: pg\n"}
	})
}

// expiry is the deletion pull request of alice's grant on main's tip.
func (e *env) expiry(t *testing.T) ghapi.DeletionPR {
	t.Helper()
	tip, err := e.c.BranchTip(context.Background(), "main")
	if err != nil {
		t.Fatal(err)
	}
	return ghapi.DeletionPR{
		Branch: ghapi.ExpireBranch("prod/db/alice-1"), Base: "main", BaseSHA: tip, Paths: []string{aliceGrant},
		CommitMessage: "jit: expire prod/db/alice-1", Title: "Expire prod/db/alice-1", Body: "prod/db/alice-1 expired at 2026-01-02T03:04:05Z.",
	}
}

// openedDeletionEnv is newDeletionEnv with alice's expiry pull request opened.
func openedDeletionEnv(t *testing.T) (*env, ghapi.DeletionPR, ghapi.PullRequest) {
	t.Helper()
	e := newDeletionEnv(t)
	d := e.expiry(t)
	p, err := e.c.OpenDeletionPR(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return e, d, p
}

// runGit runs git in dir and returns its trimmed output.
func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir, "-c", "credential.helper="}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// clone clones the access repository with the App's token.
func (e *env) clone(t *testing.T) string {
	t.Helper()
	tok, err := e.c.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(e.srv.GitURL("acme", "access"))
	u.User = url.UserPassword("x-access-token", tok)
	dir := filepath.Join(t.TempDir(), "clone")
	runGit(t, ".", "clone", "--quiet", "--no-single-branch", u.String(), dir)
	return dir
}

// appCommit makes a commit as the App's installation (authored by jit[bot])
// on parents, with parents[0]'s tree minus del plus add, and returns it.
func (e *env) appCommit(t *testing.T, parents []string, del []string, add map[string]string) string {
	t.Helper()
	ctx := context.Background()
	gh, err := e.srv.InstallationClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := gh.Git.GetCommit(ctx, "acme", "access", parents[0])
	if err != nil {
		t.Fatal(err)
	}
	var entries []*github.TreeEntry
	for _, d := range del {
		entries = append(entries, &github.TreeEntry{Path: github.String(d), Mode: github.String("100644"), Type: github.String("blob")})
	}
	for path, content := range add {
		entries = append(entries, &github.TreeEntry{Path: github.String(path), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String(content)})
	}
	tree, _, err := gh.Git.CreateTree(ctx, "acme", "access", p.GetTree().GetSHA(), entries)
	if err != nil {
		t.Fatal(err)
	}
	var ps []*github.Commit
	for _, sha := range parents {
		ps = append(ps, &github.Commit{SHA: github.String(sha)})
	}
	cm, _, err := gh.Git.CreateCommit(ctx, "acme", "access", &github.Commit{Message: github.String("jit: expire"), Tree: tree, Parents: ps}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cm.GetSHA()
}

// setBranch points branch at sha (creating it).
func (e *env) setBranch(t *testing.T, branch, sha string) {
	t.Helper()
	_, _, err := e.srv.Client("dave").Git.CreateRef(context.Background(), "acme", "access",
		&github.Reference{Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: github.String(sha)}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenDeletionPR(t *testing.T) {
	e := newDeletionEnv(t)
	ctx := context.Background()
	d := e.expiry(t)
	e.srv.ResetRequests()
	p, err := e.c.OpenDeletionPR(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, r := range e.srv.APIRequests() {
		routes = append(routes, fmt.Sprintf("%s %d", r.Route, r.Status))
	}
	want := []string{
		"GET /repos/{owner}/{repo}/git/commits/{commit_sha} 200", "POST /repos/{owner}/{repo}/git/trees 201",
		"POST /repos/{owner}/{repo}/git/commits 201", refsRoute + " 201", pullsRoute + " 201",
	}
	if diff := cmp.Diff(want, routes); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	for _, r := range []string{"POST /repos/{owner}/{repo}/git/trees", refsRoute, pullsRoute} {
		if got := e.obs.statuses(r); !cmp.Equal(got, []int{201}) {
			t.Errorf("observed %s %v, want [201]", r, got)
		}
	}
	if p.Number == 0 || p.State != "open" || p.HeadRef != d.Branch || p.BaseRef != "main" || p.Title != d.Title || p.Body != d.Body || p.Author != "jit[bot]" {
		t.Errorf("pull request %+v, want the App's open one from %s into main", p, d.Branch)
	}

	// The file is gone in git itself, and nothing else changed.
	dir := e.clone(t)
	br := "origin/" + d.Branch
	if got := runGit(t, dir, "diff", "--name-status", "origin/main", br); got != "D\t"+aliceGrant {
		t.Errorf("main..%s changes %q, want only %s deleted", d.Branch, got, aliceGrant)
	}
	if got := runGit(t, dir, "ls-tree", "-r", "--name-only", br); got != strings.Join([]string{"README.md", bobGrant}, "\n") {
		t.Errorf("files on %s:\n%s\nwant README.md and %s", d.Branch, got, bobGrant)
	}
	if got := runGit(t, dir, "log", "--format=%P %an %B", "-1", br); got != d.BaseSHA+" jit[bot] "+d.CommitMessage {
		t.Errorf("tip commit %q, want one parent %s, by jit[bot], with the message", got, d.BaseSHA)
	}
	if p.HeadSHA != runGit(t, dir, "rev-parse", br) {
		t.Errorf("pull request head %s is not the branch's tip", p.HeadSHA)
	}

	// Called again (a restart after the pull request was opened): the same one.
	again, err := e.client(t, nil).OpenDeletionPR(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if again.Number != p.Number || e.count(pullsRoute) != 1 {
		t.Errorf("again: #%d after %d creates, want #%d and still one create", again.Number, e.count(pullsRoute), p.Number)
	}
	if n := len(e.srv.PullRequests("access")); n != 1 {
		t.Errorf("%d pull requests, want 1", n)
	}
}

// TestOpenDeletionPRKnownTree: with the base's tree given, nothing is read
// before the deletion is made, and the check runs then posted on the new
// head are created without listing the head's runs (it can have none).
func TestOpenDeletionPRKnownTree(t *testing.T) {
	e := newDeletionEnv(t)
	ctx := context.Background()
	d := e.expiry(t)
	gh, err := e.srv.InstallationClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	base, _, err := gh.Git.GetCommit(ctx, "acme", "access", d.BaseSHA)
	if err != nil {
		t.Fatal(err)
	}
	d.BaseTree = base.GetTree().GetSHA()
	e.srv.ResetRequests()
	p, err := e.c.OpenDeletionPR(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"jit/validate", "jit/approval"} {
		if _, err := e.c.PutCheckRun(ctx, ghapi.CheckRun{Name: name, HeadSHA: p.HeadSHA, Status: "completed", Conclusion: "success", Title: "ok", Summary: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	var routes []string
	for _, r := range e.srv.APIRequests() {
		routes = append(routes, fmt.Sprintf("%s %d", r.Route, r.Status))
	}
	want := []string{
		"POST /repos/{owner}/{repo}/git/trees 201", "POST /repos/{owner}/{repo}/git/commits 201", refsRoute + " 201", pullsRoute + " 201",
		"POST /repos/{owner}/{repo}/check-runs 201", "POST /repos/{owner}/{repo}/check-runs 201",
	}
	if diff := cmp.Diff(want, routes); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	d.BaseTree = "not-a-tree"
	if _, err := e.c.OpenDeletionPR(ctx, d); err == nil || !strings.Contains(err.Error(), `BaseTree "not-a-tree" is not 40 lower-case hex digits`) {
		t.Errorf("OpenDeletionPR with a bad BaseTree = %v, want it refused", err)
	}
}

// TestOpenDeletionPRCrashBeforePull: the branch was made, then the
// controller stopped before opening the pull request; the next one reuses
// the branch as it is.
func TestOpenDeletionPRCrashBeforePull(t *testing.T) {
	e := newDeletionEnv(t)
	ctx := context.Background()
	d := e.expiry(t)
	e.srv.FailNext(pullsRoute, 1, http.StatusForbidden) // stands for the crash: no pull request made
	if _, err := e.c.OpenDeletionPR(ctx, d); status(err) != http.StatusForbidden {
		t.Fatalf("first OpenDeletionPR = %v, want the injected 403", err)
	}
	made, err := e.c.BranchTip(ctx, d.Branch)
	if err != nil {
		t.Fatalf("the branch was not made: %v", err)
	}
	restarted := e.client(t, nil)
	p, err := restarted.OpenDeletionPR(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if now, _ := e.c.BranchTip(ctx, d.Branch); now != made || p.HeadSHA != made {
		t.Errorf("branch at %s, pull request head %s, want both still the first commit %s", now, p.HeadSHA, made)
	}
	if got := e.obs.statuses(refsRoute); !cmp.Equal(got, []int{201, 422}) {
		t.Errorf("ref creates observed %v, want [201 422]", got)
	}
	if got := e.obs.statuses(pullsRoute); !cmp.Equal(got, []int{403, 201}) {
		t.Errorf("pull creates observed %v, want [403 201]", got)
	}
}

// hideOpenPulls answers the first n listings of pull requests by head with
// an empty list, as a listing that lags GitHub's own state would.
type hideOpenPulls struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    int
}

func (h *hideOpenPulls) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(r)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil || r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/pulls") || r.URL.Query().Get("head") == "" || h.n == 0 {
		return resp, err
	}
	h.n--
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader("[]"))
	resp.ContentLength = 2
	resp.Header.Del("Link")
	return resp, nil
}

func TestOpenDeletionPRExists(t *testing.T) {
	t.Run("422 already exists finds the pull request", func(t *testing.T) {
		e, d, p := openedDeletionEnv(t)
		ctx := context.Background()
		c := e.client(t, func(cfg *ghapi.Config) { cfg.Transport = &hideOpenPulls{base: httpDefault(), n: 1} })
		got, err := c.OpenDeletionPR(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if got.Number != p.Number {
			t.Errorf("got #%d, want the existing #%d", got.Number, p.Number)
		}
		if s := e.obs.statuses(pullsRoute); !cmp.Equal(s, []int{201, 422}) {
			t.Errorf("pull creates observed %v, want [201 422]", s)
		}
	})
	t.Run("502 after the pull request was made", func(t *testing.T) {
		e := newDeletionEnv(t)
		c := e.client(t, func(cfg *ghapi.Config) {
			cfg.Transport = &lostAnswer{base: httpDefault(), method: "POST", path: "/repos/acme/access/pulls", n: 1}
		})
		p, err := c.OpenDeletionPR(context.Background(), e.expiry(t))
		if err != nil {
			t.Fatal(err)
		}
		prs := e.srv.PullRequests("access")
		if len(prs) != 1 || prs[0].Number != p.Number || e.count(pullsRoute) != 1 {
			t.Errorf("pull requests %+v after %d creates, want exactly #%d", prs, e.count(pullsRoute), p.Number)
		}
	})
	t.Run("someone else's open pull request from the branch", func(t *testing.T) {
		e := newDeletionEnv(t)
		ctx := context.Background()
		d := e.expiry(t)
		e.srv.FailNext(pullsRoute, 1, http.StatusForbidden)
		if _, err := e.c.OpenDeletionPR(ctx, d); err == nil {
			t.Fatal("the injected 403 was not reported")
		}
		theirs, _, err := e.srv.Client("bob").PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{
			Title: github.String("mine"), Head: github.String(d.Branch), Base: github.String("main")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.c.OpenDeletionPR(ctx, d)
		if want := fmt.Sprintf("pull request #%d from %s was opened by bob, not by the App (jit[bot]); close it", theirs.GetNumber(), d.Branch); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("OpenDeletionPR = %v, want %q", err, want)
		}
	})
}

func TestOpenDeletionPRTampered(t *testing.T) {
	ctx := context.Background()
	tests := map[string]struct {
		branch func(t *testing.T, e *env, d ghapi.DeletionPR) string // makes the branch's tip
		err    string                                                // "" when it is reused
	}{

		"someone else's commit": {err: `its tip is authored by "alice", not by the App (jit[bot])`, branch: func(t *testing.T, e *env, d ghapi.DeletionPR) string {
			sha, err := e.srv.Commit(ctx, "access", ghemu.Change{Branch: d.Branch, Author: "alice", Message: "jit: expire", Delete: []string{aliceGrant}})
			if err != nil {
				t.Fatal(err)
			}
			return sha
		}},
		"deletes another grant too": {err: "is not its parent's without exactly " + aliceGrant, branch: func(t *testing.T, e *env, d ghapi.DeletionPR) string {
			return e.appCommit(t, []string{d.BaseSHA}, []string{aliceGrant, bobGrant}, nil)
		}},
		"adds a file too": {err: "is not its parent's without exactly", branch: func(t *testing.T, e *env, d ghapi.DeletionPR) string {
			return e.appCommit(t, []string{d.BaseSHA}, []string{aliceGrant}, map[string]string{"access/prod/db/mallory.yaml": "template: pg\n"})
		}},
		"deletes nothing": {err: "is not its parent's without exactly", branch: func(t *testing.T, e *env, d ghapi.DeletionPR) string {
			return e.appCommit(t, []string{d.BaseSHA}, nil, map[string]string{"README.md": "# access\n"})
		}},
		"on a parent off main": {err: "is not on main's history", branch: func(t *testing.T, e *env, d ghapi.DeletionPR) string {
			side, err := e.srv.Commit(ctx, "access", ghemu.Change{Branch: "side", Author: "alice", Message: "side", Files: map[string]string{"access/y.yaml": "y\n"}})
			if err != nil {
				t.Fatal(err)
			}
			return e.appCommit(t, []string{side}, []string{aliceGrant}, nil)
		}},
		"a merge": {err: "its tip has 2 parents, not one", branch: func(t *testing.T, e *env, d ghapi.DeletionPR) string {
			side, err := e.srv.Commit(ctx, "access", ghemu.Change{Branch: "side", Author: "alice", Message: "side", Files: map[string]string{"access/y.yaml": "y\n"}})
			if err != nil {
				t.Fatal(err)
			}
			return e.appCommit(t, []string{d.BaseSHA, side}, []string{aliceGrant}, nil)
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newDeletionEnv(t)
			d := e.expiry(t)
			tip := tc.branch(t, e, d)
			if now, _ := e.c.BranchTip(ctx, d.Branch); now != tip {
				e.setBranch(t, d.Branch, tip)
			}
			p, err := e.c.OpenDeletionPR(ctx, d)
			if now, _ := e.c.BranchTip(ctx, d.Branch); now != tip {
				t.Errorf("branch moved from %s to %s, want it left alone", tip, now)
			}
			if got := e.obs.statuses("unknown"); len(got) != 0 {
				t.Errorf("%d requests observed without a route, want every one named", len(got))
			}
			if tc.err == "" {
				if err != nil || p.HeadSHA != tip {
					t.Fatalf("OpenDeletionPR = %+v, %v, want a pull request of the existing %s", p, err, tip)
				}
				return
			}
			if !errors.Is(err, ghapi.ErrBranchTampered) || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), d.Branch+" at "+tip) {
				t.Errorf("OpenDeletionPR = %v, want ErrBranchTampered naming the branch, its tip and %q", err, tc.err)
			}
			if n := len(e.srv.PullRequests("access")); n != 0 {
				t.Errorf("%d pull requests opened, want none", n)
			}
		})
	}
}

// TestOpenDeletionPRStale: the expiry pull request was opened, then an
// extension rewrote the grant's file on main (the deletion made on the old
// main would now conflict with it); opening it again moves the branch to the
// deletion on the current tip, and the open pull request follows.
func TestOpenDeletionPRStale(t *testing.T) {
	e, old, p := openedDeletionEnv(t)
	ctx := context.Background()
	if _, err := e.srv.Commit(ctx, "access", ghemu.Change{Author: "bob", Message: "extend", Files: map[string]string{aliceGrant: "template: pg\nduration: 4h\n"}}); err != nil {
		t.Fatal(err)
	}
	d := e.expiry(t)
	if d.BaseSHA == old.BaseSHA {
		t.Fatal("main did not move")
	}
	got, err := e.c.OpenDeletionPR(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := e.c.BranchTip(ctx, d.Branch)
	if err != nil {
		t.Fatal(err)
	}
	if got.Number != p.Number || got.HeadSHA != tip || tip == p.HeadSHA {
		t.Errorf("got #%d at %s, branch at %s, want #%d moved off %s to the branch's new tip", got.Number, got.HeadSHA, tip, p.Number, p.HeadSHA)
	}
	dir := e.clone(t)
	br := "origin/" + d.Branch
	if got := runGit(t, dir, "log", "--format=%P %an", "-1", br); got != d.BaseSHA+" jit[bot]" {
		t.Errorf("branch tip %q, want the App's commit on main's tip %s", got, d.BaseSHA)
	}
	if got := runGit(t, dir, "diff", "--name-status", "origin/main", br); got != "D\t"+aliceGrant {
		t.Errorf("main..%s changes %q, want only %s deleted", d.Branch, got, aliceGrant)
	}
	if n := len(e.srv.PullRequests("access")); n != 1 {
		t.Errorf("%d pull requests, want the one", n)
	}
}

func TestOpenDeletionPRRefused(t *testing.T) {
	e := newDeletionEnv(t)
	ok := e.expiry(t)
	tooMany := make([]string, 101)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("access/g/x-%d.yaml", i)
	}
	tests := map[string]struct {
		edit func(d *ghapi.DeletionPR)
		err  string
	}{
		"branch outside jit/expire/": {func(d *ghapi.DeletionPR) { d.Branch = "expire/prod/db/alice-1" }, `branch "expire/prod/db/alice-1" does not start with jit/expire/`},
		"branch naming no grant":     {func(d *ghapi.DeletionPR) { d.Branch = "jit/expire/Prod/x" }, `branch "jit/expire/Prod/x" does not name a grant: path segment "Prod" is not allowed`},
		"branch with ..":             {func(d *ghapi.DeletionPR) { d.Branch = "jit/expire/prod/../main" }, "does not name a grant"},
		"branch with a colon":        {func(d *ghapi.DeletionPR) { d.Branch = "jit/expire/a:b" }, "does not name a grant"},
		"base with a space":          {func(d *ghapi.DeletionPR) { d.Base = "ma in" }, `base "ma in" is not a branch name`},
		"no base":                    {func(d *ghapi.DeletionPR) { d.Base = "" }, `base "" is not a branch name`},
		"short base sha":             {func(d *ghapi.DeletionPR) { d.BaseSHA = d.BaseSHA[:7] }, "is not 40 lower-case hex digits"},
		"no paths":                   {func(d *ghapi.DeletionPR) { d.Paths = nil }, "0 paths; give between 1 and 100 grant files"},
		"too many paths":             {func(d *ghapi.DeletionPR) { d.Paths = tooMany }, "101 paths; give between 1 and 100 grant files"},
		"not a grant file":           {func(d *ghapi.DeletionPR) { d.Paths = []string{aliceGrant, "README.md"} }, `path "README.md" is not a grant file (grant files live under access/`},
		"a governing file":           {func(d *ghapi.DeletionPR) { d.Paths = []string{aliceGrant, ".github/jit-signers"} }, `path ".github/jit-signers" is not a grant file`},
		"twice":                      {func(d *ghapi.DeletionPR) { d.Paths = []string{aliceGrant, aliceGrant} }, `path "access/prod/db/alice-1.yaml" is given twice`},
		"branch's grant not deleted": {func(d *ghapi.DeletionPR) { d.Paths = []string{bobGrant} }, "the branch names grant prod/db/alice-1, but its file access/prod/db/alice-1.yaml is not among the paths"},
		"no commit message":          {func(d *ghapi.DeletionPR) { d.CommitMessage = " " }, "CommitMessage is empty"},
		"no title":                   {func(d *ghapi.DeletionPR) { d.Title = "" }, "Title is empty"},
	}
	e.srv.ResetRequests()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := ok
			d.Paths = slices.Clone(ok.Paths)
			tc.edit(&d)
			_, err := e.c.OpenDeletionPR(context.Background(), d)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("OpenDeletionPR = %v, want an error containing %q", err, tc.err)
			}
		})
	}
	if n := len(e.srv.APIRequests()); n != 0 {
		t.Errorf("%d requests for refused pull requests, want none", n)
	}

	t.Run("nothing to delete", func(t *testing.T) {
		d := ok
		d.Branch, d.Paths = ghapi.ExpireBranch("prod/db/gone-3"), []string{"access/prod/db/gone-3.yaml"}
		_, err := e.c.OpenDeletionPR(context.Background(), d)
		if want := d.BaseSHA + " holds none of access/prod/db/gone-3.yaml; there is nothing to delete"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("OpenDeletionPR = %v, want %q", err, want)
		}
		if n := e.count(refsRoute); n != 0 {
			t.Errorf("%d refs created, want none", n)
		}
	})
}

func TestPullRequestsForHead(t *testing.T) {
	e, d, p := openedDeletionEnv(t)
	ctx := context.Background()
	numbers := func(state string) []int {
		ps, err := e.c.PullRequestsForHead(ctx, d.Branch, state)
		if err != nil {
			t.Fatalf("PullRequestsForHead(%s): %v", state, err)
		}
		out := []int{}
		for _, p := range ps {
			out = append(out, p.Number)
		}
		return out
	}
	if got := numbers("open"); !cmp.Equal(got, []int{p.Number}) {
		t.Errorf("open: %v, want [%d]", got, p.Number)
	}
	if got := numbers("closed"); len(got) != 0 {
		t.Errorf("closed: %v, want none", got)
	}
	if _, _, err := e.srv.Client("dave").PullRequests.Edit(ctx, "acme", "access", p.Number, &github.PullRequest{State: github.String("closed")}); err != nil {
		t.Fatal(err)
	}
	if got, all := numbers("closed"), numbers("all"); !cmp.Equal(got, []int{p.Number}) || !cmp.Equal(all, []int{p.Number}) {
		t.Errorf("after closing: closed %v, all %v, want [%d] each", got, all, p.Number)
	}
	if ps, err := e.c.PullRequestsForHead(ctx, "jit/expire/prod/db/nobody", "all"); err != nil || ps == nil || len(ps) != 0 {
		t.Errorf("a branch without pull requests = %#v, %v, want an empty list", ps, err)
	}
	for _, bad := range []struct{ branch, state, err string }{
		{d.Branch, "merged", `state "merged" is none of open, closed, all`},
		{"a b", "open", `listing pull requests from "a b": not a branch name`},
		{"jit/expire/x..y", "open", "not a branch name"},
	} {
		if _, err := e.c.PullRequestsForHead(ctx, bad.branch, bad.state); err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("PullRequestsForHead(%q, %q) = %v, want %q", bad.branch, bad.state, err, bad.err)
		}
	}
}

func TestDeleteBranch(t *testing.T) {
	e, d, _ := openedDeletionEnv(t)
	ctx := context.Background()
	for range 2 { // the second finds it gone, which is no error
		if err := e.c.DeleteBranch(ctx, d.Branch); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.c.BranchTip(ctx, d.Branch); status(err) != http.StatusNotFound {
		t.Errorf("BranchTip after DeleteBranch = %v, want 404", err)
	}
	const route = "DELETE /repos/{owner}/{repo}/git/refs/{ref}"
	if got := e.obs.statuses(route); !cmp.Equal(got, []int{204, 422}) {
		t.Errorf("deletes observed %v, want [204 422]", got)
	}
	for _, b := range []string{"main", "feature/x", "jit/../main", ""} {
		if err := e.c.DeleteBranch(ctx, b); err == nil || !strings.Contains(err.Error(), "only the App's own branches (jit/…) are deleted") {
			t.Errorf("DeleteBranch(%q) = %v, want refused", b, err)
		}
	}
	if n := e.count(route); n != 2 {
		t.Errorf("%d deletes sent, want 2 (refused names send nothing)", n)
	}
	e.srv.FailNext(route, 1, http.StatusForbidden)
	if err := e.c.DeleteBranch(ctx, "jit/expire/other"); status(err) != http.StatusForbidden {
		t.Errorf("DeleteBranch answered 403 = %v, want the 403", err)
	}
}
