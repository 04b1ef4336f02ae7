package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu/ghemutest"
	"github.com/jitops/jit/controller/trailer"
)

const (
	validateCheck = "jit/validate"
	approvalCheck = "jit/approval"
	mergeRoute    = "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"
	reviewsRoute  = "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"
)

// outcome is what a case expects once everything settled.
type outcome struct {
	merged bool
	// validate is jit/validate's conclusion; approval is jit/approval's
	// status/conclusion ("in_progress", "completed/success", ...).
	validate, approval string
	// approvalSays and validateSays must appear in the check runs' output.
	approvalSays, validateSays []string
}

// TestPullRequestSide drives jit serve through the emulator with signed
// webhooks and real pushes, one pull request per case, and checks the check
// runs, the comment and whether anything merged.
func TestPullRequestSide(t *testing.T) {
	const prodFile = "access/prod/orders/alice-1.yaml"
	tests := map[string]struct {
		files map[string]string // extra files on main
		act   func(r *rig) int
		want  outcome
	}{
		"happy path": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant})
			r.settle()
			r.approve("bob", n)
			return n
		}, want: outcome{merged: true, validate: "success", approval: "completed/success", approvalSays: []string{"bob"}}},
		"no approval yet": {act: func(r *rig) int {
			return r.openPR("alice", "req", map[string]string{prodFile: aliceGrant})
		}, want: outcome{validate: "success", approval: "in_progress"}},
		"self-approval": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant})
			r.settle()
			if err := r.review("alice", n, "APPROVE"); err == nil {
				r.t.Error("GitHub accepted alice approving her own pull request")
			}
			return n
		}, want: outcome{validate: "success", approval: "in_progress"}},
		"approval by a co-author": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant})
			r.srv.Commit(context.Background(), repo, ghemuChange("req", "alice", "pair on it\n\nCo-authored-by: Bob <"+noreply("bob")+">\n",
				map[string]string{prodFile: strings.Replace(aliceGrant, "stuck orders", "stuck orders again", 1)}))
			r.settle()
			r.approve("bob", n)
			return n
		}, want: outcome{validate: "success", approval: "in_progress", approvalSays: []string{"co-authored commit"}}},
		"approval by a committer": {act: func(r *rig) int {
			dir := r.clone("alice")
			env := []string{"GIT_AUTHOR_NAME=alice", "GIT_AUTHOR_EMAIL=" + noreply("alice"), "GIT_COMMITTER_NAME=bob", "GIT_COMMITTER_EMAIL=" + noreply("bob")}
			git(r.t, dir, nil, "checkout", "-q", "-b", "req")
			writeFile(r.t, dir, prodFile, aliceGrant)
			git(r.t, dir, env, "add", ".")
			git(r.t, dir, env, "commit", "-q", "-m", "request")
			git(r.t, dir, nil, "push", "-q", "origin", "req")
			pr, _, err := r.client("alice").PullRequests.Create(context.Background(), org, repo, &github.NewPullRequest{
				Title: github.String("req"), Head: github.String("req"), Base: github.String("main")})
			if err != nil {
				r.t.Fatal(err)
			}
			r.settle()
			r.approve("bob", pr.GetNumber())
			return pr.GetNumber()
		}, want: outcome{validate: "success", approval: "in_progress", approvalSays: []string{"committed commit"}}},
		"approval then a push": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant})
			r.settle()
			r.pause()
			r.approve("bob", n)
			r.push("alice", "req", map[string]string{prodFile: strings.Replace(aliceGrant, "2h", "3h", 1)})
			r.resume()
			return n
		}, want: outcome{validate: "success", approval: "in_progress", approvalSays: []string{"stale"}}},
		"approval by someone who is not a code owner": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant})
			r.settle()
			r.approve("dave", n)
			return n
		}, want: outcome{validate: "success", approval: "in_progress", approvalSays: []string{"not a code owner of " + prodFile}}},
		"approval by a read-only code owner": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant})
			r.settle()
			r.approve("erin", n)
			return n
		}, want: outcome{validate: "success", approval: "in_progress", approvalSays: []string{"read-only access"}}},
		"approver removed from the team before the merge": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant})
			r.settle()
			r.pause()
			r.approve("bob", n)
			if _, err := r.client("carol").Teams.RemoveTeamMembershipBySlug(context.Background(), org, "dba", "bob"); err != nil {
				r.t.Fatal(err)
			}
			r.resume()
			return n
		}, want: outcome{validate: "success", approval: "in_progress", approvalSays: []string{"not a code owner of " + prodFile}}},
		"not in the policy's approvers, 1 of 2": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{"access/payments/alice-1.yaml": aliceGrant})
			r.settle()
			r.approve("dave", n)
			r.approve("bob", n)
			return n
		}, want: outcome{validate: "success", approval: "in_progress", approvalSays: []string{"not in the approvers of a policy", "1 of 2"}}},
		"CODEOWNERS in the same pull request": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant, ".github/CODEOWNERS": "* @alice\n"})
			r.settle()
			r.approve("bob", n)
			return n
		}, want: outcome{validate: "failure", approval: "completed/failure", validateSays: []string{"may not change governing files"}}},
		"a policy in the same pull request": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant, "policies/prod.hcl": strings.Replace(policyProd, "approvals    = 1", "approvals    = 0", 1)})
			r.settle()
			r.approve("bob", n)
			return n
		}, want: outcome{validate: "failure", approval: "completed/failure", validateSays: []string{"may not change governing files"}}},
		"a template in the same pull request": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant, "templates/postgres-role/extra.tf": "# nothing\n"})
			r.settle()
			r.approve("bob", n)
			return n
		}, want: outcome{validate: "failure", approval: "completed/failure", validateSays: []string{"may not change governing files"}}},
		".gitattributes in the same pull request": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant, ".gitattributes": "*.yaml -diff\n"})
			r.settle()
			r.approve("bob", n)
			return n
		}, want: outcome{validate: "failure", approval: "completed/failure", validateSays: []string{"could apply to access/"}}},
		"a grant under a path no policy allows": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{"access/sandbox/alice-1.yaml": aliceGrant})
			r.settle()
			r.approve("bob", n)
			return n
		}, want: outcome{validate: "failure", approval: "completed/failure", validateSays: []string{"access/sandbox/alice-1.yaml"}}},
		"a resurrected id": {files: map[string]string{}, act: func(r *rig) int {
			ctx := context.Background()
			r.srv.Commit(ctx, repo, ghemuChange("main", "", "an old grant", map[string]string{"access/prod/orders/alice-0.yaml": aliceGrant}))
			r.srv.Commit(ctx, repo, ghemuDelete("main", "", "expire it", "access/prod/orders/alice-0.yaml"))
			r.settle()
			n := r.openPR("alice", "req", map[string]string{"access/prod/orders/alice-0.yaml": aliceGrant})
			r.settle()
			r.approve("bob", n)
			return n
		}, want: outcome{validate: "failure", approval: "completed/failure", validateSays: []string{"already existed on the default branch"}}},
		"the base changed after approval": {act: func(r *rig) int {
			r.srv.Commit(context.Background(), repo, ghemuChange("lax", "", "a lax branch", map[string]string{"README.md": "lax\n"}))
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant})
			r.settle()
			r.pause()
			r.approve("bob", n)
			if _, _, err := r.client("alice").PullRequests.Edit(context.Background(), org, repo, n, &github.PullRequest{Base: &github.PullRequestBranch{Ref: github.String("lax")}}); err != nil {
				r.t.Fatal(err)
			}
			r.resume()
			return n
		}, want: outcome{validate: "failure", approval: "completed/failure", validateSays: []string{"must target the default branch main, not lax"}}},
		"a pull request against another base": {act: func(r *rig) int {
			r.srv.Commit(context.Background(), repo, ghemuChange("lax", "", "a lax branch", map[string]string{"README.md": "lax\n"}))
			r.srv.Commit(context.Background(), repo, ghemuChange("req", "alice", "request", map[string]string{prodFile: aliceGrant}))
			pr, _, err := r.client("alice").PullRequests.Create(context.Background(), org, repo, &github.NewPullRequest{
				Title: github.String("req"), Head: github.String("req"), Base: github.String("lax")})
			if err != nil {
				r.t.Fatal(err)
			}
			r.settle()
			r.approve("bob", pr.GetNumber())
			return pr.GetNumber()
		}, want: outcome{validate: "failure", approval: "completed/failure", validateSays: []string{"must target the default branch main"}}},
		"the emulator answers 502 and rate limits mid-flow": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant})
			r.settle()
			r.srv.FailNext(mergeRoute, 2, http.StatusBadGateway)
			r.srv.RateLimitNext(reviewsRoute, 1)
			r.approve("bob", n)
			return n
		}, want: outcome{merged: true, validate: "success", approval: "completed/success"}},
		"the server down between approval and merge": {act: func(r *rig) int {
			n := r.openPR("alice", "req", map[string]string{prodFile: aliceGrant})
			r.settle()
			r.stop()
			r.approve("bob", n)
			r.start() // a new process on the same data directory
			return n
		}, want: outcome{merged: true, validate: "success", approval: "completed/success"}},
		"a draft": {act: func(r *rig) int {
			r.srv.Commit(context.Background(), repo, ghemuChange("req", "alice", "request", map[string]string{prodFile: aliceGrant}))
			pr, _, err := r.client("alice").PullRequests.Create(context.Background(), org, repo, &github.NewPullRequest{
				Title: github.String("req"), Head: github.String("req"), Base: github.String("main"), Draft: github.Bool(true)})
			if err != nil {
				r.t.Fatal(err)
			}
			r.settle()
			r.approve("bob", pr.GetNumber())
			return pr.GetNumber()
		}, want: outcome{validate: "success", approval: "in_progress", approvalSays: []string{"draft"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, rigOptions{files: tc.files})
			n := tc.act(r)
			r.settle()
			r.expect(n, tc.want)
		})
	}
}

// expect checks a pull request's outcome.
func (r *rig) expect(n int, want outcome) {
	r.t.Helper()
	p := r.pr(n)
	if p.Merged != want.merged {
		r.t.Errorf("merged = %v, want %v", p.Merged, want.merged)
	}
	v := r.check(n, validateCheck)
	if v.Conclusion != want.validate {
		r.t.Errorf("jit/validate %s/%s %q, want %s\n%s", v.Status, v.Conclusion, v.Title, want.validate, v.Summary)
	}
	for _, s := range want.validateSays {
		if !says(v.Title+v.Summary+v.Text, s) {
			r.t.Errorf("jit/validate does not say %q:\n%s\n%s", s, v.Title, v.Summary)
		}
	}
	a := r.check(n, approvalCheck)
	got := a.Status
	if a.Status == "completed" {
		got += "/" + a.Conclusion
	}
	if got != want.approval {
		r.t.Errorf("jit/approval %s %q, want %s\n%s", got, a.Title, want.approval, a.Summary)
	}
	for _, s := range want.approvalSays {
		if !says(a.Title+a.Summary+a.Text, s) {
			r.t.Errorf("jit/approval does not say %q:\n%s\n%s", s, a.Title, a.Summary)
		}
	}
	if cs := r.comments(n); len(cs) != 1 {
		r.t.Errorf("%d comments by the App, want exactly one", len(cs))
	}
	if want.merged {
		r.expectSignedMerge(p.MergeCommitSHA, n)
	}
}

// expectSignedMerge checks that a merge commit ends with trailers signed by
// the App's key naming the pull request and its head.
func (r *rig) expectSignedMerge(sha string, n int) {
	r.t.Helper()
	dir := r.clone("alice")
	msg := git(r.t, dir, nil, "log", "-1", "--format=%B", sha) + "\n"
	ts, err := trailer.Parse(msg)
	if err != nil || len(ts) == 0 {
		r.t.Fatalf("merge %s has no trailers (%v):\n%s", sha, err, msg)
	}
	signers, err := trailer.ParseAllowedSigners(".github/jit-signers", []byte(r.key.AllowedSigners()))
	if err != nil {
		r.t.Fatal(err)
	}
	if err := trailer.Verify(ts, signers); err != nil {
		r.t.Fatalf("merge %s: %v\n%s", sha, err, msg)
	}
	if !strings.Contains(msg, fmt.Sprintf("Jit-Pull-Request: %d\n", n)) && !strings.Contains(msg, "Jit-Event: expire") {
		r.t.Errorf("merge %s does not name pull request #%d:\n%s", sha, n, msg)
	}
}

// pause stops webhook deliveries (events are lost, as when the App is
// unreachable); resume restores them and lets the resync heal.
func (r *rig) pause() { r.settle(); r.srv.SetWebhookURL("") }
func (r *rig) resume() {
	r.srv.SetWebhookURL(r.hookURL)
	r.app.Resync()
}

// TestForgedWebhookIgnored: a delivery whose signature does not verify
// changes nothing, while the same payload signed right is acted on.
func TestForgedWebhookIgnored(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.pause()
	n := r.openPR("alice", "req", map[string]string{"access/prod/orders/alice-1.yaml": aliceGrant})
	pr, _, err := r.client("alice").PullRequests.Get(context.Background(), org, repo, n)
	if err != nil {
		t.Fatal(err)
	}
	payload := r.prPayload("opened", pr, pr.GetBase().GetRepo())
	h := r.app.Handler()
	if w := ghemutest.Deliver(t, h, "not-the-secret", "pull_request", payload); w.Code != http.StatusUnauthorized {
		t.Fatalf("forged delivery answered %d, want 401", w.Code)
	}
	r.settle()
	if got := r.srv.CheckRuns(repo, pr.GetHead().GetSHA()); len(got) != 0 {
		t.Fatalf("a forged webhook produced check runs: %+v", got)
	}
	if w := ghemutest.Deliver(t, h, secret, "pull_request", payload); w.Code/100 != 2 {
		t.Fatalf("signed delivery answered %d", w.Code)
	}
	r.settle()
	if got := r.check(n, validateCheck); got.Conclusion != "success" {
		t.Fatalf("signed delivery: jit/validate %+v", got)
	}
}

// TestRedeliveriesAreHarmless replays every delivery of a merged pull
// request, some at once: still one comment, one merge, one decision.
func TestRedeliveriesAreHarmless(t *testing.T) {
	r := newRig(t, rigOptions{})
	n := r.openPR("alice", "req", map[string]string{"access/prod/orders/alice-1.yaml": aliceGrant})
	r.settle()
	r.approve("bob", n)
	r.settle()
	if !r.pr(n).Merged {
		t.Fatal("not merged")
	}
	mainBefore := git(t, r.clone("alice"), nil, "rev-parse", "HEAD")
	var wg sync.WaitGroup
	for _, d := range r.srv.Deliveries() {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := r.srv.Redeliver(context.Background(), d.ID); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	r.settle()
	if cs := r.comments(n); len(cs) != 1 {
		t.Errorf("%d comments after redeliveries, want 1", len(cs))
	}
	if after := git(t, r.clone("alice"), nil, "rev-parse", "HEAD"); after != mainBefore {
		t.Errorf("main moved from %s to %s on redeliveries", mainBefore, after)
	}
}

// says reports whether Markdown text says s: backslash escapes removed,
// case ignored (a reason may start a sentence).
func says(text, s string) bool {
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		if text[i] == '\\' && i+1 < len(text) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", text[i+1]) >= 0 {
			continue
		}
		b.WriteByte(text[i])
	}
	return strings.Contains(strings.ToLower(b.String()), strings.ToLower(s))
}
