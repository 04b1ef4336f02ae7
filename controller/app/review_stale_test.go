package app_test

import (
	"context"
	"testing"

	"github.com/google/go-github/v60/github"
)

// TestReviewStalePayloadBase: a webhook's pull request is a snapshot from
// when the event happened, and deliveries arrive late or out of order (a
// review submitted just before the base was changed). The App must not
// merge on a snapshot whose base is no longer the pull request's: GitHub
// merges into the current base, here a branch that is not the default, and
// the merge would carry a signed decision judged against main.
func TestReviewStalePayloadBase(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := context.Background()
	if _, err := r.srv.Commit(ctx, repo, ghemuChange("lax", "", "a lax branch", map[string]string{"README.md": "lax\n"})); err != nil {
		t.Fatal(err)
	}
	r.pause()
	n := r.openPR("alice", "req", map[string]string{"access/prod/orders/alice-1.yaml": aliceGrant})
	r.approve("bob", n)
	snapshot, _, err := r.client("alice").PullRequests.Get(ctx, org, repo, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.client("alice").PullRequests.Edit(ctx, org, repo, n, &github.PullRequest{Base: &github.PullRequestBranch{Ref: github.String("lax")}}); err != nil {
		t.Fatal(err)
	}
	r.deliverPR("synchronize", snapshot, snapshot.GetBase().GetRepo())
	if p := r.pr(n); p.Merged {
		t.Fatalf("merged into %s on a snapshot that said main (merge %s)", p.BaseRef, p.MergeCommitSHA)
	}
}
