package ghemu_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// TestContentsAPIProtectedBranch: a commit through the contents API on a
// protected branch is judged as a push of that commit would be, and a
// refused one answers 409 with the reason and leaves the branch alone.
func TestContentsAPIProtectedBranch(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	srv := ghemutest.NewServer(t, protectionSeed())
	// Not validated against the description: GitHub's 409 for this
	// operation is oneOf basic-error and repository-rule-violation-error,
	// and every basic-error body (GitHub's own included) matches both.
	bot, err := srv.InstallationClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	alice := srv.Client("alice")
	main := branchTip(t, srv, "main")
	must[*github.Reference](t, "create release")(alice.Git.CreateRef(ctx, "acme", "access",
		&github.Reference{Ref: github.String("refs/heads/release"), Object: &github.GitObject{SHA: github.String(main)}}))
	for _, tc := range []struct {
		name   string
		client *github.Client
		branch string
		delete bool
		want   string // "" = allowed
	}{
		{"writer on main", alice, "main", false, "Changes must be made through a pull request."},
		{"writer deletes on main", alice, "main", true, "Changes must be made through a pull request."},
		{"bypass team member, new commit has no required check", srv.Client("bob"), "main", false, `Required status check "ci" is expected.`},
		{"admin without enforce_admins", srv.Client("erin"), "main", false, ""},
		{"the App in the bypass list of release", bot, "release", false, ""},
		{"writer on release", alice, "release", false, "Changes must be made through a pull request."},
		{"writer on an unprotected branch", alice, "topic", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.branch == "topic" && branchTip(t, srv, "topic") == "" {
				must[*github.Reference](t, "create topic")(alice.Git.CreateRef(ctx, "acme", "access",
					&github.Reference{Ref: github.String("refs/heads/topic"), Object: &github.GitObject{SHA: github.String(branchTip(t, srv, "main"))}}))
			}
			before := branchTip(t, srv, tc.branch)
			var resp *github.Response
			var err error
			if tc.delete {
				f, _, _, ferr := alice.Repositories.GetContents(ctx, "acme", "access", "README.md", &github.RepositoryContentGetOptions{Ref: tc.branch})
				if ferr != nil {
					t.Fatal(ferr)
				}
				_, resp, err = tc.client.Repositories.DeleteFile(ctx, "acme", "access", "README.md",
					&github.RepositoryContentFileOptions{Message: github.String("rm"), SHA: f.SHA, Branch: github.String(tc.branch)})
			} else {
				_, resp, err = tc.client.Repositories.CreateFile(ctx, "acme", "access", "notes/"+strings.ReplaceAll(tc.name, " ", "-")+".md",
					&github.RepositoryContentFileOptions{Message: github.String("note"), Content: []byte("n\n"), Branch: github.String(tc.branch)})
			}
			after := branchTip(t, srv, tc.branch)
			if tc.want == "" {
				if err != nil || after == before {
					t.Fatalf("refused (%v) or branch did not move (%s → %s); want it allowed", err, before, after)
				}
				return
			}
			wantErr(t, "contents API", resp, err, http.StatusConflict, tc.want)
			if after != before {
				t.Errorf("a refused contents API write moved %s from %s to %s", tc.branch, before, after)
			}
		})
	}
}

// TestRerequestChecks: rerequesting a check run or suite answers 201,
// requeues the suite and sends check_run / check_suite rerequested (valid
// against GitHub's webhook schemas, checked by the receiver).
func TestRerequestChecks(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	rc := newReceiver(t, "It's a Secret to Everybody")
	srv := ghemutest.NewServer(t, testSeed(rc.srv.URL))
	app, _ := srv.App()
	bot := installationClient(t, srv, app)
	alice := client(t, srv, "alice")
	head := pushBranch(t, srv, "alice", "access", "grant", map[string]string{"access/x.yaml": "x\n"})
	must[*github.PullRequest](t, "open")(alice.PullRequests.Create(ctx, "acme", "access",
		&github.NewPullRequest{Title: github.String("x"), Head: github.String("grant"), Base: github.String("main")}))
	cr := must[*github.CheckRun](t, "check")(bot.Checks.CreateCheckRun(ctx, "acme", "access",
		github.CreateCheckRunOptions{Name: "jit/validate", HeadSHA: head, Conclusion: github.String("success")}))
	suiteID := cr.GetCheckSuite().GetID()
	suiteStatus := func() (string, string) {
		got := must[*github.CheckRun](t, "get run")(bot.Checks.GetCheckRun(ctx, "acme", "access", cr.GetID()))
		return got.GetCheckSuite().GetStatus(), got.GetCheckSuite().GetConclusion()
	}
	if st, c := suiteStatus(); st != "completed" || c != "success" {
		t.Fatalf("suite %s/%s before rerequest, want completed/success", st, c)
	}
	waitDeliveries(t, srv)
	seen := len(rc.got())

	// A user with write access reruns the check run (the "Re-run" button).
	resp, err := alice.Checks.ReRequestCheckRun(ctx, "acme", "access", cr.GetID())
	if err != nil || status(resp) != http.StatusCreated {
		t.Fatalf("rerequest run: %d %v, want 201", status(resp), err)
	}
	if st, c := suiteStatus(); st != "queued" || c != "" {
		t.Errorf("suite %s/%q after rerequesting a run, want queued with no conclusion", st, c)
	}
	got := must[*github.CheckRun](t, "run after")(bot.Checks.GetCheckRun(ctx, "acme", "access", cr.GetID()))
	if got.GetStatus() != "completed" || got.GetConclusion() != "success" {
		t.Errorf("the rerequested run itself changed to %s/%s; GitHub leaves it", got.GetStatus(), got.GetConclusion())
	}
	// The App reruns the whole suite.
	resp, err = bot.Checks.ReRequestCheckSuite(ctx, "acme", "access", suiteID)
	if err != nil || status(resp) != http.StatusCreated {
		t.Fatalf("rerequest suite: %d %v, want 201", status(resp), err)
	}
	waitDeliveries(t, srv)
	hits := rc.got()[seen:]
	var kinds []string
	for _, h := range hits {
		var top struct{ Action string }
		mustJSON(t, h.body, &top)
		kinds = append(kinds, h.event+"."+top.Action)
	}
	if want := []string{"check_run.rerequested", "check_suite.rerequested"}; !slices.Equal(kinds, want) {
		t.Fatalf("webhooks %v, want %v", kinds, want)
	}
	var run struct {
		CheckRun struct{ ID int64 } `json:"check_run"`
		Sender   struct{ Login string }
	}
	var suite struct {
		CheckSuite struct {
			ID         int64
			Status     string
			HeadSHA    string `json:"head_sha"`
			Conclusion *string
		} `json:"check_suite"`
	}
	mustJSON(t, hits[0].body, &run)
	mustJSON(t, hits[1].body, &suite)
	if run.CheckRun.ID != cr.GetID() || run.Sender.Login != "alice" {
		t.Errorf("check_run rerequested = %+v, want run %d sent by alice", run, cr.GetID())
	}
	if s := suite.CheckSuite; s.ID != suiteID || s.Status != "queued" || s.Conclusion != nil || s.HeadSHA != head {
		t.Errorf("check_suite rerequested = %+v, want suite %d of %s, queued, no conclusion", s, suiteID, head)
	}

	// Refusals (GitHub documents only 201 for the suite, so these answers
	// are not validated against the description).
	carol := srv.Client("carol")
	rawBot, err := srv.InstallationClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = carol.Checks.ReRequestCheckRun(ctx, "acme", "access", cr.GetID())
	if status(resp) != http.StatusForbidden {
		t.Errorf("a reader rerequests: %d %v, want 403", status(resp), err)
	}
	resp, _ = rawBot.Checks.ReRequestCheckRun(ctx, "acme", "access", 999999)
	if status(resp) != http.StatusNotFound {
		t.Errorf("unknown check run: %d, want 404", status(resp))
	}
	resp, _ = rawBot.Checks.ReRequestCheckSuite(ctx, "acme", "access", 999999)
	if status(resp) != http.StatusNotFound {
		t.Errorf("unknown check suite: %d, want 404", status(resp))
	}
}

// TestPullBaseEdited: changing a pull request's base sends pull_request
// edited with changes.base.ref.from and changes.base.sha.from.
func TestPullBaseEdited(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	rc := newReceiver(t, "It's a Secret to Everybody")
	srv := ghemutest.NewServer(t, testSeed(rc.srv.URL))
	alice := client(t, srv, "alice")
	main := branchTip(t, srv, "main")
	must[*github.Reference](t, "next")(alice.Git.CreateRef(ctx, "acme", "access",
		&github.Reference{Ref: github.String("refs/heads/next"), Object: &github.GitObject{SHA: github.String(main)}}))
	pushBranch(t, srv, "alice", "access", "grant", map[string]string{"access/x.yaml": "x\n"})
	pr := must[*github.PullRequest](t, "open")(alice.PullRequests.Create(ctx, "acme", "access",
		&github.NewPullRequest{Title: github.String("x"), Head: github.String("grant"), Base: github.String("main")}))
	must[*github.PullRequest](t, "retarget")(alice.PullRequests.Edit(ctx, "acme", "access", pr.GetNumber(),
		&github.PullRequest{Base: &github.PullRequestBranch{Ref: github.String("next")}}))
	waitDeliveries(t, srv)
	var edited *github.PullRequestEvent
	for _, h := range rc.got() {
		var ev github.PullRequestEvent
		if h.event == "pull_request" && json.Unmarshal(h.body, &ev) == nil && ev.GetAction() == "edited" {
			edited = &ev
		}
	}
	if edited == nil {
		t.Fatal("no pull_request edited delivered")
	}
	b := edited.GetChanges().GetBase()
	if b.GetRef().GetFrom() != "main" || b.GetSHA().GetFrom() != main || edited.GetPullRequest().GetBase().GetRef() != "next" {
		t.Errorf("edited: changes.base = ref %q sha %q, base now %q; want from main %s to next",
			b.GetRef().GetFrom(), b.GetSHA().GetFrom(), edited.GetPullRequest().GetBase().GetRef(), main)
	}
}

// TestReviewOnClosedAndMergedPull: GitHub accepts reviews on closed and
// merged pull requests; the review's commit is the head at close/merge.
func TestReviewOnClosedAndMergedPull(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	rc := newReceiver(t, "It's a Secret to Everybody")
	srv := ghemutest.NewServer(t, testSeed(rc.srv.URL))
	alice, bob := client(t, srv, "alice"), client(t, srv, "bob")
	for _, tc := range []struct {
		name, branch string
		finish       func(n int)
	}{
		{"merged", "m", func(n int) {
			must[*github.PullRequestMergeResult](t, "merge")(alice.PullRequests.Merge(ctx, "acme", "access", n, "", nil))
		}},
		{"closed", "c", func(n int) {
			must[*github.PullRequest](t, "close")(alice.PullRequests.Edit(ctx, "acme", "access", n, &github.PullRequest{State: github.String("closed")}))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := pushBranch(t, srv, "alice", "access", tc.branch, map[string]string{"access/" + tc.branch + ".yaml": "x\n"})
			pr := must[*github.PullRequest](t, "open")(alice.PullRequests.Create(ctx, "acme", "access",
				&github.NewPullRequest{Title: github.String(tc.name), Head: github.String(tc.branch), Base: github.String("main")}))
			tc.finish(pr.GetNumber())
			rv := must[*github.PullRequestReview](t, "approve")(bob.PullRequests.CreateReview(ctx, "acme", "access", pr.GetNumber(),
				&github.PullRequestReviewRequest{Event: github.String("APPROVE")}))
			if rv.GetState() != "APPROVED" || rv.GetCommitID() != head {
				t.Errorf("review on a %s pull request = %s on %s, want APPROVED on %s", tc.name, rv.GetState(), rv.GetCommitID(), head)
			}
			if got := srv.Reviews("access", pr.GetNumber()); len(got) != 1 {
				t.Errorf("reviews = %+v, want the one approval", got)
			}
		})
	}
	waitDeliveries(t, srv)
	n := 0
	for _, k := range rc.kinds() {
		if k == "pull_request_review.submitted" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("pull_request_review submitted delivered %d times, want 2", n)
	}
}

// TestTeamMembershipSeenAtOnce: a membership removed through the API is
// gone from the members list, the membership endpoint and the code owner
// judgement at once; added back, it counts again.
func TestTeamMembershipSeenAtOnce(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	seed := testSeed("")
	seed.Repos[0].Protection = map[string]ghemu.SeedProtection{"main": {RequireCodeOwnerReviews: true}}
	srv := ghemutest.NewServer(t, seed)
	alice, bob, carol := client(t, srv, "alice"), client(t, srv, "bob"), client(t, srv, "carol")
	// docs/ is owned by @acme/db-owners only ("*" in CODEOWNERS).
	pushBranch(t, srv, "alice", "access", "docs", map[string]string{"docs/a.md": "a\n"})
	pr := must[*github.PullRequest](t, "open")(alice.PullRequests.Create(ctx, "acme", "access",
		&github.NewPullRequest{Title: github.String("docs"), Head: github.String("docs"), Base: github.String("main")}))
	must[*github.PullRequestReview](t, "bob approves")(bob.PullRequests.CreateReview(ctx, "acme", "access", pr.GetNumber(),
		&github.PullRequestReviewRequest{Event: github.String("APPROVE")}))

	// carol (maintainer) removes bob.
	if resp, err := carol.Teams.RemoveTeamMembershipBySlug(ctx, "acme", "db-owners", "bob"); err != nil || status(resp) != http.StatusNoContent {
		t.Fatalf("remove bob: %d %v", status(resp), err)
	}
	members := must[[]*github.User](t, "members")(alice.Teams.ListTeamMembersBySlug(ctx, "acme", "db-owners", nil))
	var logins []string
	for _, m := range members {
		logins = append(logins, m.GetLogin())
	}
	if slices.Contains(logins, "bob") {
		t.Errorf("members after removing bob = %v", logins)
	}
	if _, resp, err := alice.Teams.GetTeamMembershipBySlug(ctx, "acme", "db-owners", "bob"); status(resp) != http.StatusNotFound {
		t.Errorf("bob's membership after removal: %d %v, want 404", status(resp), err)
	}
	_, resp, err := alice.PullRequests.Merge(ctx, "acme", "access", pr.GetNumber(), "", nil)
	wantErr(t, "merge with the approver removed from the owning team", resp, err, http.StatusMethodNotAllowed, "Waiting on code owner review from @acme/db-owners.")

	// Added back, his approval counts again.
	must[*github.Membership](t, "add bob")(carol.Teams.AddTeamMembershipBySlug(ctx, "acme", "db-owners", "bob", nil))
	if m := must[*github.Membership](t, "bob's membership")(alice.Teams.GetTeamMembershipBySlug(ctx, "acme", "db-owners", "bob")); m.GetRole() != "member" {
		t.Errorf("bob's role = %q, want member", m.GetRole())
	}
	_, _, err = alice.PullRequests.Merge(ctx, "acme", "access", pr.GetNumber(), "", nil)
	if err != nil {
		t.Errorf("merge with bob back in the owning team: %v", err)
	}
}

// TestAPIRequests: APIRequests leaves out git and unhandled routes, and
// ResetRequests starts a new count.
func TestAPIRequests(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	var unhandled []string
	srv := ghemutest.NewServerConfig(t, ghemu.Config{Seed: testSeed(""), OnUnhandled: func(m, p string) { unhandled = append(unhandled, m+" "+p) }})
	alice := client(t, srv, "alice")
	git(t, "", "ls-remote", cloneURL(srv, "alice", srv.Token("alice"), "acme", "access"))
	must[*github.Repository](t, "repo")(alice.Repositories.Get(ctx, "acme", "access"))
	req, _ := http.NewRequest(http.MethodGet, srv.APIURL+"repos/acme/access/nowhere", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	if len(unhandled) != 1 {
		t.Fatalf("unhandled = %v, want the one bad route", unhandled)
	}
	var all []string
	for _, r := range srv.Requests() {
		all = append(all, r.Route)
	}
	if !slices.Contains(all, "") || !slices.ContainsFunc(all, func(r string) bool { return strings.HasPrefix(r, "GIT ") }) {
		t.Fatalf("Requests = %q, want git and unhandled entries too", all)
	}
	var api []string
	for _, r := range srv.APIRequests() {
		api = append(api, r.Route)
	}
	if want := []string{"GET /repos/{owner}/{repo}"}; !slices.Equal(api, want) {
		t.Errorf("APIRequests = %q, want %q", api, want)
	}
	srv.ResetRequests()
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests after ResetRequests", n)
	}
	must[*github.Repository](t, "repo")(alice.Repositories.Get(ctx, "acme", "access"))
	if n := len(srv.APIRequests()); n != 1 {
		t.Errorf("APIRequests after a reset and one call = %d, want 1", n)
	}
}
