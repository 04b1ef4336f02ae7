package ghemu_test

import (
	"bytes"
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

// autoMergeSeed is testSeed with auto-merge allowed on access, whose main
// requires the check "jit/validate" and one approving review, and a second
// repository, noauto, that does not allow auto-merge.
func autoMergeSeed(webhookURL string) ghemu.Seed {
	sd := testSeed(webhookURL)
	sd.Repos[0].AllowAutoMerge = true
	sd.Repos[0].Protection = map[string]ghemu.SeedProtection{"main": {
		DismissStaleReviews: true, RequiredApprovingReviewCount: 1, RequiredStatusChecks: []string{"jit/validate"}}}
	sd.Repos = append(sd.Repos, ghemu.SeedRepo{Name: "noauto", Files: map[string]string{"README.md": "x\n"},
		Protection: map[string]ghemu.SeedProtection{"main": {RequiredStatusChecks: []string{"jit/validate"}}}})
	return sd
}

// gqlAnswer is a GraphQL answer.
type gqlAnswer struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Type    string
		Path    []string
		Message string
	} `json:"errors"`
}

// gqlPayload is the emulator's mutation payload.
type gqlPayload struct {
	ClientMutationID *string `json:"clientMutationId"`
	PullRequest      struct {
		ID               string
		Number           int
		AutoMergeRequest *struct {
			EnabledAt, MergeMethod, CommitHeadline, CommitBody string
			EnabledBy                                          struct{ Login string }
		}
	}
}

const (
	enableMutation = `mutation Enable($input: EnablePullRequestAutoMergeInput!) {
  enablePullRequestAutoMerge(input: $input) { clientMutationId pullRequest { id number autoMergeRequest { enabledAt } } }
}`
	disableMutation = `mutation($in: DisablePullRequestAutoMergeInput!) { disablePullRequestAutoMerge(input: $in) { clientMutationId } }`
)

// graphql posts query with variables to the emulator's GraphQL endpoint
// through hc (authenticated by its transport, or with token when given).
func graphql(t *testing.T, srv *ghemu.Server, hc *http.Client, token, query string, vars map[string]any) (int, gqlAnswer) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("POST /api/graphql: %v", err)
	}
	defer resp.Body.Close()
	var ans gqlAnswer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatalf("POST /api/graphql answered no JSON: %v", err)
	}
	return resp.StatusCode, ans
}

// payload decodes field's payload, failing the test on GraphQL errors.
func (a gqlAnswer) payload(t *testing.T, field string) gqlPayload {
	t.Helper()
	if len(a.Errors) > 0 {
		t.Fatalf("%s: errors %+v", field, a.Errors)
	}
	var p gqlPayload
	if err := json.Unmarshal(a.Data[field], &p); err != nil {
		t.Fatalf("%s: payload %s: %v", field, a.Data[field], err)
	}
	return p
}

// autoMergeFixture is a server seeded with autoMergeSeed, its clients, and
// an open pull request by alice on branch "grant".
type autoMergeFixture struct {
	srv       *ghemu.Server
	rc        *receiver
	alice     *github.Client
	bob       *github.Client
	bot       *github.Client
	number    int
	node      string
	head, ref string
}

func newAutoMergeFixture(t *testing.T) *autoMergeFixture {
	t.Helper()
	requireGit(t)
	ctx := context.Background()
	rc := newReceiver(t, "It's a Secret to Everybody")
	srv := ghemutest.NewServer(t, autoMergeSeed(rc.srv.URL))
	app, _ := srv.App()
	f := &autoMergeFixture{srv: srv, rc: rc, alice: client(t, srv, "alice"), bob: client(t, srv, "bob"),
		bot: installationClient(t, srv, app), ref: "grant"}
	f.openPull(t, "grant", map[string]string{"access/x.yaml": "x\n"})
	_ = ctx
	return f
}

// openPull commits files on a new branch as alice and opens a pull request
// from it, which becomes the fixture's pull request.
func (f *autoMergeFixture) openPull(t *testing.T, branch string, files map[string]string) {
	t.Helper()
	ctx := context.Background()
	head, err := f.srv.Commit(ctx, "access", ghemu.Change{Branch: branch, Author: "alice", Message: "add " + branch, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	pr := must[*github.PullRequest](t, "open "+branch)(f.alice.PullRequests.Create(ctx, "acme", "access",
		&github.NewPullRequest{Title: github.String("Grant " + branch), Head: github.String(branch), Base: github.String("main")}))
	f.number, f.node, f.head, f.ref = pr.GetNumber(), pr.GetNodeID(), head, branch
}

// enable enables auto-merge on the fixture's pull request as the App.
func (f *autoMergeFixture) enable(t *testing.T, input map[string]any) gqlAnswer {
	t.Helper()
	in := map[string]any{"pullRequestId": f.node, "expectedHeadOid": f.head}
	for k, v := range input {
		in[k] = v
	}
	status, ans := graphql(t, f.srv, f.bot.Client(), "", enableMutation, map[string]any{"input": in})
	if status != http.StatusOK {
		t.Fatalf("enable: HTTP %d", status)
	}
	return ans
}

func (f *autoMergeFixture) check(t *testing.T, sha, conclusion string) {
	t.Helper()
	must[*github.CheckRun](t, "check run "+conclusion)(f.bot.Checks.CreateCheckRun(context.Background(), "acme", "access",
		github.CreateCheckRunOptions{Name: "jit/validate", HeadSHA: sha, Status: github.String("completed"), Conclusion: github.String(conclusion)}))
}

func (f *autoMergeFixture) approve(t *testing.T) {
	t.Helper()
	must[*github.PullRequestReview](t, "approve")(f.bob.PullRequests.CreateReview(context.Background(), "acme", "access", f.number,
		&github.PullRequestReviewRequest{Event: github.String("APPROVE")}))
}

// pull is the emulator's snapshot of the fixture's pull request.
func (f *autoMergeFixture) pull(t *testing.T) ghemu.PullRequest {
	t.Helper()
	for _, p := range f.srv.PullRequests("access") {
		if p.Number == f.number {
			return p
		}
	}
	t.Fatalf("no pull request #%d", f.number)
	return ghemu.PullRequest{}
}

// pullRequestKinds lists the pull_request and push webhooks received.
func (f *autoMergeFixture) pullRequestKinds(t *testing.T) []string {
	waitDeliveries(t, f.srv)
	var out []string
	for _, k := range f.rc.kinds() {
		if strings.HasPrefix(k, "pull_request.") || k == "push" {
			out = append(out, k)
		}
	}
	return out
}

// disabledReasons are the reasons of the auto_merge_disabled webhooks.
func (f *autoMergeFixture) disabledReasons(t *testing.T) []string {
	waitDeliveries(t, f.srv)
	var out []string
	for _, h := range f.rc.got() {
		var p struct{ Action, Reason string }
		mustJSON(t, h.body, &p)
		if p.Action == "auto_merge_disabled" {
			out = append(out, p.Reason)
		}
	}
	return out
}

// TestAutoMergeMergesWhenRequirementsAreMet enables auto-merge as the App,
// checks the payload and the REST auto_merge object, then satisfies the
// requirements one by one: a failing required check and a missing review
// keep it waiting (the merge API refuses too, with the same rule), and the
// approval that completes them merges it as the App with the recorded
// title and body, delivering closed (merged) and push.
func TestAutoMergeMergesWhenRequirementsAreMet(t *testing.T) {
	f := newAutoMergeFixture(t)
	ctx := context.Background()
	ans := f.enable(t, map[string]any{"commitHeadline": "Expire grant x", "commitBody": "Jit-Event: expired\n", "clientMutationId": "m1"})
	p := ans.payload(t, "enablePullRequestAutoMerge")
	if p.ClientMutationID == nil || *p.ClientMutationID != "m1" || p.PullRequest.ID != f.node || p.PullRequest.Number != f.number {
		t.Errorf("payload = %+v, want clientMutationId m1, id %s, number %d", p, f.node, f.number)
	}
	am := p.PullRequest.AutoMergeRequest
	if am == nil || am.EnabledBy.Login != "jit[bot]" || am.MergeMethod != "MERGE" || am.CommitHeadline != "Expire grant x" ||
		am.CommitBody != "Jit-Event: expired\n" || am.EnabledAt == "" {
		t.Fatalf("autoMergeRequest = %+v", am)
	}
	rest := must[*github.PullRequest](t, "get")(f.alice.PullRequests.Get(ctx, "acme", "access", f.number))
	if a := rest.GetAutoMerge(); a == nil || a.GetEnabledBy().GetLogin() != "jit[bot]" || a.GetMergeMethod() != "merge" ||
		a.GetCommitTitle() != "Expire grant x" || a.GetCommitMessage() != "Jit-Event: expired\n" {
		t.Errorf("REST auto_merge = %+v", rest.GetAutoMerge())
	}

	f.check(t, f.head, "failure")
	if got := f.pull(t); got.Merged || got.AutoMergeBy != "jit[bot]" {
		t.Fatalf("after a failing check: merged %v, auto-merge by %q; want waiting", got.Merged, got.AutoMergeBy)
	}
	f.check(t, f.head, "success")
	if got := f.pull(t); got.Merged {
		t.Fatal("merged without the required review")
	}
	_, resp, err := f.srv.Client("carol").PullRequests.Merge(ctx, "acme", "access", f.number, "", nil)
	wantErr(t, "REST merge without the review", resp, err, 403, "Must have push access to repository")
	_, resp, err = f.bot.PullRequests.Merge(ctx, "acme", "access", f.number, "", nil)
	wantErr(t, "REST merge without the review", resp, err, 405, "At least 1 approving review is required by reviewers with write access.")

	f.approve(t)
	got := f.pull(t)
	if !got.Merged || got.MergedBy != "jit[bot]" || got.State != "closed" {
		t.Fatalf("after the approval: %+v, want merged by jit[bot]", got)
	}
	commit := must[*github.RepositoryCommit](t, "merge commit")(f.alice.Repositories.GetCommit(ctx, "acme", "access", got.MergeCommitSHA, nil))
	if msg := commit.GetCommit().GetMessage(); msg != "Expire grant x\n\nJit-Event: expired\n" {
		t.Errorf("merge commit message = %q", msg)
	}
	if parents := commit.Parents; len(parents) != 2 || parents[1].GetSHA() != f.head {
		t.Errorf("merge commit parents = %v, want the base and %s", parents, f.head)
	}
	if tip := branchTipOf(t, f.srv, "access", "main"); tip != got.MergeCommitSHA {
		t.Errorf("main = %s, want the merge commit %s", tip, got.MergeCommitSHA)
	}
	want := []string{"push", "pull_request.opened", "pull_request.auto_merge_enabled", "pull_request.closed", "push"}
	if kinds := f.pullRequestKinds(t); !slices.Equal(kinds, want) {
		t.Errorf("webhooks = %v, want %v", kinds, want)
	}
	hits := f.rc.got()
	var closed struct {
		PullRequest struct {
			Merged    bool
			AutoMerge struct {
				EnabledBy struct{ Login string } `json:"enabled_by"`
			} `json:"auto_merge"`
		} `json:"pull_request"`
		Sender struct{ Login string }
	}
	var reviewAt, closedAt int
	for i, h := range hits {
		var top struct{ Action string }
		mustJSON(t, h.body, &top)
		switch h.event + "." + top.Action {
		case "pull_request_review.submitted":
			reviewAt = i
		case "pull_request.closed":
			closedAt = i
			mustJSON(t, h.body, &closed)
		}
	}
	if closedAt < reviewAt {
		t.Errorf("pull_request.closed (#%d) delivered before the review that caused it (#%d)", closedAt, reviewAt)
	}
	if !closed.PullRequest.Merged || closed.Sender.Login != "jit[bot]" || closed.PullRequest.AutoMerge.EnabledBy.Login != "jit[bot]" {
		t.Errorf("closed payload = %+v, want merged, sent by jit[bot], auto_merge kept", closed)
	}
}

// branchTipOf is the sha of branch in repo.
func branchTipOf(t *testing.T, srv *ghemu.Server, repo, branch string) string {
	t.Helper()
	ref := must[*github.Reference](t, "ref "+branch)(srv.Client("alice").Git.GetRef(context.Background(), "acme", repo, "heads/"+branch))
	return ref.GetObject().GetSHA()
}

// TestEnableAutoMergeRefused checks each refusal GitHub answers with a
// GraphQL error (HTTP 200, the field null, the error's type, path and
// message), and that a refused enable records nothing.
func TestEnableAutoMergeRefused(t *testing.T) {
	f := newAutoMergeFixture(t)
	ctx := context.Background()
	base := branchTipOf(t, f.srv, "access", "main")
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T) (token string, input map[string]any)
		typ     string
		message string
	}{
		{"expected head is not the head", func(t *testing.T) (string, map[string]any) {
			return "", map[string]any{"expectedHeadOid": base}
		}, "UNPROCESSABLE", "Head branch was modified. Review and try the merge again."},
		{"user without write access", func(t *testing.T) (string, map[string]any) {
			return f.srv.Token("carol"), nil
		}, "FORBIDDEN", "carol does not have permission to run enablePullRequestAutoMerge on acme/access; it needs write access"},
		{"unknown node id", func(t *testing.T) (string, map[string]any) {
			return "", map[string]any{"pullRequestId": "PR_nope"}
		}, "NOT_FOUND", "Could not resolve to a node with the global id of 'PR_nope'"},
		{"rebase", func(t *testing.T) (string, map[string]any) {
			return "", map[string]any{"mergeMethod": "REBASE"}
		}, "UNPROCESSABLE", "Pull request Merge method rebase merging is not allowed on this repository"},
		{"clean status", func(t *testing.T) (string, map[string]any) {
			f.openPull(t, "clean", map[string]string{"access/clean.yaml": "c\n"})
			f.check(t, f.head, "success")
			f.approve(t)
			return "", nil
		}, "UNPROCESSABLE", "Pull request Pull request is in clean status"},
		{"closed", func(t *testing.T) (string, map[string]any) {
			f.openPull(t, "closed", map[string]string{"access/closed.yaml": "c\n"})
			must[*github.PullRequest](t, "close")(f.alice.PullRequests.Edit(ctx, "acme", "access", f.number, &github.PullRequest{State: github.String("closed")}))
			return "", nil
		}, "UNPROCESSABLE", "Pull request Pull request is closed"},
		{"repository does not allow auto-merge", func(t *testing.T) (string, map[string]any) {
			head, err := f.srv.Commit(ctx, "noauto", ghemu.Change{Branch: "g", Author: "alice", Message: "g", Files: map[string]string{"g": "g\n"}})
			if err != nil {
				t.Fatal(err)
			}
			pr := must[*github.PullRequest](t, "open")(f.alice.PullRequests.Create(ctx, "acme", "noauto",
				&github.NewPullRequest{Title: github.String("g"), Head: github.String("g"), Base: github.String("main")}))
			return "", map[string]any{"pullRequestId": pr.GetNodeID(), "expectedHeadOid": head}
		}, "UNPROCESSABLE", "Pull request Auto merge is not allowed for this repository"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token, input := tc.setup(t)
			in := map[string]any{"pullRequestId": f.node, "expectedHeadOid": f.head}
			for k, v := range input {
				in[k] = v
			}
			hc := f.bot.Client()
			if token != "" {
				hc = http.DefaultClient
			}
			status, ans := graphql(t, f.srv, hc, token, enableMutation, map[string]any{"input": in})
			if status != http.StatusOK || len(ans.Errors) != 1 {
				t.Fatalf("HTTP %d, errors %+v; want 200 and one error", status, ans.Errors)
			}
			e := ans.Errors[0]
			if e.Type != tc.typ || e.Message != tc.message || !slices.Equal(e.Path, []string{"enablePullRequestAutoMerge"}) {
				t.Errorf("error = %+v, want type %s, path [enablePullRequestAutoMerge], message %q", e, tc.typ, tc.message)
			}
			if raw, ok := ans.Data["enablePullRequestAutoMerge"]; !ok || string(raw) != "null" {
				t.Errorf("data.enablePullRequestAutoMerge = %s, want null", raw)
			}
			for _, p := range f.srv.PullRequests("access") {
				if p.AutoMergeBy != "" {
					t.Errorf("#%d has auto-merge by %s after a refused enable", p.Number, p.AutoMergeBy)
				}
			}
		})
	}
}

// TestGraphQLDocumentRefused checks the requests refused before any
// mutation runs: authentication, inline input, variables that do not fit
// the input type, and documents that are not one auto-merge mutation.
func TestGraphQLDocumentRefused(t *testing.T) {
	requireGit(t)
	var unhandled []string
	srv := ghemutest.NewServerConfig(t, ghemu.Config{Seed: autoMergeSeed(""),
		OnUnhandled: func(method, path string) { unhandled = append(unhandled, method+" "+path) }})
	tok := srv.Token("alice")
	ok := map[string]any{"input": map[string]any{"pullRequestId": "x"}}
	for _, tc := range []struct {
		name, token, query string
		vars               map[string]any
		status             int
		message            string
		unhandled          bool
	}{
		{"anonymous", "", enableMutation, ok, 401, "This endpoint requires you to be authenticated.", false},
		{"bad token", "ghp_wrong", enableMutation, ok, 401, "Bad credentials", false},
		{"inline input", tok, `mutation { enablePullRequestAutoMerge(input: {pullRequestId: "x"}) { clientMutationId } }`, nil, 200,
			`the emulator does not read inline GraphQL arguments; pass the input of enablePullRequestAutoMerge as a variable: enablePullRequestAutoMerge(input: $input) with {"variables": {"input": {...}}}`, false},
		{"no input argument", tok, `mutation { disablePullRequestAutoMerge { clientMutationId } }`, nil, 200,
			"Field 'disablePullRequestAutoMerge' is missing required arguments: input", false},
		{"missing variable", tok, enableMutation, nil, 200,
			"Variable $input of type EnablePullRequestAutoMergeInput! was provided invalid value (Expected value to not be null)", false},
		{"unknown input field", tok, disableMutation, map[string]any{"in": map[string]any{"pullRequestId": "x", "mergeMethod": "MERGE"}}, 200,
			"Variable $in of type DisablePullRequestAutoMergeInput! was provided invalid value for mergeMethod (Field is not defined on DisablePullRequestAutoMergeInput)", false},
		{"bad merge method", tok, enableMutation, map[string]any{"input": map[string]any{"pullRequestId": "x", "mergeMethod": "FAST"}}, 200,
			`Variable $input of type EnablePullRequestAutoMergeInput! was provided invalid value for mergeMethod (Expected "FAST" to be one of: MERGE, SQUASH, REBASE)`, false},
		{"short head oid", tok, enableMutation, map[string]any{"input": map[string]any{"pullRequestId": "x", "expectedHeadOid": "abc123"}}, 200,
			`Variable $input of type EnablePullRequestAutoMergeInput! was provided invalid value for expectedHeadOid (Could not coerce value "abc123" to GitObjectID)`, false},
		{"a query", tok, `query { viewer { login } }`, nil, 200,
			`the emulator answers only the mutations enablePullRequestAutoMerge and disablePullRequestAutoMerge; send a document starting with "mutation"`, true},
		{"both mutations", tok, `mutation($a: X!, $b: Y!) { enablePullRequestAutoMerge(input: $a) { clientMutationId } disablePullRequestAutoMerge(input: $b) { clientMutationId } }`, nil, 200,
			"the document selects more than one auto-merge mutation; send enablePullRequestAutoMerge or disablePullRequestAutoMerge alone", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			unhandled = nil
			body, _ := json.Marshal(map[string]any{"query": tc.query, "variables": tc.vars})
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
			if tc.token != "" {
				req.Header.Set("Authorization", "token "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var ans struct {
				Message string
				Data    any
				Errors  []struct{ Message string }
			}
			if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
				t.Fatal(err)
			}
			got := ans.Message
			if len(ans.Errors) == 1 {
				got = ans.Errors[0].Message
			}
			if resp.StatusCode != tc.status || got != tc.message || ans.Data != nil {
				t.Errorf("HTTP %d %q (data %v), want %d %q without data", resp.StatusCode, got, ans.Data, tc.status, tc.message)
			}
			if (len(unhandled) > 0) != tc.unhandled {
				t.Errorf("OnUnhandled calls %v, want some: %v", unhandled, tc.unhandled)
			}
		})
	}
	var routes []string
	for _, r := range srv.Requests() {
		routes = append(routes, r.Route)
	}
	if len(routes) != 10 || routes[0] != "POST /graphql" {
		t.Errorf("recorded routes %v, want ten POST /graphql", routes)
	}
}

// TestAutoMergeDisabled checks the ways auto-merge ends without a merge,
// each with auto_merge_disabled and its reason: a push to the head by a
// user without write access (a writer's push keeps it), closing the pull
// request, a conflict found when the requirements are met, and the
// disable mutation (a second disable is refused).
func TestAutoMergeDisabled(t *testing.T) {
	ctx := context.Background()
	t.Run("push by a user without write access", func(t *testing.T) {
		f := newAutoMergeFixture(t)
		f.enable(t, nil).payload(t, "enablePullRequestAutoMerge")
		if _, err := f.srv.Commit(ctx, "access", ghemu.Change{Branch: f.ref, Author: "alice", Message: "more", Files: map[string]string{"access/y.yaml": "y\n"}}); err != nil {
			t.Fatal(err)
		}
		if got := f.pull(t); got.AutoMergeBy != "jit[bot]" {
			t.Fatalf("a writer's push disabled auto-merge: %+v", got)
		}
		if _, err := f.srv.Commit(ctx, "access", ghemu.Change{Branch: f.ref, Author: "carol", Message: "sneak", Files: map[string]string{"access/z.yaml": "z\n"}}); err != nil {
			t.Fatal(err)
		}
		if got := f.pull(t); got.AutoMergeBy != "" {
			t.Errorf("auto-merge still enabled by %q after a push by a reader", got.AutoMergeBy)
		}
		if r := f.disabledReasons(t); !slices.Equal(r, []string{"Head branch was pushed to by a user without write access"}) {
			t.Errorf("disabled reasons = %q", r)
		}
		rest := must[*github.PullRequest](t, "get")(f.alice.PullRequests.Get(ctx, "acme", "access", f.number))
		if rest.AutoMerge != nil {
			t.Errorf("REST auto_merge = %+v after it was disabled, want null", rest.AutoMerge)
		}
	})
	t.Run("closed", func(t *testing.T) {
		f := newAutoMergeFixture(t)
		f.enable(t, nil).payload(t, "enablePullRequestAutoMerge")
		must[*github.PullRequest](t, "close")(f.alice.PullRequests.Edit(ctx, "acme", "access", f.number, &github.PullRequest{State: github.String("closed")}))
		want := []string{"push", "pull_request.opened", "pull_request.auto_merge_enabled", "pull_request.closed", "pull_request.auto_merge_disabled"}
		if k := f.pullRequestKinds(t); !slices.Equal(k, want) {
			t.Errorf("webhooks = %v, want %v", k, want)
		}
		if r := f.disabledReasons(t); !slices.Equal(r, []string{"Pull request was closed"}) {
			t.Errorf("disabled reasons = %q", r)
		}
	})
	t.Run("conflict", func(t *testing.T) {
		f := newAutoMergeFixture(t)
		f.enable(t, nil).payload(t, "enablePullRequestAutoMerge")
		if _, err := f.srv.Commit(ctx, "access", ghemu.Change{Author: "bob", Message: "clash", Files: map[string]string{"access/x.yaml": "other\n"}}); err != nil {
			t.Fatal(err)
		}
		f.check(t, f.head, "success")
		if got := f.pull(t); got.AutoMergeBy != "jit[bot]" || got.Merged {
			t.Fatalf("before the review: %+v, want waiting", got)
		}
		f.approve(t)
		if got := f.pull(t); got.Merged || got.AutoMergeBy != "" {
			t.Errorf("after the conflict: %+v, want open without auto-merge", got)
		}
		if r := f.disabledReasons(t); !slices.Equal(r, []string{"Merge conflict"}) {
			t.Errorf("disabled reasons = %q", r)
		}
	})
	t.Run("disable mutation", func(t *testing.T) {
		f := newAutoMergeFixture(t)
		f.enable(t, nil).payload(t, "enablePullRequestAutoMerge")
		vars := map[string]any{"in": map[string]any{"pullRequestId": f.node}}
		_, ans := graphql(t, f.srv, f.bot.Client(), "", disableMutation, vars)
		if p := ans.payload(t, "disablePullRequestAutoMerge"); p.PullRequest.AutoMergeRequest != nil || p.PullRequest.Number != f.number {
			t.Errorf("disable payload = %+v, want no autoMergeRequest", p)
		}
		if r := f.disabledReasons(t); !slices.Equal(r, []string{"Auto-merge was disabled by jit[bot]"}) {
			t.Errorf("disabled reasons = %q", r)
		}
		_, ans = graphql(t, f.srv, f.bot.Client(), "", disableMutation, vars)
		if len(ans.Errors) != 1 || ans.Errors[0].Type != "UNPROCESSABLE" || ans.Errors[0].Message != "Pull request Auto merge is not enabled for this pull request" {
			t.Errorf("second disable errors = %+v", ans.Errors)
		}
	})
}

// TestAutoMergeSquashAsUser enables a squash auto-merge as a user with
// default texts; a commit status (not a check run) completes the
// requirements and the squash commit is made as that user.
func TestAutoMergeSquashAsUser(t *testing.T) {
	f := newAutoMergeFixture(t)
	ctx := context.Background()
	f.approve(t)
	status, ans := graphql(t, f.srv, http.DefaultClient, f.srv.Token("alice"), enableMutation,
		map[string]any{"input": map[string]any{"pullRequestId": f.node, "mergeMethod": "SQUASH"}})
	am := ans.payload(t, "enablePullRequestAutoMerge").PullRequest.AutoMergeRequest
	if status != 200 || am == nil || am.EnabledBy.Login != "alice" || am.MergeMethod != "SQUASH" || am.CommitHeadline != "Grant grant (#1)" {
		t.Fatalf("HTTP %d autoMergeRequest %+v", status, am)
	}
	must[*github.RepoStatus](t, "status")(f.alice.Repositories.CreateStatus(ctx, "acme", "access", f.head,
		&github.RepoStatus{State: github.String("success"), Context: github.String("jit/validate")}))
	got := f.pull(t)
	if !got.Merged || got.MergedBy != "alice" {
		t.Fatalf("after the status: %+v, want merged by alice", got)
	}
	c := must[*github.RepositoryCommit](t, "squash commit")(f.alice.Repositories.GetCommit(ctx, "acme", "access", got.MergeCommitSHA, nil))
	if len(c.Parents) != 1 || c.GetCommit().GetMessage() != "Grant grant (#1)\n\n* add grant" || c.GetAuthor().GetLogin() != "alice" {
		t.Errorf("squash commit: parents %d, message %q, author %q", len(c.Parents), c.GetCommit().GetMessage(), c.GetAuthor().GetLogin())
	}
}
