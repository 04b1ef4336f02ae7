package ghapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// newAutoMergeEnv is newEnv with auto-merge allowed on the access
// repository (main requires the check jit/validate).
func newAutoMergeEnv(t *testing.T) *env {
	t.Helper()
	requireGit(t)
	sd := seed()
	sd.Repos[0].AllowAutoMerge = true
	e := &env{srv: ghemutest.NewServer(t, sd), obs: &observed{}}
	e.c = e.client(t, nil)
	return e
}

// checkRun posts a completed jit/validate check run on sha as the App.
func (e *env) checkRun(t *testing.T, sha, conclusion string) {
	t.Helper()
	bot, err := e.srv.InstallationClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bot.Checks.CreateCheckRun(context.Background(), "acme", "access", github.CreateCheckRunOptions{
		Name: "jit/validate", HeadSHA: sha, Status: github.String("completed"), Conclusion: github.String(conclusion)}); err != nil {
		t.Fatalf("check run: %v", err)
	}
}

// TestEnableAutoMergeMergesOnceChecksPass enables auto-merge through the
// client, reads it back through PullRequest, and sees the emulator merge
// with the given title and body when the required check passes.
func TestEnableAutoMergeMergesOnceChecksPass(t *testing.T) {
	e := newAutoMergeEnv(t)
	ctx := context.Background()
	n, head := e.openPR(t, "alice", "expire", "delete grant", map[string]string{"access/x.yaml": "x\n"})
	pr, err := e.c.PullRequest(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if pr.NodeID == "" || pr.AutoMerge != nil {
		t.Fatalf("before: node id %q, auto-merge %+v; want an id and none", pr.NodeID, pr.AutoMerge)
	}
	req := ghapi.AutoMergeRequest{PullRequestID: pr.NodeID, ExpectedHeadOID: head, CommitHeadline: "Expire grant x",
		CommitBody: "Jit-Event: expired\nJit-Grant: x\n"}
	if err := e.c.EnableAutoMerge(ctx, req); err != nil {
		t.Fatalf("EnableAutoMerge: %v", err)
	}
	pr, err = e.c.PullRequest(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	want := &ghapi.AutoMerge{EnabledBy: "jit[bot]", Method: "merge", CommitTitle: "Expire grant x", CommitMessage: "Jit-Event: expired\nJit-Grant: x\n"}
	if diff := cmp.Diff(want, pr.AutoMerge); diff != "" {
		t.Errorf("AutoMerge (-want +got):\n%s", diff)
	}
	e.checkRun(t, head, "failure")
	if pr, _ := e.c.PullRequest(ctx, n); pr.Merged {
		t.Fatal("merged with the required check failing")
	}
	e.checkRun(t, head, "success")
	pr, err = e.c.PullRequest(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.Merged {
		t.Fatal("not merged after the required check passed")
	}
	c, _, err := e.srv.Client("alice").Git.GetCommit(ctx, "acme", "access", pr.MergeCommitSHA)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.GetMessage(); got != "Expire grant x\n\nJit-Event: expired\nJit-Grant: x\n" {
		t.Errorf("merge commit message = %q", got)
	}
	if got := e.count("POST /graphql"); got != 1 {
		t.Errorf("POST /graphql sent %d times, want 1", got)
	}
}

// TestEnableAutoMergeRefused maps GitHub's refusals: a moved head is
// ErrHeadChanged, a pull request that can merge now is ErrCleanStatus, and
// others are a *GraphQLError with GitHub's message.
func TestEnableAutoMergeRefused(t *testing.T) {
	e := newAutoMergeEnv(t)
	ctx := context.Background()
	n, head := e.openPR(t, "alice", "a", "a", map[string]string{"access/a.yaml": "a\n"})
	pr, err := e.c.PullRequest(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	base, _, err := e.srv.Client("alice").Git.GetRef(ctx, "acme", "access", "heads/main")
	if err != nil {
		t.Fatal(err)
	}

	err = e.c.EnableAutoMerge(ctx, ghapi.AutoMergeRequest{PullRequestID: pr.NodeID, ExpectedHeadOID: base.GetObject().GetSHA()})
	if !errors.Is(err, ghapi.ErrHeadChanged) || !strings.Contains(err.Error(), "Head branch was modified. Review and try the merge again.") {
		t.Errorf("moved head: %v, want ErrHeadChanged with GitHub's message", err)
	}

	e.checkRun(t, head, "success")
	err = e.c.EnableAutoMerge(ctx, ghapi.AutoMergeRequest{PullRequestID: pr.NodeID, ExpectedHeadOID: head})
	if !errors.Is(err, ghapi.ErrCleanStatus) || !strings.Contains(err.Error(), "Pull request Pull request is in clean status") {
		t.Errorf("clean: %v, want ErrCleanStatus with GitHub's message", err)
	}

	err = e.c.EnableAutoMerge(ctx, ghapi.AutoMergeRequest{PullRequestID: "PR_gone", ExpectedHeadOID: head})
	var ge *ghapi.GraphQLError
	if !errors.As(err, &ge) || errors.Is(err, ghapi.ErrHeadChanged) || errors.Is(err, ghapi.ErrCleanStatus) {
		t.Fatalf("unknown node: %v, want a plain *GraphQLError", err)
	}
	want := &ghapi.GraphQLError{Field: "enablePullRequestAutoMerge", Types: []string{"NOT_FOUND"},
		Messages: []string{"Could not resolve to a node with the global id of 'PR_gone'"}}
	if diff := cmp.Diff(want, ge); diff != "" {
		t.Errorf("GraphQLError (-want +got):\n%s", diff)
	}
	var he *ghapi.Error
	if !errors.As(err, &he) || he.Status != http.StatusOK {
		t.Errorf("a GraphQL refusal reads as *Error %+v, want status 200 (an answer, not an unknown outcome)", he)
	}
	if got := ge.Error(); got != "POST /graphql enablePullRequestAutoMerge: GitHub refused it: Could not resolve to a node with the global id of 'PR_gone'" {
		t.Errorf("message = %q", got)
	}
	if err := e.c.EnableAutoMerge(ctx, ghapi.AutoMergeRequest{PullRequestID: pr.NodeID}); err == nil ||
		!strings.Contains(err.Error(), "needs PullRequestID (the node_id) and ExpectedHeadOID") {
		t.Errorf("no head: %v", err)
	}
}

// TestEnableAutoMergeUnknownOutcome loses the answer of an enable that
// took effect (the client must find it done, not send it again), and
// fails one before it took effect (the client checks, then sends again).
func TestEnableAutoMergeUnknownOutcome(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lost  bool // the enable happened, its answer was lost
		posts int
	}{
		{"answer lost after the effect", true, 1},
		{"failed before any effect", false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAutoMergeEnv(t)
			ctx := context.Background()
			n, head := e.openPR(t, "alice", "b", "b", map[string]string{"access/b.yaml": "b\n"})
			pr, err := e.c.PullRequest(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			c := e.c
			if tc.lost {
				c = e.client(t, func(cfg *ghapi.Config) {
					cfg.Transport = &lostAnswer{base: httpDefault(), method: "POST", path: "/api/graphql", n: 1}
				})
			} else {
				e.srv.FailNext("POST /graphql", 1, http.StatusBadGateway)
			}
			if err := c.EnableAutoMerge(ctx, ghapi.AutoMergeRequest{PullRequestID: pr.NodeID, ExpectedHeadOID: head}); err != nil {
				t.Fatalf("EnableAutoMerge: %v", err)
			}
			if got := e.count("POST /graphql"); got != tc.posts {
				t.Errorf("POST /graphql sent %d times, want %d", got, tc.posts)
			}
			if got := e.count("GET /repos/{owner}/{repo}/pulls/{pull_number}"); got < 2 {
				t.Errorf("the pull request was read %d times, want the read before sending again", got)
			}
			if pr, _ := e.c.PullRequest(ctx, n); pr.AutoMerge == nil || pr.AutoMerge.EnabledBy != "jit[bot]" {
				t.Errorf("auto-merge = %+v, want enabled by jit[bot]", pr.AutoMerge)
			}
		})
	}
}

// TestDisableAutoMerge disables an enabled auto-merge, and a second
// disable (nothing to disable) succeeds too.
func TestDisableAutoMerge(t *testing.T) {
	e := newAutoMergeEnv(t)
	ctx := context.Background()
	n, head := e.openPR(t, "alice", "c", "c", map[string]string{"access/c.yaml": "c\n"})
	pr, err := e.c.PullRequest(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.EnableAutoMerge(ctx, ghapi.AutoMergeRequest{PullRequestID: pr.NodeID, ExpectedHeadOID: head}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := e.c.DisableAutoMerge(ctx, pr.NodeID); err != nil {
			t.Fatalf("disable %d: %v", i+1, err)
		}
	}
	if pr, _ := e.c.PullRequest(ctx, n); pr.AutoMerge != nil {
		t.Errorf("auto-merge = %+v after disabling", pr.AutoMerge)
	}
	if err := e.c.DisableAutoMerge(ctx, ""); err == nil || !strings.Contains(err.Error(), "node_id is empty") {
		t.Errorf("empty id: %v", err)
	}
}

// urlRecorder answers the installation token request and a GraphQL
// mutation, recording the GraphQL URL; it stands in for a GitHub that is
// not reachable from the test (only the URL derivation is under test).
type urlRecorder struct {
	mu  sync.Mutex
	url string
}

func (u *urlRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	body := `{"token":"ghs_x","expires_at":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`
	status := http.StatusCreated
	if !strings.HasSuffix(r.URL.Path, "/access_tokens") {
		u.mu.Lock()
		u.url = r.URL.String()
		u.mu.Unlock()
		body, status = `{"data":{"disablePullRequestAutoMerge":{"pullRequest":{"number":1}}}}`, http.StatusOK
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader([]byte(body))), Request: r}, nil
}

// TestGraphQLEndpoint derives the GraphQL URL from Config.APIURL.
func TestGraphQLEndpoint(t *testing.T) {
	for _, tc := range []struct{ api, want string }{
		{"https://api.github.com/", "https://api.github.com/graphql"},
		{"https://api.github.com", "https://api.github.com/graphql"},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"},
		{"http://127.0.0.1:8080/api/v3", "http://127.0.0.1:8080/api/graphql"},
	} {
		t.Run(tc.api, func(t *testing.T) {
			rec := &urlRecorder{}
			c, err := ghapi.New(context.Background(), ghapi.Config{APIURL: tc.api, AppID: 42, PrivateKeyPEM: []byte(appKey()),
				InstallationID: 7, Owner: "acme", Repo: "access", Transport: rec})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.DisableAutoMerge(context.Background(), "PR_x"); err != nil {
				t.Fatal(err)
			}
			if rec.url != tc.want {
				t.Errorf("GraphQL URL = %q, want %q", rec.url, tc.want)
			}
		})
	}
}
