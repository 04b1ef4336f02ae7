package webhook_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
	"github.com/jitops/jit/controller/webhook"
)

// TestEmulatorDeliveries points the emulator's webhook at the handler and
// drives a pull request through approval and a push that dismisses it: the
// review events (which GitHub's examples lack) map like the others, in the
// order GitHub sends them.
func TestEmulatorDeliveries(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git is required under CI=true: %v", err)
		}
		t.Skipf("git not installed: %v", err)
	}
	rg := newRig(t)
	hs := httptest.NewServer(rg.h)
	t.Cleanup(hs.Close)
	srv := ghemutest.NewServer(t, ghemu.Seed{
		Org:   ghemu.SeedOrg{Login: "acme"},
		Users: []ghemu.SeedUser{{Login: "alice", Email: "alice@example.com"}, {Login: "bob", Email: "bob@example.com"}},
		Repos: []ghemu.SeedRepo{{Name: "access", Files: map[string]string{"README.md": "# access\n"},
			Protection: map[string]ghemu.SeedProtection{"main": {DismissStaleReviews: true}}}},
		App:     &ghemu.SeedApp{ID: 42, Slug: "jit", InstallationID: 7},
		Webhook: ghemu.SeedWebhook{URL: hs.URL, Secret: secret},
	})
	ctx := context.Background()
	first, err := srv.Commit(ctx, "access", ghemu.Change{Branch: "g", Author: "alice", Message: "add g", Files: map[string]string{"access/g.yaml": "g\n"}})
	if err != nil {
		t.Fatal(err)
	}
	pr, _, err := srv.Client("alice").PullRequests.Create(ctx, "acme", "access", &github.NewPullRequest{Title: github.String("g"), Head: github.String("g"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.Client("bob").PullRequests.CreateReview(ctx, "acme", "access", pr.GetNumber(), &github.PullRequestReviewRequest{Event: github.String("APPROVE")}); err != nil {
		t.Fatal(err)
	}
	second, err := srv.Commit(ctx, "access", ghemu.Change{Branch: "g", Author: "alice", Message: "edit g", Files: map[string]string{"access/g.yaml": "g2\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitDeliveries(ctx); err != nil {
		t.Fatal(err)
	}

	var got []webhook.Event
	for _, ev := range rg.events {
		if ev.Name == "pull_request" || ev.Name == "pull_request_review" {
			got = append(got, ev)
		}
	}
	n := pr.GetNumber()
	want := []webhook.Event{
		{Name: "pull_request", Action: "opened", Installation: 7, Repo: "acme/access", PullRequests: []int{n}, HeadSHA: first, Sender: "alice"},
		{Name: "pull_request_review", Action: "submitted", Installation: 7, Repo: "acme/access", PullRequests: []int{n}, HeadSHA: first, Sender: "bob"},
		{Name: "pull_request", Action: "synchronize", Installation: 7, Repo: "acme/access", PullRequests: []int{n}, HeadSHA: second, Sender: "alice"},
		{Name: "pull_request_review", Action: "dismissed", Installation: 7, Repo: "acme/access", PullRequests: []int{n}, HeadSHA: first},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(webhook.Event{}, "Delivery", "Payload", "Received", "Sender")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	for _, ev := range got {
		if ev.Name == "pull_request_review" && ev.Action == "submitted" && ev.Sender != "bob" {
			t.Errorf("review submitted by %q, want bob", ev.Sender)
		}
	}
}
