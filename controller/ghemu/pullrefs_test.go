package ghemu_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/ghemutest"
)

// TestPullHeadRef checks refs/pull/N/head as GitHub keeps it: created when
// the pull request opens, moved with its head branch (git push, the refs
// API, the contents API, update-branch), kept after close and merge,
// fetchable over smart HTTP and refused to pushes and to the refs API.
func TestPullHeadRef(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	srv := ghemutest.NewServer(t, testSeed(""))
	alice := client(t, srv, "alice")

	dir := filepath.Join(t.TempDir(), "clone")
	git(t, "", "clone", "--quiet", cloneURL(srv, "alice", srv.Token("alice"), "acme", "access"), dir)
	commit := func(name string) string {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		git(t, dir, "add", "-A")
		git(t, dir, "commit", "--quiet", "-m", "add "+name)
		return git(t, dir, "rev-parse", "HEAD")
	}
	// pullHead reads refs/pull/N/head as a client does: over smart HTTP.
	pullHead := func(n string) string {
		t.Helper()
		out := git(t, dir, "ls-remote", "origin", "refs/pull/"+n+"/head")
		sha, _, _ := strings.Cut(out, "\t")
		return sha
	}
	git(t, dir, "checkout", "--quiet", "-b", "feature")
	pushed := commit("a.txt")
	git(t, dir, "push", "--quiet", "origin", "feature")
	if got := pullHead("1"); got != "" {
		t.Fatalf("refs/pull/1/head exists before any pull request: %s", got)
	}
	pr := must[*github.PullRequest](t, "open")(alice.PullRequests.Create(ctx, "acme", "access",
		&github.NewPullRequest{Title: github.String("feature"), Head: github.String("feature"), Base: github.String("main")}))
	if got := pullHead("1"); got != pushed {
		t.Fatalf("after open: refs/pull/1/head = %q, want %s", got, pushed)
	}

	// git push moves it.
	pushed = commit("b.txt")
	git(t, dir, "push", "--quiet", "origin", "feature")
	if got := pullHead("1"); got != pushed {
		t.Fatalf("after a push: refs/pull/1/head = %q, want %s", got, pushed)
	}
	// The refs API moves it.
	pushed = commit("c.txt")
	git(t, dir, "push", "--quiet", "origin", "HEAD:refs/heads/side")
	must[*github.Reference](t, "update ref")(alice.Git.UpdateRef(ctx, "acme", "access",
		&github.Reference{Ref: github.String("refs/heads/feature"), Object: &github.GitObject{SHA: github.String(pushed)}}, false))
	if got := pullHead("1"); got != pushed {
		t.Fatalf("after a refs API update: refs/pull/1/head = %q, want %s", got, pushed)
	}
	// The contents API moves it.
	res := must[*github.RepositoryContentResponse](t, "contents")(alice.Repositories.CreateFile(ctx, "acme", "access", "d.txt",
		&github.RepositoryContentFileOptions{Message: github.String("d"), Content: []byte("d\n"), Branch: github.String("feature")}))
	if got := pullHead("1"); got != res.GetSHA() {
		t.Fatalf("after a contents API commit: refs/pull/1/head = %q, want %s", got, res.GetSHA())
	}
	// update-branch moves it.
	if _, err := srv.Commit(ctx, "access", ghemu.Change{Branch: "main", Author: "bob", Message: "e", Files: map[string]string{"e.txt": "e\n"}}); err != nil {
		t.Fatal(err)
	}
	_, _, err := alice.PullRequests.UpdateBranch(ctx, "acme", "access", pr.GetNumber(), nil)
	var accepted *github.AcceptedError
	if !errors.As(err, &accepted) {
		t.Fatalf("update-branch: %v", err)
	}
	head := must[*github.PullRequest](t, "get")(alice.PullRequests.Get(ctx, "acme", "access", 1)).GetHead().GetSHA()
	if got := pullHead("1"); got != head || head == res.GetSHA() {
		t.Fatalf("after update-branch: refs/pull/1/head = %q, want the new head %s", got, head)
	}

	// Closed: kept where it was, and no longer moves with the branch.
	must[*github.PullRequest](t, "close")(alice.PullRequests.Edit(ctx, "acme", "access", 1, &github.PullRequest{State: github.String("closed")}))
	git(t, dir, "pull", "--quiet", "--no-rebase", "origin", "feature")
	commit("f.txt")
	git(t, dir, "push", "--quiet", "origin", "feature")
	if got := pullHead("1"); got != head {
		t.Fatalf("after close and a push: refs/pull/1/head = %q, want it kept at %s", got, head)
	}

	// Merged: kept.
	git(t, dir, "checkout", "--quiet", "-b", "merged", "origin/main")
	mergedHead := commit("g.txt")
	git(t, dir, "push", "--quiet", "origin", "merged")
	must[*github.PullRequest](t, "open 2")(alice.PullRequests.Create(ctx, "acme", "access",
		&github.NewPullRequest{Title: github.String("merged"), Head: github.String("merged"), Base: github.String("main")}))
	must[*github.PullRequestMergeResult](t, "merge")(alice.PullRequests.Merge(ctx, "acme", "access", 2, "", nil))
	if _, err := alice.Git.DeleteRef(ctx, "acme", "access", "heads/merged"); err != nil {
		t.Fatal(err)
	}
	if got := pullHead("2"); got != mergedHead {
		t.Fatalf("after merge and branch deletion: refs/pull/2/head = %q, want %s", got, mergedHead)
	}

	// Fetchable with the usual refspec.
	git(t, dir, "fetch", "--quiet", "origin", "+refs/pull/*/head:refs/pull/*/head")
	if got := git(t, dir, "rev-parse", "refs/pull/1/head", "refs/pull/2/head"); got != head+"\n"+mergedHead {
		t.Fatalf("fetched pull heads = %q, want %s and %s", got, head, mergedHead)
	}

	// Never pushable: receive-pack denies the hidden ref, as on GitHub.
	for _, tc := range []struct{ spec, want string }{
		{"HEAD:refs/pull/1/head", "refs/pull/1/head (deny updating a hidden ref)"},
		{"+HEAD:refs/pull/1/head", "refs/pull/1/head (deny updating a hidden ref)"},
		{"HEAD:refs/pull/9/head", "refs/pull/9/head (deny updating a hidden ref)"},
		{":refs/pull/2/head", "refs/pull/2/head (deny deleting a hidden ref)"},
	} {
		out, err := tryGit(dir, "push", "origin", tc.spec)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("push %s: err %v, output %q; want it refused with %q", tc.spec, err, out, tc.want)
		}
	}
	if got := pullHead("1"); got != head {
		t.Errorf("refused pushes moved refs/pull/1/head to %q", got)
	}
	// Nor writable through the refs API.
	_, resp, err := alice.Git.UpdateRef(ctx, "acme", "access",
		&github.Reference{Ref: github.String("refs/pull/1/head"), Object: &github.GitObject{SHA: github.String(mergedHead)}}, true)
	wantErr(t, "PATCH refs/pull/1/head", resp, err, 422, "Reference update failed")
	_, _, err = alice.Git.CreateRef(ctx, "acme", "access",
		&github.Reference{Ref: github.String("refs/pull/9/head"), Object: &github.GitObject{SHA: github.String(mergedHead)}})
	if err == nil || !strings.Contains(err.Error(), "Reference update failed") {
		t.Errorf("POST refs/pull/9/head: %v, want 422 Reference update failed", err)
	}
	resp, err = alice.Git.DeleteRef(ctx, "acme", "access", "pull/2/head")
	wantErr(t, "DELETE refs/pull/2/head", resp, err, 422, "Reference update failed")
	if got := pullHead("2"); got != mergedHead {
		t.Errorf("refs/pull/2/head = %q after refused writes, want %s", got, mergedHead)
	}
}
