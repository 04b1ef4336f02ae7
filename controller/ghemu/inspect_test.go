package ghemu_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// TestCommitAndInspection arranges state with Commit and reads it back with
// the inspection methods, checking Commit behaves like a push.
func TestCommitAndInspection(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	rc := newReceiver(t, "It's a Secret to Everybody")
	srv := ghemutest.NewServer(t, testSeed(rc.srv.URL))
	first, err := srv.Commit(ctx, "access", ghemu.Change{Branch: "g", Author: "alice", Message: "add g\n\nJit-Grant: g\n",
		Files: map[string]string{"access/g.yaml": "g\n"}})
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := client(t, srv, "alice"), client(t, srv, "bob")
	pr := must[*github.PullRequest](t, "PR")(alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String("g"), Head: github.String("g"), Base: github.String("main")}))
	must[*github.PullRequestReview](t, "approve")(bob.PullRequests.CreateReview(ctx, "acme", "access", pr.GetNumber(), &github.PullRequestReviewRequest{Event: github.String("APPROVE")}))
	must[*github.RepoStatus](t, "status")(bob.Repositories.CreateStatus(ctx, "acme", "access", first, &github.RepoStatus{State: github.String("pending"), Context: github.String("jit/approval"), Description: github.String("waiting")}))
	must[*github.IssueComment](t, "comment")(bob.Issues.CreateComment(ctx, "acme", "access", pr.GetNumber(), &github.IssueComment{Body: github.String("hi")}))

	second, err := srv.Commit(ctx, "acme/access", ghemu.Change{Branch: "g", Author: "alice", Message: "rm g", Delete: []string{"access/g.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	prs := srv.PullRequests("access")
	if len(prs) != 1 || prs[0].HeadSHA != second || prs[0].Author != "alice" || prs[0].State != "open" {
		t.Errorf("pull requests = %+v", prs)
	}
	rvs := srv.Reviews("access", 1)
	if len(rvs) != 1 || rvs[0].User != "bob" || rvs[0].State != "DISMISSED" || rvs[0].CommitID != first {
		t.Errorf("reviews = %+v, want bob's approval of the first head dismissed", rvs)
	}
	if st := srv.Statuses("access", first); len(st) != 1 || st[0].Creator != "bob" || st[0].Description != "waiting" {
		t.Errorf("statuses = %+v", st)
	}
	if cs := srv.Comments("access", 1); len(cs) != 1 || cs[0].Body != "hi" {
		t.Errorf("comments = %+v", cs)
	}
	if err := srv.AddTeamMember("db-owners", "alice", "member"); err != nil {
		t.Fatal(err)
	}
	if m := must[*github.Membership](t, "membership")(bob.Teams.GetTeamMembershipBySlug(ctx, "acme", "db-owners", "alice")); m.GetRole() != "member" {
		t.Errorf("alice's role = %s", m.GetRole())
	}
	for _, bad := range []error{
		srv.AddTeamMember("nope", "alice", "member"),
		srv.AddTeamMember("db-owners", "zed", "member"),
		srv.AddTeamMember("db-owners", "alice", "owner"),
	} {
		if bad == nil {
			t.Errorf("AddTeamMember accepted a bad argument")
		}
	}
	if _, err := srv.Commit(ctx, "nope", ghemu.Change{Message: "x"}); err == nil || !strings.Contains(err.Error(), "no repository acme/nope") {
		t.Errorf("commit to unknown repo: %v", err)
	}
	waitDeliveries(t, srv)
	if got := strings.Join(rc.kinds(), " "); got != "push check_suite.requested pull_request.opened pull_request_review.submitted issue_comment.created push check_suite.requested pull_request.synchronize pull_request_review.dismissed" {
		t.Errorf("webhooks = %s", got)
	}
}

// TestDeliverSignsLikeGitHub checks the Deliver helper against go-github's
// verification.
func TestDeliverSignsLikeGitHub(t *testing.T) {
	var got string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := github.ValidatePayload(r, []byte("s3cret"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got = github.WebHookType(r) + " " + string(body)
	})
	if w := ghemutest.Deliver(t, h, "s3cret", "ping", []byte(`{"zen":"x"}`)); w.Code != http.StatusOK || got != `ping {"zen":"x"}` {
		t.Errorf("delivered: %d %q", w.Code, got)
	}
	if w := ghemutest.Deliver(t, h, "wrong", "ping", []byte(`{}`)); w.Code != http.StatusUnauthorized {
		t.Errorf("wrong secret accepted: %d", w.Code)
	}
}

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestInstallationTokenRefresh gives installation tokens a short life:
// ghinstallation, unchanged, fetches a new one whenever the old one is
// about to expire, and an expired token answers 401.
func TestInstallationTokenRefresh(t *testing.T) {
	requireGit(t)
	clock := &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
	srv := ghemutest.NewServerConfig(t, ghemu.Config{Seed: testSeed(""), InstallationTokenTTL: 2 * time.Second, Now: clock.Now})
	ctx := context.Background()
	app, _ := srv.App()
	bot := installationClient(t, srv, app)
	for i := 0; i < 3; i++ {
		if _, _, err := bot.Repositories.Get(ctx, "acme", "access"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	var issued int
	for _, r := range srv.Requests() {
		if r.Route == "POST /app/installations/{installation_id}/access_tokens" && r.Status == http.StatusCreated {
			issued++
		}
	}
	// ghinstallation refreshes a token that expires within a minute, so a
	// two-second token is replaced on every call.
	if issued != 3 {
		t.Errorf("tokens issued = %d, want 3", issued)
	}
	appc, err := srv.AppClient(contractTransport(t))
	if err != nil {
		t.Fatal(err)
	}
	tok := must[*github.InstallationToken](t, "token")(appc.Apps.CreateInstallationToken(ctx, app.InstallationID, nil))
	if want := clock.Now().Add(2 * time.Second); !tok.GetExpiresAt().Time.Equal(want) {
		t.Errorf("expires_at = %v, want %v", tok.GetExpiresAt(), want)
	}
	plain := srv.Client("").WithAuthToken(tok.GetToken())
	if _, _, err := plain.Repositories.Get(ctx, "acme", "access"); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	clock.Advance(2 * time.Second)
	_, resp, err := plain.Repositories.Get(ctx, "acme", "access")
	wantErr(t, "expired token", resp, err, http.StatusUnauthorized, "Bad credentials")
}
