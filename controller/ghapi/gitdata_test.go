package ghapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu"
)

const (
	getRef    = "GET /repos/{owner}/{repo}/git/ref/{ref}"
	getCommit = "GET /repos/{owner}/{repo}/git/commits/{commit_sha}"
)

// tipAndTree returns branch's tip and the tip's tree, as the App's mirror knows them.
func (e *env) tipAndTree(t *testing.T, branch string) (string, string) {
	t.Helper()
	tip, err := e.c.BranchTip(context.Background(), branch)
	if err != nil {
		t.Fatal(err)
	}
	return tip, e.gitCommit(t, tip).GetTree().GetSHA()
}

// gitCommit reads commit sha as alice sees it.
func (e *env) gitCommit(t *testing.T, sha string) *github.Commit {
	t.Helper()
	cm, _, err := e.srv.Client("alice").Git.GetCommit(context.Background(), "acme", "access", sha)
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

func TestWriteCommitAt(t *testing.T) {
	ctx := context.Background()
	record := func(parents *[]string) func(string) (string, error) {
		return func(parent string) (string, error) {
			*parents = append(*parents, parent)
			return "jit: record\n\nJit-Parent: " + parent + "\n", nil
		}
	}
	t.Run("a right hint reads nothing", func(t *testing.T) {
		e := newEnv(t)
		tip, tree := e.tipAndTree(t, "main")
		e.srv.ResetRequests()
		var parents []string
		sha, err := e.c.WriteCommitAt(ctx, "main", []string{"jit/validate"}, tip, tree, record(&parents))
		if err != nil {
			t.Fatal(err)
		}
		var routes []string
		for _, r := range e.srv.APIRequests() {
			routes = append(routes, r.Route)
		}
		want := []string{"POST /repos/{owner}/{repo}/git/commits", "POST /repos/{owner}/{repo}/check-runs", "PATCH /repos/{owner}/{repo}/git/refs/{ref}"}
		if d := cmp.Diff(want, routes); d != "" {
			t.Errorf("requests (-want +got):\n%s", d)
		}
		now, nowTree := e.tipAndTree(t, "main")
		if now != sha || nowTree != tree || !cmp.Equal(parents, []string{tip}) {
			t.Errorf("main at %s with tree %s after writing %s on %v, want the record on %s keeping tree %s", now, nowTree, sha, parents, tip, tree)
		}
	})
	t.Run("a stale hint falls back to the real tip and its tree", func(t *testing.T) {
		e := newEnv(t)
		stale, staleTree := e.tipAndTree(t, "main")
		moved, err := e.srv.Commit(ctx, "access", ghemu.Change{Author: "bob", Message: "meanwhile", Files: map[string]string{"access/m.yaml": "m: 1\n"}})
		if err != nil {
			t.Fatal(err)
		}
		_, movedTree := e.tipAndTree(t, "main")
		var parents []string
		sha, err := e.c.WriteCommitAt(ctx, "main", []string{"jit/validate"}, stale, staleTree, record(&parents))
		if err != nil {
			t.Fatal(err)
		}
		now, nowTree := e.tipAndTree(t, "main")
		if now != sha || !cmp.Equal(parents, []string{stale, moved}) {
			t.Errorf("main at %s after writing %s on parents %v, want it on [%s %s]", now, sha, parents, stale, moved)
		}
		if nowTree != movedTree {
			t.Errorf("record commit's tree %s, want the new tip's %s (the stale tree would undo bob's commit)", nowTree, movedTree)
		}
	})
	t.Run("the ref moves between the hint and the write", func(t *testing.T) {
		e := newEnv(t)
		first, err := e.srv.Commit(ctx, "access", ghemu.Change{Branch: "records", Author: "alice", Message: "start", Files: map[string]string{"x": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		tip, tree := e.tipAndTree(t, "records")
		var parents []string
		var moved string
		sha, err := e.c.WriteCommitAt(ctx, "records", nil, tip, tree, func(parent string) (string, error) {
			if len(parents) == 0 { // someone pushes while we write
				var err error
				if moved, err = e.srv.Commit(ctx, "access", ghemu.Change{Branch: "records", Author: "bob", Message: "meanwhile", Files: map[string]string{"x": "2"}}); err != nil {
					return "", err
				}
			}
			return record(&parents)(parent)
		})
		if err != nil {
			t.Fatal(err)
		}
		movedTree := e.gitCommit(t, moved).GetTree().GetSHA()
		if cm := e.gitCommit(t, sha); !cmp.Equal(parents, []string{first, moved}) || len(cm.Parents) != 1 || cm.Parents[0].GetSHA() != moved || cm.GetTree().GetSHA() != movedTree {
			t.Errorf("record commit on %v with tree %s (message asked for parents %v), want it on %s with its tree %s (parents [%s %s])",
				cm.Parents, cm.GetTree().GetSHA(), parents, moved, movedTree, first, moved)
		}
		if got := e.obs.statuses("PATCH /repos/{owner}/{repo}/git/refs/{ref}"); !cmp.Equal(got, []int{422, 200}) {
			t.Errorf("ref updates observed %v, want [422 200]", got)
		}
	})
	t.Run("protection's 422 on the hinted tip is not retried", func(t *testing.T) {
		e := newEnv(t)
		tip, tree := e.tipAndTree(t, "main")
		_, err := e.c.WriteCommitAt(ctx, "main", nil, tip, tree, func(string) (string, error) { return "jit: record", nil })
		if status(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "jit/validate") {
			t.Errorf("WriteCommitAt without checks on protected main = %v, want protection's 422", err)
		}
		if n := e.count("POST /repos/{owner}/{repo}/git/commits"); n != 1 {
			t.Errorf("%d commits made, want 1", n)
		}
	})
	t.Run("a bad hint is refused before any request", func(t *testing.T) {
		e := newEnv(t)
		tip, tree := e.tipAndTree(t, "main")
		e.srv.ResetRequests()
		for name, h := range map[string][2]string{
			"short tip": {tip[:12], tree}, "no tree": {tip, ""}, "upper case": {strings.ToUpper(tip), tree}, "tree with a path": {tip, tree[:38] + "/x"},
		} {
			_, err := e.c.WriteCommitAt(ctx, "main", nil, h[0], h[1], func(string) (string, error) { return "m", nil })
			if err == nil || !strings.Contains(err.Error(), "must both be 40 lower-case hex digits; call WriteCommit when they are unknown") {
				t.Errorf("%s: WriteCommitAt = %v, want the hint refused", name, err)
			}
		}
		if n := len(e.srv.APIRequests()); n != 0 {
			t.Errorf("%d requests, want none", n)
		}
	})
}
