package ghemu_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// TestWebhookPayloads makes the emulator emit every kind of event it knows
// and checks each arrives signed, schema-valid and parseable by go-github
// (the receiver checks all three), with the fields consumers branch on.
func TestWebhookPayloads(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	rc := newReceiver(t, "It's a Secret to Everybody")
	srv := ghemutest.NewServer(t, testSeed(rc.srv.URL))
	alice, bob := client(t, srv, "alice"), client(t, srv, "bob")
	app, _ := srv.App()
	bot := installationClient(t, srv, app)

	srv.Ping()
	srv.SendInstallationCreated()
	head := pushBranch(t, srv, "alice", "access", "grant", map[string]string{"access/x.yaml": "x\n"})
	pr := must[*github.PullRequest](t, "create PR")(alice.PullRequests.Create(ctx, "acme", "access",
		&github.NewPullRequest{Title: github.String("x"), Head: github.String("grant"), Base: github.String("main")}))
	n := pr.GetNumber()
	must[*github.PullRequestReview](t, "approve")(bob.PullRequests.CreateReview(ctx, "acme", "access", n, &github.PullRequestReviewRequest{Event: github.String("APPROVE")}))
	// A push to the head: synchronize, and the approval is dismissed as stale.
	must[*github.RepositoryContentResponse](t, "push to head")(alice.Repositories.CreateFile(ctx, "acme", "access", "access/y.yaml",
		&github.RepositoryContentFileOptions{Message: github.String("y"), Content: []byte("y\n"), Branch: github.String("grant")}))
	must[*github.PullRequest](t, "edit")(alice.PullRequests.Edit(ctx, "acme", "access", n, &github.PullRequest{Title: github.String("x and y")}))
	must[*github.PullRequest](t, "close")(alice.PullRequests.Edit(ctx, "acme", "access", n, &github.PullRequest{State: github.String("closed")}))
	must[*github.PullRequest](t, "reopen")(alice.PullRequests.Edit(ctx, "acme", "access", n, &github.PullRequest{State: github.String("open")}))
	cur := must[*github.PullRequest](t, "get")(alice.PullRequests.Get(ctx, "acme", "access", n))
	cr := must[*github.CheckRun](t, "check")(bot.Checks.CreateCheckRun(ctx, "acme", "access", github.CreateCheckRunOptions{Name: "jit/validate", HeadSHA: cur.GetHead().GetSHA()}))
	must[*github.CheckRun](t, "check done")(bot.Checks.UpdateCheckRun(ctx, "acme", "access", cr.GetID(), github.UpdateCheckRunOptions{Name: "jit/validate", Conclusion: github.String("success")}))
	cm := must[*github.IssueComment](t, "comment")(bot.Issues.CreateComment(ctx, "acme", "access", n, &github.IssueComment{Body: github.String("hello")}))
	must[*github.IssueComment](t, "edit comment")(bot.Issues.EditComment(ctx, "acme", "access", cm.GetID(), &github.IssueComment{Body: github.String("hello again")}))
	must[*github.PullRequestMergeResult](t, "merge")(bot.PullRequests.Merge(ctx, "acme", "access", n, "", &github.PullRequestOptions{SHA: cur.GetHead().GetSHA()}))
	waitDeliveries(t, srv)

	got := rc.kinds()
	want := []string{"ping", "installation.created", "push", "check_suite.requested", "pull_request.opened", "pull_request_review.submitted",
		"push", "check_suite.requested", "pull_request.synchronize", "pull_request_review.dismissed", "pull_request.edited", "pull_request.closed",
		"pull_request.reopened", "check_run.created", "check_run.completed", "check_suite.completed", "issue_comment.created",
		"issue_comment.edited", "pull_request.closed", "push", "check_suite.requested"}
	if !slices.Equal(got, want) {
		t.Errorf("webhooks =\n%v\nwant\n%v", got, want)
	}
	hits := rc.got()
	for _, h := range hits {
		if h.header.Get("X-GitHub-Hook-Installation-Target-Type") != "integration" || h.header.Get("X-GitHub-Hook-Installation-Target-ID") != "42" {
			t.Errorf("%s target headers = %q %q", h.event, h.header.Get("X-GitHub-Hook-Installation-Target-Type"), h.header.Get("X-GitHub-Hook-Installation-Target-ID"))
		}
	}
	var sync struct {
		Before, After string
		PullRequest   struct{ Head struct{ SHA string } } `json:"pull_request"`
	}
	var dismissed struct {
		Review struct {
			State string
			User  struct{ Login string }
		}
	}
	var closed struct {
		PullRequest struct{ Merged bool } `json:"pull_request"`
		Sender      struct{ Login, Type string }
	}
	var pushed struct {
		Ref     string
		Created bool
		Commits []struct{ Added []string }
	}
	mustJSON(t, hits[8].body, &sync)
	mustJSON(t, hits[9].body, &dismissed)
	mustJSON(t, hits[18].body, &closed)
	mustJSON(t, hits[2].body, &pushed)
	if sync.Before != head || sync.After == head || sync.PullRequest.Head.SHA != sync.After {
		t.Errorf("synchronize before %s after %s head %s; pushed %s", sync.Before, sync.After, sync.PullRequest.Head.SHA, head)
	}
	if dismissed.Review.State != "dismissed" || dismissed.Review.User.Login != "bob" {
		t.Errorf("dismissed review = %+v", dismissed.Review)
	}
	if !closed.PullRequest.Merged || closed.Sender.Login != "jit[bot]" || closed.Sender.Type != "Bot" {
		t.Errorf("merge closed = %+v", closed)
	}
	type suite struct {
		ID                   int64
		HeadBranch           string `json:"head_branch"`
		Status, Conclusion   string
		LatestCheckRunsCount int                    `json:"latest_check_runs_count"`
		PullRequests         []struct{ Number int } `json:"pull_requests"`
	}
	var requested, completed struct {
		CheckSuite suite `json:"check_suite"`
		Sender     struct{ Login string }
	}
	var edited struct {
		Changes struct{ Body struct{ From string } }
		Comment struct{ Body string }
	}
	mustJSON(t, hits[3].body, &requested)
	mustJSON(t, hits[15].body, &completed)
	mustJSON(t, hits[17].body, &edited)
	if r := requested.CheckSuite; r.HeadBranch != "grant" || r.Status != "queued" || r.Conclusion != "" || requested.Sender.Login != "alice" {
		t.Errorf("check_suite requested = %+v sent by %s, want branch grant, queued, by alice", r, requested.Sender.Login)
	}
	if c := completed.CheckSuite; c.Status != "completed" || c.Conclusion != "success" || c.LatestCheckRunsCount != 1 ||
		len(c.PullRequests) != 1 || c.PullRequests[0].Number != n || c.HeadBranch != "grant" || c.ID == requested.CheckSuite.ID {
		t.Errorf("check_suite completed = %+v, want the head's own suite (not the first push's), completed with success, PR %d", c, n)
	}
	if edited.Changes.Body.From != "hello" || edited.Comment.Body != "hello again" {
		t.Errorf("issue_comment edited = %+v, want changes.body.from hello and body hello again", edited)
	}
	if pushed.Ref != "refs/heads/grant" || !pushed.Created || len(pushed.Commits) != 1 || !slices.Equal(pushed.Commits[0].Added, []string{"access/x.yaml"}) {
		t.Errorf("push = %+v", pushed)
	}

	// Redelivery keeps the GUID and is logged as a new delivery.
	ds := srv.Deliveries()
	if len(ds) != len(want) {
		t.Fatalf("delivery log has %d entries, want %d", len(ds), len(want))
	}
	again, err := srv.Redeliver(ctx, ds[4].ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.GUID != ds[4].GUID || !again.Redelivery || again.StatusCode != http.StatusAccepted {
		t.Errorf("redelivery = guid %s redelivery %v status %d; original guid %s", again.GUID, again.Redelivery, again.StatusCode, ds[4].GUID)
	}
	last := rc.got()[len(rc.got())-1]
	if last.guid != ds[4].GUID || last.event != "pull_request" {
		t.Errorf("redelivered %s %s, want pull_request %s", last.event, last.guid, ds[4].GUID)
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %s: %v", strings.SplitN(string(b), "\n", 2)[0], err)
	}
}

// TestWebhookBurst sends 1,000 events in a burst (from concurrent API
// calls) and checks every one is delivered, signed, exactly once.
func TestWebhookBurst(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string]bool{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := github.ValidatePayload(r, []byte("burst")); err != nil {
			t.Errorf("signature: %v", err)
		}
		mu.Lock()
		if seen[github.DeliveryID(r)] {
			t.Errorf("delivery %s received twice", github.DeliveryID(r))
		}
		seen[github.DeliveryID(r)] = true
		mu.Unlock()
	}))
	defer recv.Close()
	seed := testSeed(recv.URL)
	seed.Webhook.Secret = "burst"
	srv := ghemutest.NewServer(t, seed)
	if _, err := srv.Commit(ctx, "access", ghemu.Change{Branch: "burst", Message: "b", Files: map[string]string{"b": "b"}}); err != nil {
		t.Fatal(err)
	}
	bob := srv.Client("bob")
	pr := must[*github.PullRequest](t, "PR")(bob.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String("b"), Head: github.String("burst"), Base: github.String("main")}))
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 125; i++ {
				if _, _, err := bob.Issues.CreateComment(ctx, "acme", "access", pr.GetNumber(), &github.IssueComment{Body: github.String("x")}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	waitDeliveries(t, srv)
	ok := 0
	for _, d := range srv.Deliveries() {
		if d.Event == "issue_comment" && d.OK() {
			ok++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if ok != 1000 || len(seen) != 1003 { // + push, check_suite.requested and pull_request.opened
		t.Errorf("delivered %d issue_comment OK, received %d in all; want 1000 and 1003", ok, len(seen))
	}
}

// TestWebhooksFollowTheInstallation checks that the App receives events only
// for repositories in its installation and only those it subscribes to.
func TestWebhooksFollowTheInstallation(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	rc := newReceiver(t, "It's a Secret to Everybody")
	seed := testSeed(rc.srv.URL)
	seed.Repos = append(seed.Repos, ghemu.SeedRepo{Name: "other", Files: map[string]string{"x": "x"}})
	seed.App.Repos = []string{"access"}
	seed.App.Events = []string{"push"}
	srv := ghemutest.NewServer(t, seed)
	if _, err := srv.Commit(ctx, "other", ghemu.Change{Message: "not installed", Files: map[string]string{"y": "y"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Commit(ctx, "access", ghemu.Change{Branch: "f", Message: "installed", Files: map[string]string{"y": "y"}}); err != nil {
		t.Fatal(err)
	}
	must[*github.PullRequest](t, "PR")(srv.Client("alice").PullRequests.Create(ctx, "acme", "access",
		&github.NewPullRequest{Title: github.String("f"), Head: github.String("f"), Base: github.String("main")}))
	waitDeliveries(t, srv)
	// check_suite comes though the App lists only push: GitHub subscribes
	// every App with checks: write to it.
	if got := strings.Join(rc.kinds(), " "); got != "push check_suite.requested" {
		t.Errorf("webhooks = %q, want only the push to the installed repository and its check suite (pull_request is not subscribed)", got)
	}
	// The App cannot see the other repository either.
	app, _ := srv.App()
	_, resp, err := srv.Client("").WithAuthToken(mustToken(t, srv, app)).Repositories.Get(ctx, "acme", "other")
	wantErr(t, "other repo with the installation token", resp, err, 404, "Not Found")
}

func mustToken(t *testing.T, srv *ghemu.Server, app ghemu.App) string {
	t.Helper()
	appc, err := srv.AppClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := must[*github.InstallationToken](t, "token")(appc.Apps.CreateInstallationToken(context.Background(), app.InstallationID, nil))
	return tok.GetToken()
}
