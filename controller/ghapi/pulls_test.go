package ghapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/grant"
)

func TestPullRequestMapping(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n, head := e.openPR(t, "alice", "grant-a", "add grant", map[string]string{"access/a.yaml": "a: 1\n"})
	if err := e.c.AddLabel(ctx, n, "jit:pending"); err != nil {
		t.Fatal(err)
	}
	got, err := e.c.PullRequest(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	want := ghapi.PullRequest{
		Number: n, State: "open", Author: "alice", Title: "grant grant-a", Body: "please",
		URL:     e.srv.URL + "/acme/access/pull/1",
		HeadSHA: head, HeadRef: "grant-a", HeadRepo: "acme/access", BaseRef: "main",
		Labels: []string{"jit:pending"},
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(ghapi.PullRequest{}, "BaseSHA", "MergeCommitSHA", "NodeID")); d != "" {
		t.Errorf("PullRequest (-want +got):\n%s", d)
	}
	if got.NodeID == "" {
		t.Error("NodeID is empty; auto-merge needs it")
	}
	if len(got.BaseSHA) != 40 {
		t.Errorf("BaseSHA = %q", got.BaseSHA)
	}
	open, err := e.c.OpenPullRequests(ctx)
	if err != nil || len(open) != 1 || open[0].Number != n {
		t.Errorf("OpenPullRequests = %+v, %v", open, err)
	}
	if _, err := e.c.PullRequest(ctx, 99); status(err) != 404 {
		t.Errorf("PullRequest(99) = %v, want *Error 404", err)
	}
}

func TestReviews(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n, first := e.openPR(t, "alice", "grant-r", "add grant", map[string]string{"access/r.yaml": "r: 1\n"})
	review := func(login, event, body string) {
		t.Helper()
		_, _, err := e.srv.Client(login).PullRequests.CreateReview(ctx, "acme", "access", n,
			&github.PullRequestReviewRequest{Event: github.String(event), Body: github.String(body)})
		if err != nil {
			t.Fatalf("%s %s: %v", login, event, err)
		}
	}
	review("bob", "APPROVE", "")
	second, err := e.srv.Commit(ctx, "access", ghemu.Change{Branch: "grant-r", Author: "alice", Message: "fix", Files: map[string]string{"access/r.yaml": "r: 2\n"}})
	if err != nil {
		t.Fatal(err)
	}
	review("carol", "COMMENT", "looks fine")
	review("dave", "REQUEST_CHANGES", "no")
	got, err := e.c.Reviews(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	want := []grant.Review{
		{Reviewer: "bob", State: grant.ReviewApproved, CommitSHA: first},
		{Reviewer: "carol", State: grant.ReviewCommented, CommitSHA: second},
		{Reviewer: "dave", State: grant.ReviewChangesRequested, CommitSHA: second},
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(grant.Review{}, "ID", "SubmittedAt")); d != "" {
		t.Errorf("Reviews (-want +got):\n%s", d)
	}
	for _, r := range got {
		if r.ID == 0 || r.SubmittedAt.IsZero() || time.Since(r.SubmittedAt) > time.Minute {
			t.Errorf("review %+v lacks its id or submission time", r)
		}
	}
}

func TestCommits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n, _ := e.openPR(t, "alice", "grant-c", "add grant", map[string]string{"access/c.yaml": "c: 1\n"})
	msg := "pair work\n\nCo-authored-by: Bob <2001+bob@users.noreply.github.com>\nCo-authored-by: Carol <carol@users.noreply.github.com>\nCo-authored-by: Eve <eve@example.com>\n"
	head, err := e.srv.Commit(ctx, "access", ghemu.Change{Branch: "grant-c", Author: "dave", Message: msg, Files: map[string]string{"access/c.yaml": "c: 2\n"}})
	if err != nil {
		t.Fatal(err)
	}
	const route = "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits"
	got, err := e.c.Commits(ctx, n, head)
	if err != nil {
		t.Fatal(err)
	}
	want := []grant.Commit{
		{Author: "alice", Committer: "alice"},
		{SHA: head, Author: "dave", Committer: "dave", CoAuthors: []string{"bob", "carol", ""}},
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(grant.Commit{}, "SHA"), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("Commits (-want +got):\n%s", d)
	}
	if got[1].SHA != head {
		t.Errorf("last commit %s, want the head %s", got[1].SHA, head)
	}
	got[1].CoAuthors[0] = "mallory" // the cache must not share it
	again, err := e.c.Commits(ctx, n, head)
	if err != nil || again[1].CoAuthors[0] != "bob" {
		t.Errorf("cached Commits = %+v, %v", again, err)
	}
	if c := e.count(route); c != 1 {
		t.Errorf("%d requests for the same head, want 1 (cached)", c)
	}
	_, err = e.c.Commits(ctx, n, strings.Repeat("a", 40))
	if err == nil || !strings.Contains(err.Error(), "evaluate it again") || !strings.Contains(err.Error(), head) {
		t.Errorf("Commits with a stale head = %v, want the moved-head error naming %s", err, head)
	}
}

func TestCommitsUnlinkedAuthor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// The org is no user: its commits carry an address GitHub links to nobody.
	n, _ := e.openPR(t, "alice", "grant-u", "add grant", map[string]string{"access/u.yaml": "u: 1\n"})
	head, err := e.srv.Commit(ctx, "access", ghemu.Change{Branch: "grant-u", Message: "by the org", Files: map[string]string{"access/u.yaml": "u: 2\n"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.c.Commits(ctx, n, head)
	if err != nil {
		t.Fatal(err)
	}
	if last := got[len(got)-1]; last.Author != "" || last.Committer != "" {
		t.Errorf("unlinked commit = %+v, want empty logins", last)
	}
}

func TestMerge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n, head := e.openPR(t, "alice", "grant-m", "add grant", map[string]string{"access/m.yaml": "m: 1\n"})

	_, err := e.c.Merge(ctx, n, head, "Merge grant m", "Jit-Decision: x")
	if !errors.Is(err, ghapi.ErrNotMergeable) || !strings.Contains(err.Error(), "jit/validate") {
		t.Fatalf("Merge without the required check = %v, want ErrNotMergeable with GitHub's reason", err)
	}
	if _, err := e.c.PutCheckRun(ctx, ghapi.CheckRun{Name: "jit/validate", HeadSHA: head, Status: "completed", Conclusion: "success", Title: "ok", Summary: "ok"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.Merge(ctx, n, strings.Repeat("0", 40), "Merge grant m", "Jit-Decision: x")
	if !errors.Is(err, ghapi.ErrHeadChanged) {
		t.Fatalf("Merge with an old sha = %v, want ErrHeadChanged", err)
	}
	sha, err := e.c.Merge(ctx, n, head, "Merge grant m", "Jit-Decision: x")
	if err != nil {
		t.Fatal(err)
	}
	prs := e.srv.PullRequests("access")
	if !prs[0].Merged || prs[0].MergeCommitSHA != sha || prs[0].MergedBy != "jit[bot]" {
		t.Errorf("after Merge: %+v, want merged by jit[bot] as %s", prs[0], sha)
	}
	cm, _, err := e.srv.Client("alice").Git.GetCommit(ctx, "acme", "access", sha)
	if err != nil {
		t.Fatal(err)
	}
	if len(cm.Parents) != 2 || !strings.HasPrefix(cm.GetMessage(), "Merge grant m\n\nJit-Decision: x") {
		t.Errorf("merge commit has %d parents and message %q, want a merge commit with the title and message", len(cm.Parents), cm.GetMessage())
	}
}

func TestMergeLostAnswer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n, head := e.openPR(t, "alice", "grant-l", "add grant", map[string]string{"access/l.yaml": "l: 1\n"})
	if _, err := e.c.PutCheckRun(ctx, ghapi.CheckRun{Name: "jit/validate", HeadSHA: head, Status: "completed", Conclusion: "success", Title: "ok", Summary: "ok"}); err != nil {
		t.Fatal(err)
	}
	lost := &lostAnswer{base: httpDefault(), method: "PUT", path: "/merge", n: 1}
	c := e.client(t, func(cfg *ghapi.Config) { cfg.Transport = lost })
	sha, err := c.Merge(ctx, n, head, "Merge grant l", "")
	if err != nil {
		t.Fatalf("Merge whose answer was lost = %v, want the merge found", err)
	}
	if prs := e.srv.PullRequests("access"); prs[0].MergeCommitSHA != sha {
		t.Errorf("Merge = %s, want the merge commit %s", sha, prs[0].MergeCommitSHA)
	}
	if got := e.count("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"); got != 1 {
		t.Errorf("%d merge requests, want 1 (no blind retry)", got)
	}
}
