package ghemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/contract"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// TestConformance drives the emulator the way the controller drives GitHub:
// go-github v60 and ghinstallation v2 unchanged, every answer validated
// against GitHub's OpenAPI description, every webhook signature checked with
// go-github and every payload validated against GitHub's schemas.
func TestConformance(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	rc := newReceiver(t, "It's a Secret to Everybody")
	srv := ghemutest.NewServer(t, testSeed(rc.srv.URL))
	app, ok := srv.App()
	if !ok {
		t.Fatal("no app seeded")
	}

	// App JWT → installation.
	atr, err := ghinstallation.NewAppsTransport(contractTransport(t), app.ID, app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = strings.TrimSuffix(srv.APIURL, "/")
	appClient := github.NewClient(&http.Client{Transport: atr})
	appClient.BaseURL, _ = url.Parse(srv.APIURL)
	gotApp, _, err := appClient.Apps.Get(ctx, "")
	if err != nil {
		t.Fatalf("GET /app: %v", err)
	}
	if gotApp.GetID() != app.ID || gotApp.GetSlug() != "jit" {
		t.Errorf("GET /app = id %d slug %q, want %d jit", gotApp.GetID(), gotApp.GetSlug(), app.ID)
	}
	inst, _, err := appClient.Apps.FindRepositoryInstallation(ctx, "acme", "access")
	if err != nil {
		t.Fatalf("GET /repos/acme/access/installation: %v", err)
	}
	if inst.GetID() != app.InstallationID {
		t.Fatalf("installation id = %d, want %d", inst.GetID(), app.InstallationID)
	}

	// Installation token through ghinstallation.
	itr := ghinstallation.NewFromAppsTransport(atr, inst.GetID())
	itr.BaseURL = atr.BaseURL
	bot := github.NewClient(&http.Client{Transport: itr})
	bot.BaseURL, _ = url.Parse(srv.APIURL)

	// alice pushes a branch with the real git client and opens a PR.
	head := pushBranch(t, srv, "alice", "access", "alice-db", map[string]string{"access/prod/db/alice.yaml": "template: postgres-role\n"})
	alice := client(t, srv, "alice")
	pr, _, err := alice.PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{
		Title: github.String("Grant alice db access"), Head: github.String("alice-db"), Base: github.String("main"),
		Body: github.String("INC-1234"),
	})
	if err != nil {
		t.Fatalf("create PR: %v", err)
	}
	if pr.GetHead().GetSHA() != head || pr.GetUser().GetLogin() != "alice" || pr.GetNumber() != 1 {
		t.Errorf("PR head %s user %s number %d, want %s alice 1", pr.GetHead().GetSHA(), pr.GetUser().GetLogin(), pr.GetNumber(), head)
	}

	// Self-approval is refused.
	_, resp, err := alice.PullRequests.CreateReview(ctx, "acme", "access", 1, &github.PullRequestReviewRequest{Event: github.String("APPROVE")})
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "Can not approve your own pull request") {
		t.Errorf("self-approval: %v, want 422 Can not approve your own pull request", err)
	}

	// bob approves; the review is bob's, on the head, UPPERCASE in REST.
	bob := client(t, srv, "bob")
	rv, _, err := bob.PullRequests.CreateReview(ctx, "acme", "access", 1, &github.PullRequestReviewRequest{Event: github.String("APPROVE")})
	if err != nil {
		t.Fatalf("bob approves: %v", err)
	}
	if rv.GetUser().GetLogin() != "bob" || rv.GetState() != "APPROVED" || rv.GetCommitID() != head {
		t.Errorf("review = %s %s %s, want bob APPROVED %s", rv.GetUser().GetLogin(), rv.GetState(), rv.GetCommitID(), head)
	}

	// The bot reads the PR, mergeable.
	got, _, err := bot.PullRequests.Get(ctx, "acme", "access", 1)
	if err != nil {
		t.Fatalf("bot gets PR: %v", err)
	}
	if !got.GetMergeable() {
		t.Errorf("mergeable = %v, want true", got.Mergeable)
	}

	// A stale sha is refused with 409.
	_, resp, err = bot.PullRequests.Merge(ctx, "acme", "access", 1, "x", &github.PullRequestOptions{SHA: strings.Repeat("0", 40)})
	if resp == nil || resp.StatusCode != http.StatusConflict || !strings.Contains(err.Error(), "Head branch was modified. Review and try the merge again.") {
		t.Errorf("stale sha merge: %v, want 409 Head branch was modified", err)
	}

	// The App merges with the evaluated sha and trailers in the message.
	title := "Grant alice db access (#1)"
	message := "Jit-Grant: prod/db/alice\nJit-Requested-By: alice\nJit-Approved-By: bob\n"
	res, _, err := bot.PullRequests.Merge(ctx, "acme", "access", 1, message, &github.PullRequestOptions{SHA: head, CommitTitle: title})
	if err != nil {
		t.Fatalf("merge: %v", err)
	}
	if !res.GetMerged() {
		t.Fatalf("merge result %+v", res)
	}
	commit, _, err := bot.Git.GetCommit(ctx, "acme", "access", res.GetSHA())
	if err != nil {
		t.Fatal(err)
	}
	if want := title + "\n\n" + message; commit.GetMessage() != want {
		t.Errorf("merge commit message = %q, want %q byte for byte", commit.GetMessage(), want)
	}
	if commit.GetCommitter().GetName() != "jit[bot]" || len(commit.Parents) != 2 || commit.Parents[1].GetSHA() != head {
		t.Errorf("merge commit committer %q parents %d, want jit[bot] and 2 with head second", commit.GetCommitter().GetName(), len(commit.Parents))
	}
	merged, _, err := bot.PullRequests.IsMerged(ctx, "acme", "access", 1)
	if err != nil || !merged {
		t.Errorf("IsMerged = %v, %v; want true", merged, err)
	}
	got, _, err = bot.PullRequests.Get(ctx, "acme", "access", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !got.GetMerged() || got.GetMergedBy().GetLogin() != "jit[bot]" || got.GetMergedBy().GetType() != "Bot" || got.GetMergeCommitSHA() != res.GetSHA() {
		t.Errorf("after merge: merged %v by %q (%s) sha %s", got.GetMerged(), got.GetMergedBy().GetLogin(), got.GetMergedBy().GetType(), got.GetMergeCommitSHA())
	}

	// The real git client sees the merge, message byte for byte.
	dir := filepath.Join(t.TempDir(), "verify")
	git(t, "", "clone", "--quiet", cloneURL(srv, "bob", srv.Token("bob"), "acme", "access"), dir)
	raw := git(t, dir, "cat-file", "commit", "HEAD")
	if _, msg, _ := strings.Cut(raw, "\n\n"); msg != strings.TrimSpace(title+"\n\n"+message) {
		t.Errorf("cloned HEAD message = %q", msg)
	}

	// Webhooks: signatures verified by the receiver; payloads validated.
	waitDeliveries(t, srv)
	hooks, err := contract.LoadWebhooks()
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, h := range rc.got() {
		var top struct {
			Action       string `json:"action"`
			Installation struct {
				ID int64 `json:"id"`
			} `json:"installation"`
		}
		if err := json.Unmarshal(h.body, &top); err != nil {
			t.Fatalf("%s payload: %v", h.event, err)
		}
		if err := hooks.ValidatePayload(h.event, top.Action, h.body); err != nil {
			t.Errorf("%s.%s payload breaks GitHub's schema: %v", h.event, top.Action, err)
		}
		if top.Installation.ID != app.InstallationID {
			t.Errorf("%s.%s installation.id = %d, want %d", h.event, top.Action, top.Installation.ID, app.InstallationID)
		}
		seen = append(seen, strings.TrimSuffix(h.event+"."+top.Action, "."))
	}
	want := []string{"push", "check_suite.requested", "pull_request.opened", "pull_request_review.submitted", "pull_request.closed", "push", "check_suite.requested"}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("webhooks = %v, want %v", seen, want)
	}

	// Recorded requests carry the identity of the token.
	var merges []ghemu.Request
	for _, r := range srv.Requests() {
		if r.Route == "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge" {
			merges = append(merges, r)
		}
	}
	if len(merges) != 2 || merges[1].Login != "jit[bot]" || merges[1].Status != 200 || merges[0].Status != 409 {
		t.Errorf("recorded merges = %+v", merges)
	}

	// An expired installation token answers 401 Bad credentials.
	tok, err := itr.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.ExpireInstallationTokens()
	// (GitHub's description documents no 401 for repos/get although GitHub
	// answers it for bad credentials everywhere, so this call is not
	// contract-validated.)
	plain := github.NewClient(nil).WithAuthToken(tok)
	plain.BaseURL, _ = url.Parse(srv.APIURL)
	_, resp, err = plain.Repositories.Get(ctx, "acme", "access")
	if resp == nil || resp.StatusCode != http.StatusUnauthorized || !strings.Contains(err.Error(), "Bad credentials") {
		t.Errorf("expired token: %v, want 401 Bad credentials", err)
	}

	// A non-fast-forward ref update is refused with 422.
	base := git(t, dir, "rev-parse", "HEAD~1")
	_, resp, err = bob.Git.UpdateRef(ctx, "acme", "access", &github.Reference{Ref: github.String("refs/heads/main"), Object: &github.GitObject{SHA: github.String(base)}}, false)
	if resp == nil || resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "Update is not a fast forward") {
		t.Errorf("non-fast-forward: %v, want 422 Update is not a fast forward", err)
	}
}

// TestUnknownRouteAnswers404 checks GitHub's 404 body and that the gap is
// reported.
func TestUnknownRouteAnswers404(t *testing.T) {
	requireGit(t)
	var reported []string
	srv, err := ghemu.New(ghemu.Config{DataDir: t.TempDir(), OnUnhandled: func(m, p string) { reported = append(reported, m+" "+p) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := github.NewClient(nil)
	c.BaseURL, _ = url.Parse(srv.APIURL)
	req, err := c.NewRequest("GET", "repos/acme/access/nonsense-endpoint", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(context.Background(), req, nil)
	var er *github.ErrorResponse
	if !errors.As(err, &er) || resp.StatusCode != http.StatusNotFound || er.Message != "Not Found" || er.DocumentationURL != "https://docs.github.com/rest" {
		t.Errorf("unknown route: %v, want 404 Not Found with docs URL", err)
	}
	if len(reported) != 1 || reported[0] != "GET /api/v3/repos/acme/access/nonsense-endpoint" {
		t.Errorf("reported = %q", reported)
	}
}
