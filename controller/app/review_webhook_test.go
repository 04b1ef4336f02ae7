package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// TestReviewDeliveryForAnotherRepository: the App's webhook secret is the
// same for every repository it is installed on, so a correctly signed
// delivery may concern another repository of the installation (or another
// installation). Its pull request number and head mean nothing here: it
// must change nothing on the access repository, while the same payload
// naming the access repository is acted on.
func TestReviewDeliveryForAnotherRepository(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.pause()
	n := r.openPR("alice", "req", map[string]string{"access/prod/orders/alice-1.yaml": aliceGrant})
	pr, _, err := r.client("alice").PullRequests.Get(context.Background(), org, repo, n)
	if err != nil {
		t.Fatal(err)
	}
	ours := pr.GetBase().GetRepo()
	other := &github.Repository{ID: github.Int64(ours.GetID() + 1000), Name: github.String("other"),
		FullName: github.String(org + "/other"), Owner: ours.Owner}
	r.deliverPR("opened", pr, other)
	if got := r.srv.CheckRuns(repo, pr.GetHead().GetSHA()); len(got) != 0 {
		t.Errorf("a delivery for %s produced check runs on %s/%s: %+v", other.GetFullName(), org, repo, got)
	}
	if cs := r.comments(n); len(cs) != 0 {
		t.Errorf("a delivery for %s produced comments on %s/%s #%d: %+v", other.GetFullName(), org, repo, n, cs)
	}
	r.deliverPR("opened", pr, ours)
	if got := r.check(n, validateCheck); got.Conclusion != "success" {
		t.Fatalf("a delivery for %s: jit/validate %+v", ours.GetFullName(), got)
	}
}

// installation is the App's installation id on the access repository.
func (r *rig) installation() int64 {
	r.t.Helper()
	ic, err := r.srv.AppClient(http.DefaultTransport)
	if err != nil {
		r.t.Fatal(err)
	}
	inst, _, err := ic.Apps.FindRepositoryInstallation(context.Background(), org, repo)
	if err != nil {
		r.t.Fatal(err)
	}
	return inst.GetID()
}

// deliverPR delivers a pull_request event with action about pr of
// repository rp, signed with the App's secret, and lets the App settle.
func (r *rig) deliverPR(action string, pr *github.PullRequest, rp *github.Repository) {
	r.t.Helper()
	payload := r.prPayload(action, pr, rp)
	if w := ghemutest.Deliver(r.t, r.app.Handler(), secret, "pull_request", payload); w.Code != http.StatusAccepted {
		r.t.Fatalf("signed delivery answered %d", w.Code)
	}
	r.settle()
}

// prPayload is the body of a pull_request event with action about pr of
// repository rp, from the App's installation.
func (r *rig) prPayload(action string, pr *github.PullRequest, rp *github.Repository) []byte {
	r.t.Helper()
	payload, err := json.Marshal(github.PullRequestEvent{Action: github.String(action), Number: github.Int(pr.GetNumber()), PullRequest: pr,
		Repo: rp, Installation: &github.Installation{ID: github.Int64(r.installation())}})
	if err != nil {
		r.t.Fatal(err)
	}
	return payload
}
