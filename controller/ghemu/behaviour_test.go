package ghemu_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

func TestFailNextAndRateLimit(t *testing.T) {
	requireGit(t)
	srv := ghemutest.NewServer(t, testSeed(""))
	ctx := context.Background()
	alice := srv.Client("alice")
	const route = "GET /repos/{owner}/{repo}"
	srv.FailNext(route, 2, http.StatusBadGateway)
	for i := 0; i < 2; i++ {
		_, resp, err := alice.Repositories.Get(ctx, "acme", "access")
		var er *github.ErrorResponse
		if !errors.As(err, &er) || status(resp) != http.StatusBadGateway || er.Message != "Bad Gateway" {
			t.Errorf("call %d: %v, want injected 502", i, err)
		}
	}
	r, resp, err := alice.Repositories.Get(ctx, "acme", "access")
	if err != nil || r.GetName() != "access" {
		t.Fatalf("after the injected failures: %v", err)
	}
	if resp.Rate.Limit != 5000 || resp.Rate.Remaining != 4999 {
		t.Errorf("rate headers = %+v", resp.Rate)
	}

	srv.RateLimitNext(route, 1)
	_, _, err = alice.Repositories.Get(ctx, "acme", "access")
	var rl *github.RateLimitError
	if !errors.As(err, &rl) || rl.Rate.Remaining != 0 || !strings.Contains(rl.Message, "API rate limit exceeded") {
		t.Fatalf("rate limited call: %v, want *github.RateLimitError", err)
	}

	var statuses []int
	for _, rq := range srv.Requests() {
		if rq.Route == route {
			statuses = append(statuses, rq.Status)
			if rq.Login != "alice" || rq.Path != "/api/v3/repos/acme/access" {
				t.Errorf("recorded %+v", rq)
			}
		}
	}
	if got := strings.Trim(strings.Join(strings.Fields(strings.Trim(strconvInts(statuses), "[]")), ","), ","); got != "502,502,200,403" {
		t.Errorf("recorded statuses = %s, want 502,502,200,403", got)
	}
}

func strconvInts(xs []int) string {
	var b strings.Builder
	for _, x := range xs {
		b.WriteString(strconv.Itoa(x) + " ")
	}
	return b.String()
}

func TestPagingLinkHeaders(t *testing.T) {
	requireGit(t)
	srv := ghemutest.NewServer(t, testSeed(""))
	ctx := context.Background()
	bob := client(t, srv, "bob")
	pushBranch(t, srv, "alice", "access", "p", map[string]string{"access/p.yaml": "p\n"})
	pr := must[*github.PullRequest](t, "PR")(client(t, srv, "alice").PullRequests.Create(ctx, "acme", "access",
		&github.NewPullRequest{Title: github.String("p"), Head: github.String("p"), Base: github.String("main")}))
	for i := 0; i < 65; i++ {
		must[*github.IssueComment](t, "comment")(bob.Issues.CreateComment(ctx, "acme", "access", pr.GetNumber(), &github.IssueComment{Body: github.String("c" + strconv.Itoa(i))}))
	}
	base := srv.URL + "/api/v3/repos/acme/access/issues/1/comments"
	tests := map[string]struct {
		opts       github.ListOptions
		n          int
		link       string
		first      string
		next, last int
	}{
		"default page": {github.ListOptions{}, 30, `<` + base + `?page=2>; rel="next", <` + base + `?page=3>; rel="last"`, "c0", 2, 3},
		"middle page": {github.ListOptions{Page: 2, PerPage: 30}, 30,
			`<` + base + `?page=1&per_page=30>; rel="prev", <` + base + `?page=3&per_page=30>; rel="next", <` + base + `?page=3&per_page=30>; rel="last", <` + base + `?page=1&per_page=30>; rel="first"`,
			"c30", 3, 3},
		"last page":         {github.ListOptions{Page: 3}, 5, `<` + base + `?page=2>; rel="prev", <` + base + `?page=1>; rel="first"`, "c60", 0, 0},
		"per_page capped":   {github.ListOptions{PerPage: 500}, 65, "", "c0", 0, 0},
		"beyond last page":  {github.ListOptions{Page: 9}, 0, `<` + base + `?page=8>; rel="prev", <` + base + `?page=1>; rel="first"`, "", 0, 0},
		"per_page 100 fits": {github.ListOptions{PerPage: 100}, 65, "", "c0", 0, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cs, resp, err := bob.Issues.ListComments(ctx, "acme", "access", 1, &github.IssueListCommentsOptions{ListOptions: tc.opts})
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != tc.n || (tc.n > 0 && cs[0].GetBody() != tc.first) {
				t.Errorf("got %d comments, want %d starting %s", len(cs), tc.n, tc.first)
			}
			if got := resp.Header.Get("Link"); got != tc.link {
				t.Errorf("Link =\n%s\nwant\n%s", got, tc.link)
			}
			if resp.NextPage != tc.next || resp.LastPage != tc.last {
				t.Errorf("go-github NextPage %d LastPage %d, want %d %d", resp.NextPage, resp.LastPage, tc.next, tc.last)
			}
		})
	}
}

// signJWT makes an App JWT with the given claims, signed by key with method.
func signJWT(t *testing.T, method jwt.SigningMethod, key any, iss string, iat, exp time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, jwt.RegisteredClaims{
		Issuer: iss, IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(exp),
	}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAppJWT(t *testing.T) {
	requireGit(t)
	srv := ghemutest.NewServer(t, testSeed(""))
	app, _ := srv.App()
	blk, _ := pem.Decode(app.PrivateKeyPEM)
	key, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id := strconv.FormatInt(app.ID, 10)
	tests := map[string]struct {
		token string
		want  int
		msg   string
	}{
		"app id as iss":          {signJWT(t, jwt.SigningMethodRS256, key, id, now.Add(-30*time.Second), now.Add(2*time.Minute)), 200, ""},
		"client id as iss":       {signJWT(t, jwt.SigningMethodRS256, key, app.ClientID, now.Add(-60*time.Second), now.Add(9*time.Minute)), 200, ""},
		"wrong iss":              {signJWT(t, jwt.SigningMethodRS256, key, "43", now, now.Add(time.Minute)), 401, "'Issuer' claim"},
		"expired":                {signJWT(t, jwt.SigningMethodRS256, key, id, now.Add(-10*time.Minute), now.Add(-time.Minute)), 401, "'Expiration time' claim"},
		"exp too far":            {signJWT(t, jwt.SigningMethodRS256, key, id, now, now.Add(20*time.Minute)), 401, "too far in the future"},
		"iat in the future":      {signJWT(t, jwt.SigningMethodRS256, key, id, now.Add(5*time.Minute), now.Add(8*time.Minute)), 401, "'Issued at' claim"},
		"other key":              {signJWT(t, jwt.SigningMethodRS256, other, id, now, now.Add(time.Minute)), 401, "could not be decoded"},
		"HS256 with the pem":     {signJWT(t, jwt.SigningMethodHS256, app.PrivateKeyPEM, id, now, now.Add(time.Minute)), 401, "could not be decoded"},
		"user token on GET /app": {srv.Token("alice"), 401, "A JSON web token could not be decoded"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.APIURL+"app", nil)
			req.Header.Set("Authorization", "Bearer "+tc.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want || !strings.Contains(body, tc.msg) {
				t.Errorf("status %d body %s; want %d containing %q", resp.StatusCode, body, tc.want, tc.msg)
			}
		})
	}
}

func TestGitSmartHTTPAuthAndPushEvents(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	rc := newReceiver(t, "It's a Secret to Everybody")
	srv := ghemutest.NewServer(t, testSeed(rc.srv.URL))
	dir := t.TempDir()

	// Anonymous clone of a private repository asks for credentials.
	out, err := exec.Command("git", "-c", "credential.helper=", "clone", "--quiet", srv.GitURL("acme", "access"), filepath.Join(dir, "anon")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Authentication failed") && !strings.Contains(string(out), "could not read Username") {
		t.Errorf("anonymous clone: %v %s", err, out)
	}
	// A wrong token is refused.
	out, err = exec.Command("git", "clone", "--quiet", cloneURL(srv, "alice", "ghp_wrong", "acme", "access"), filepath.Join(dir, "wrong")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Invalid username or token") {
		t.Errorf("wrong token clone: %v %s", err, out)
	}
	// Clone URLs without ".git" work too, as on GitHub.
	git(t, "", "clone", "--quiet", strings.TrimSuffix(cloneURL(srv, "bob", srv.Token("bob"), "acme", "access"), ".git"), filepath.Join(dir, "nosuffix"))
	// carol can read but not push.
	cdir := filepath.Join(dir, "carol")
	git(t, "", "clone", "--quiet", cloneURL(srv, "carol", srv.Token("carol"), "acme", "access"), cdir)
	git(t, cdir, "commit", "--quiet", "--allow-empty", "-m", "carol")
	cmd := exec.Command("git", "push", "--quiet", "origin", "HEAD:refs/heads/carol")
	cmd.Dir = cdir
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "Permission to acme/access.git denied to carol") {
		t.Errorf("reader push: %v %s", err, out)
	}

	// The App's installation token pushes as x-access-token; a force push to
	// a pull request head is a forced push event and a synchronize.
	app, _ := srv.App()
	bot := installationClient(t, srv, app)
	tok := must[*github.InstallationToken](t, "token")(appClient(t, srv, app).Apps.CreateInstallationToken(ctx, app.InstallationID, nil))
	bdir := filepath.Join(dir, "bot")
	git(t, "", "clone", "--quiet", cloneURL(srv, "x-access-token", tok.GetToken(), "acme", "access"), bdir)
	git(t, bdir, "checkout", "--quiet", "-b", "expire")
	git(t, bdir, "commit", "--quiet", "--allow-empty", "-m", "one")
	git(t, bdir, "push", "--quiet", "origin", "expire")
	pr := must[*github.PullRequest](t, "PR")(bot.PullRequests.Create(ctx, "acme", "access",
		&github.NewPullRequest{Title: github.String("expire"), Head: github.String("expire"), Base: github.String("main")}))
	git(t, bdir, "commit", "--quiet", "--amend", "--allow-empty", "-m", "one, amended")
	git(t, bdir, "push", "--quiet", "--force", "origin", "expire")
	newHead := git(t, bdir, "rev-parse", "HEAD")
	got := must[*github.PullRequest](t, "PR")(bot.PullRequests.Get(ctx, "acme", "access", pr.GetNumber()))
	if got.GetHead().GetSHA() != newHead {
		t.Errorf("PR head = %s, want %s after force push", got.GetHead().GetSHA(), newHead)
	}
	waitDeliveries(t, srv)
	var forced []bool
	for _, h := range rc.got() {
		if h.event == "push" {
			var p struct {
				Forced bool
				Pusher struct{ Name string }
			}
			mustJSON(t, h.body, &p)
			forced = append(forced, p.Forced)
			if p.Pusher.Name != "jit[bot]" {
				t.Errorf("pusher = %s, want jit[bot]", p.Pusher.Name)
			}
		}
	}
	if len(forced) != 2 || forced[0] || !forced[1] {
		t.Errorf("push forced flags = %v, want [false true]", forced)
	}
	kinds := strings.Join(rc.kinds(), " ")
	if kinds != "push check_suite.requested pull_request.opened push check_suite.requested pull_request.synchronize" {
		t.Errorf("webhooks = %s", kinds)
	}
	var gitReqs int
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Route, "GIT ") && r.Login == "jit[bot]" {
			gitReqs++
		}
	}
	if gitReqs == 0 {
		t.Errorf("no git requests recorded as jit[bot]")
	}
}

func appClient(t *testing.T, srv *ghemu.Server, app ghemu.App) *github.Client {
	t.Helper()
	now := time.Now()
	blk, _ := pem.Decode(app.PrivateKeyPEM)
	key, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	c := github.NewClient(&http.Client{Transport: contractTransport(t)}).WithAuthToken(
		signJWT(t, jwt.SigningMethodRS256, key, strconv.FormatInt(app.ID, 10), now.Add(-30*time.Second), now.Add(5*time.Minute)))
	c.BaseURL, _ = url.Parse(srv.APIURL)
	return c
}

func TestMergeRefusals(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	seed := testSeed("")
	seed.Repos[0].Protection["main"] = ghemu.SeedProtection{RequiredApprovingReviewCount: 1, RequiredStatusChecks: []string{"jit/validate"}}
	srv := ghemutest.NewServer(t, seed)
	alice, bob := client(t, srv, "alice"), client(t, srv, "bob")
	raw := srv.Client("bob") // 405s are documented; 409/422 bodies are checked elsewhere

	pushBranch(t, srv, "alice", "access", "one", map[string]string{"README.md": "one\n"})
	pushBranch(t, srv, "alice", "access", "two", map[string]string{"README.md": "two\n"})
	one := must[*github.PullRequest](t, "PR one")(alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String("one"), Head: github.String("one"), Base: github.String("main")}))
	two := must[*github.PullRequest](t, "PR two")(alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String("two"), Head: github.String("two"), Base: github.String("main")}))
	draft := pushBranch(t, srv, "alice", "access", "three", map[string]string{"three": "3\n"})
	three := must[*github.PullRequest](t, "PR three")(alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String("three"), Head: github.String("three"), Base: github.String("main"), Draft: github.Bool(true)}))
	_ = draft

	if got := must[*github.PullRequest](t, "PR one")(bob.PullRequests.Get(ctx, "acme", "access", one.GetNumber())); got.GetMergeableState() != "blocked" || !got.GetMergeable() {
		t.Errorf("unapproved PR mergeable %v state %s, want true blocked", got.GetMergeable(), got.GetMergeableState())
	}
	_, resp, err := raw.PullRequests.Merge(ctx, "acme", "access", one.GetNumber(), "", nil)
	wantErr(t, "merge without approval", resp, err, 405, "At least 1 approving review is required")
	// The App's bot approval does not count (Config.CountBotApprovals off).
	app, _ := srv.App()
	must[*github.PullRequestReview](t, "bot approves")(installationClient(t, srv, app).PullRequests.CreateReview(ctx, "acme", "access", one.GetNumber(), &github.PullRequestReviewRequest{Event: github.String("APPROVE")}))
	_, resp, err = raw.PullRequests.Merge(ctx, "acme", "access", one.GetNumber(), "", nil)
	wantErr(t, "merge with only a bot approval", resp, err, 405, "At least 1 approving review is required")
	must[*github.PullRequestReview](t, "approve")(bob.PullRequests.CreateReview(ctx, "acme", "access", one.GetNumber(), &github.PullRequestReviewRequest{Event: github.String("APPROVE")}))
	_, resp, err = raw.PullRequests.Merge(ctx, "acme", "access", one.GetNumber(), "", nil)
	wantErr(t, "merge without the required check", resp, err, 405, `Required status check "jit/validate" is expected.`)
	must[*github.RepoStatus](t, "status")(bob.Repositories.CreateStatus(ctx, "acme", "access", one.GetHead().GetSHA(), &github.RepoStatus{State: github.String("success"), Context: github.String("jit/validate")}))
	res := must[*github.PullRequestMergeResult](t, "merge one")(bob.PullRequests.Merge(ctx, "acme", "access", one.GetNumber(), "", nil))
	mc := must[*github.Commit](t, "merge commit")(bob.Git.GetCommit(ctx, "acme", "access", res.GetSHA()))
	if mc.GetMessage() != "Merge pull request #1 from acme/one\n\none" || mc.GetAuthor().GetName() != "Bob" {
		t.Errorf("default merge message %q by %q", mc.GetMessage(), mc.GetAuthor().GetName())
	}

	// two now conflicts with main.
	got := must[*github.PullRequest](t, "PR two")(bob.PullRequests.Get(ctx, "acme", "access", two.GetNumber()))
	if got.Mergeable == nil || *got.Mergeable || got.GetMergeableState() != "dirty" {
		t.Errorf("conflicting PR mergeable = %v (%s), want false (dirty)", got.Mergeable, got.GetMergeableState())
	}
	must[*github.PullRequestReview](t, "approve two")(bob.PullRequests.CreateReview(ctx, "acme", "access", two.GetNumber(), &github.PullRequestReviewRequest{Event: github.String("APPROVE")}))
	must[*github.RepoStatus](t, "status two")(bob.Repositories.CreateStatus(ctx, "acme", "access", two.GetHead().GetSHA(), &github.RepoStatus{State: github.String("success"), Context: github.String("jit/validate")}))
	_, resp, err = raw.PullRequests.Merge(ctx, "acme", "access", two.GetNumber(), "", nil)
	wantErr(t, "merge with conflict", resp, err, 405, "Pull Request is not mergeable")
	_, resp, err = raw.PullRequests.Merge(ctx, "acme", "access", three.GetNumber(), "", nil)
	wantErr(t, "merge a draft", resp, err, 405, "Pull Request is not mergeable")
	_, resp, err = raw.PullRequests.Merge(ctx, "acme", "access", three.GetNumber(), "", &github.PullRequestOptions{MergeMethod: "rebase"})
	wantErr(t, "rebase merge", resp, err, 405, "Rebase merges are not allowed")
}

func TestCodeownersErrors(t *testing.T) {
	requireGit(t)
	seed := testSeed("")
	seed.Repos[0].Files[".github/CODEOWNERS"] = "# owners\n* @acme/db-owners\naccess/ @nobody @bob\ndocs/ bob\n*.md alice@example.com mallory@example.com\n/ @bob\n!x @bob\nx/ @other/team  # comment\n"
	srv := ghemutest.NewServer(t, seed)
	errs := must[*github.CodeownersErrors](t, "codeowners errors")(client(t, srv, "alice").Repositories.GetCodeownersErrors(context.Background(), "acme", "access", nil))
	type e struct {
		line, col int
		kind      string
	}
	want := []e{{3, 9, "Unknown owner"}, {4, 7, "Invalid owner"}, {5, 24, "Unknown owner"}, {6, 1, "Invalid pattern"}, {7, 1, "Invalid pattern"}, {8, 4, "Unknown owner"}}
	if len(errs.Errors) != len(want) {
		t.Fatalf("got %d errors, want %d: %+v", len(errs.Errors), len(want), errs.Errors)
	}
	for i, w := range want {
		g := errs.Errors[i]
		if g.Line != w.line || g.Column != w.col || g.Kind != w.kind || g.Path != ".github/CODEOWNERS" {
			t.Errorf("error %d = line %d col %d %q %s; want %d %d %q", i, g.Line, g.Column, g.Kind, g.Path, w.line, w.col, w.kind)
		}
	}
	if !strings.Contains(errs.Errors[0].Message, "Unknown owner on line 3: make sure @nobody exists") {
		t.Errorf("message = %q", errs.Errors[0].Message)
	}
}

// TestCodeOwnerReviewRequired checks "Require review from Code Owners": the
// base branch's CODEOWNERS decides, the last matching line wins, a team
// owner is satisfied by a member, and a pull request cannot make its own
// author an owner.
func TestCodeOwnerReviewRequired(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	seed := testSeed("")
	seed.Repos[0].Protection["main"] = ghemu.SeedProtection{RequireCodeOwnerReviews: true}
	seed.Repos[0].Files[".github/CODEOWNERS"] = "* @acme/db-owners\naccess/ @bob\n"
	seed.Repos[0].Readers = nil // carol needs write access for her review to count
	srv := ghemutest.NewServer(t, seed)
	alice, bob, carol := client(t, srv, "alice"), client(t, srv, "bob"), client(t, srv, "carol")
	raw := srv.Client("alice")

	// The PR also rewrites CODEOWNERS to make alice the owner: ignored,
	// because the base branch's file decides.
	pushBranch(t, srv, "alice", "access", "own", map[string]string{"access/a.yaml": "a\n", ".github/CODEOWNERS": "* @alice\n"})
	pr := must[*github.PullRequest](t, "PR")(alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String("a"), Head: github.String("own"), Base: github.String("main")}))
	n := pr.GetNumber()
	_, resp, err := raw.PullRequests.Merge(ctx, "acme", "access", n, "", nil)
	wantErr(t, "no owner approvals", resp, err, 405, "Waiting on code owner review from @acme/db-owners, @bob.")
	// carol (db-owners maintainer) owns .github/CODEOWNERS but not access/.
	must[*github.PullRequestReview](t, "carol approves")(carol.PullRequests.CreateReview(ctx, "acme", "access", n, &github.PullRequestReviewRequest{Event: github.String("APPROVE")}))
	_, resp, err = raw.PullRequests.Merge(ctx, "acme", "access", n, "", nil)
	wantErr(t, "team owner only", resp, err, 405, "Waiting on code owner review from @bob.")
	if got := must[*github.PullRequest](t, "PR")(alice.PullRequests.Get(ctx, "acme", "access", n)); got.GetMergeableState() != "blocked" {
		t.Errorf("mergeable_state = %s, want blocked", got.GetMergeableState())
	}
	must[*github.PullRequestReview](t, "bob approves")(bob.PullRequests.CreateReview(ctx, "acme", "access", n, &github.PullRequestReviewRequest{Event: github.String("APPROVE")}))
	must[*github.PullRequestMergeResult](t, "merge")(alice.PullRequests.Merge(ctx, "acme", "access", n, "", nil))

	// Without carol's approval, .github/CODEOWNERS (owned by the team) blocks.
	pushBranch(t, srv, "alice", "access", "own2", map[string]string{"access/b.yaml": "b\n", ".github/CODEOWNERS": "* @bob\n"})
	pr2 := must[*github.PullRequest](t, "PR2")(alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String("b"), Head: github.String("own2"), Base: github.String("main")}))
	must[*github.PullRequestReview](t, "bob approves 2")(bob.PullRequests.CreateReview(ctx, "acme", "access", pr2.GetNumber(), &github.PullRequestReviewRequest{Event: github.String("APPROVE")}))
	_, resp, err = raw.PullRequests.Merge(ctx, "acme", "access", pr2.GetNumber(), "", nil)
	// main's CODEOWNERS is now alice's "* @alice" from the first merge, and
	// alice authored this PR: her own approval can never count.
	wantErr(t, "author is the only owner", resp, err, 405, "Waiting on code owner review from @alice.")
}
