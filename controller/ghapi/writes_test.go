package ghapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/grant"
)

const (
	createRun = "POST /repos/{owner}/{repo}/check-runs"
	updateRun = "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}"
	listRuns  = "GET /repos/{owner}/{repo}/commits/{ref}/check-runs"
)

func TestPutCheckRun(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, head := e.openPR(t, "alice", "grant-k", "add grant", map[string]string{"access/k.yaml": "k: 1\n"})
	cr := ghapi.CheckRun{Name: "jit/validate", HeadSHA: head, Status: "in_progress", Title: "checking", Summary: "…"}
	id, err := e.c.PutCheckRun(ctx, cr)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := e.c.PutCheckRun(ctx, cr); err != nil || again != id {
		t.Fatalf("unchanged PutCheckRun = %d, %v, want %d", again, err, id)
	}
	// A second name on the same sha: the one listing serves it too.
	if _, err := e.c.PutCheckRun(ctx, ghapi.CheckRun{Name: "jit/decision", HeadSHA: head, Status: "in_progress", Title: "t", Summary: "s"}); err != nil {
		t.Fatal(err)
	}
	cr.Status, cr.Conclusion, cr.Summary = "completed", "failure", "access/k.yaml is wrong"
	if got, err := e.c.PutCheckRun(ctx, cr); err != nil || got != id {
		t.Fatalf("changed PutCheckRun = %d, %v, want an update of %d", got, err, id)
	}
	want := map[string]int{listRuns: 1, createRun: 2, updateRun: 1}
	for route, n := range want {
		if got := e.count(route); got != n {
			t.Errorf("%s: %d requests, want %d", route, got, n)
		}
	}

	// A restart: the new process finds the run and updates it.
	c2 := e.client(t, nil)
	cr.Conclusion, cr.Summary = "success", "fine"
	got, err := c2.PutCheckRun(ctx, cr)
	if err != nil || got != id {
		t.Fatalf("PutCheckRun after a restart = %d, %v, want an update of %d", got, err, id)
	}
	if n := e.count(createRun); n != 2 {
		t.Errorf("%d creates after the restart, want still 2", n)
	}
	runs := e.srv.CheckRuns("access", head)
	var names []string
	for _, r := range runs {
		names = append(names, r.Name+"="+r.Status+"/"+r.Conclusion)
		if r.Name == "jit/validate" && (r.ID != id || r.Summary != "fine") {
			t.Errorf("run %+v, want id %d with the latest summary", r, id)
		}
	}
	if len(runs) != 2 {
		t.Errorf("check runs on the head: %v, want one per name", names)
	}
}

func TestPutCheckRunManyAnnotations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, head := e.openPR(t, "alice", "grant-n", "add grant", map[string]string{"access/n.yaml": "n: 1\n"})
	var as []ghapi.Annotation
	for i := 1; i <= 120; i++ {
		as = append(as, ghapi.Annotation{Path: "access/n.yaml", StartLine: i, StartColumn: 1, EndColumn: 3, Level: "failure", Message: fmt.Sprint("problem ", i)})
	}
	long := strings.Repeat("é", 40000) // 80000 bytes
	_, err := e.c.PutCheckRun(ctx, ghapi.CheckRun{Name: "jit/validate", HeadSHA: head, Status: "completed", Conclusion: "failure",
		Title: "120 problems", Summary: long, Annotations: as})
	if err != nil {
		t.Fatal(err)
	}
	if c, u := e.count(createRun), e.count(updateRun); c != 1 || u != 2 {
		t.Errorf("%d creates and %d updates, want 1 and 2 (50+50+20 annotations)", c, u)
	}
	gh := e.srv.Client("alice")
	runs, _, err := gh.Checks.ListCheckRunsForRef(ctx, "acme", "access", head, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := runs.CheckRuns[0].GetOutput()
	if out.GetAnnotationsCount() != 120 {
		t.Errorf("annotations_count = %d, want 120", out.GetAnnotationsCount())
	}
	if s := out.GetSummary(); len(s) > 65535 || !strings.HasSuffix(s, "(truncated: GitHub keeps at most 65535 characters)") || !strings.HasPrefix(s, "éé") {
		t.Errorf("summary of %d bytes ending %q, want it truncated with a note", len(s), s[max(0, len(s)-60):])
	}
}

func TestSticky(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n, _ := e.openPR(t, "alice", "grant-s", "add grant", map[string]string{"access/s.yaml": "s: 1\n"})
	const marker = "<!-- jit:summary -->"
	// Someone else's comment with the marker is never ours to edit.
	if _, _, err := e.srv.Client("alice").Issues.CreateComment(ctx, "acme", "access", n, &github.IssueComment{Body: github.String(marker + " fake")}); err != nil {
		t.Fatal(err)
	}
	id, err := e.c.Sticky(ctx, n, marker, marker+"\npending")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := e.c.Sticky(ctx, n, marker, marker+"\npending"); err != nil || again != id {
		t.Fatalf("unchanged Sticky = %d, %v", again, err)
	}
	if got, err := e.c.Sticky(ctx, n, marker, marker+"\napproved"); err != nil || got != id {
		t.Fatalf("changed Sticky = %d, %v", got, err)
	}
	const edit = "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"
	if l, u := e.count("GET /repos/{owner}/{repo}/issues/{issue_number}/comments"), e.count(edit); l != 1 || u != 1 {
		t.Errorf("%d lists and %d edits, want 1 and 1", l, u)
	}
	c2 := e.client(t, nil)
	if got, err := c2.Sticky(ctx, n, marker, marker+"\nmerged"); err != nil || got != id {
		t.Fatalf("Sticky after a restart = %d, %v, want the existing %d", got, err, id)
	}
	var got []string
	for _, cm := range e.srv.Comments("access", n) {
		got = append(got, fmt.Sprintf("%s %t: %s", cm.User, cm.ID == id, cm.Body))
	}
	want := []string{"alice false: " + marker + " fake", "jit[bot] true: " + marker + "\nmerged"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("comments (-want +got):\n%s", d)
	}
	if _, err := e.c.Sticky(ctx, n, marker, "no marker"); err == nil || !strings.Contains(err.Error(), "must contain the marker") {
		t.Errorf("Sticky without the marker in the body = %v", err)
	}
}

func TestStickyCreateFails(t *testing.T) {
	const marker = "<!-- jit:summary -->"
	const create = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
	t.Run("502 without effect", func(t *testing.T) {
		e := newEnv(t)
		n, _ := e.openPR(t, "alice", "grant-f", "add grant", map[string]string{"access/f.yaml": "f: 1\n"})
		e.srv.FailNext(create, 1, http.StatusBadGateway)
		if _, err := e.c.Sticky(context.Background(), n, marker, marker+" hi"); err != nil {
			t.Fatal(err)
		}
		if got := len(e.srv.Comments("access", n)); got != 1 {
			t.Errorf("%d comments, want 1", got)
		}
		if got := e.obs.statuses(create); !cmp.Equal(got, []int{502, 201}) {
			t.Errorf("creates observed %v, want [502 201]", got)
		}
	})
	t.Run("502 after the comment was made", func(t *testing.T) {
		e := newEnv(t)
		n, _ := e.openPR(t, "alice", "grant-g", "add grant", map[string]string{"access/g.yaml": "g: 1\n"})
		c := e.client(t, func(cfg *ghapi.Config) {
			cfg.Transport = &lostAnswer{base: httpDefault(), method: "POST", path: fmt.Sprintf("/issues/%d/comments", n), n: 1}
		})
		id, err := c.Sticky(context.Background(), n, marker, marker+" hi")
		if err != nil {
			t.Fatal(err)
		}
		cs := e.srv.Comments("access", n)
		if len(cs) != 1 || cs[0].ID != id {
			t.Errorf("comments %+v, want exactly the one made (id %d)", cs, id)
		}
		if got := e.count(create); got != 1 {
			t.Errorf("%d creates, want 1", got)
		}
	})
}

func TestTeamMembers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const route = "GET /orgs/{org}/teams/{team_slug}/members"
	got, err := e.c.TeamMembers(ctx, "acme", "db-owners", 0)
	if err != nil || !cmp.Equal(got, []string{"bob", "dave"}) {
		t.Fatalf("TeamMembers = %v, %v, want [bob dave]", got, err)
	}
	if _, err := e.c.TeamMembers(ctx, "acme", "db-owners", 0); err != nil {
		t.Fatal(err)
	}
	if n := e.count(route); n != 2 {
		t.Errorf("maxAge 0: %d requests, want 2", n)
	}
	if err := e.srv.AddTeamMember("db-owners", "alice", "member"); err != nil {
		t.Fatal(err)
	}
	got, _ = e.c.TeamMembers(ctx, "acme", "db-owners", time.Minute)
	if n := e.count(route); n != 2 || len(got) != 2 {
		t.Errorf("maxAge 1m: %d requests and %v, want the cached answer", n, got)
	}
	got, _ = e.c.TeamMembers(ctx, "acme", "db-owners", 0)
	if len(got) != 3 {
		t.Errorf("after asking again: %v, want alice too", got)
	}
	none, err := e.c.TeamMembers(ctx, "acme", "no-such-team", 0)
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("unknown team = %#v, %v, want an empty list", none, err)
	}
}

func TestPermission(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := map[string]grant.Permission{
		"dave": grant.PermissionAdmin, "bob": grant.PermissionWrite,
		"carol": grant.PermissionRead, "nobody-here": grant.PermissionNone,
	}
	for login, want := range tests {
		got, err := e.c.Permission(ctx, login, time.Minute)
		if err != nil || got != want {
			t.Errorf("Permission(%s) = %q, %v, want %q", login, got, err, want)
		}
	}
	before := e.count("GET /repos/{owner}/{repo}/collaborators/{username}/permission")
	_, _ = e.c.Permission(ctx, "CAROL", time.Minute)
	if after := e.count("GET /repos/{owner}/{repo}/collaborators/{username}/permission"); after != before {
		t.Errorf("a cached answer asked again (%d → %d requests)", before, after)
	}
	_, _ = e.c.Permission(ctx, "carol", 0)
	if after := e.count("GET /repos/{owner}/{repo}/collaborators/{username}/permission"); after != before+1 {
		t.Errorf("maxAge 0 did not ask (%d → %d requests)", before, after)
	}
}

func TestWriteCommit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tip, err := e.c.BranchTip(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	var parents []string
	sha, err := e.c.WriteCommit(ctx, "main", []string{"jit/validate"}, func(parent string) (string, error) {
		parents = append(parents, parent)
		return "jit: record\n\nJit-Parent: " + parent + "\n", nil
	})
	if err != nil {
		t.Fatalf("WriteCommit on protected main: %v", err)
	}
	if now, _ := e.c.BranchTip(ctx, "main"); now != sha || !cmp.Equal(parents, []string{tip}) {
		t.Errorf("main at %s after writing %s on parents %v (tip was %s)", now, sha, parents, tip)
	}
	gh := e.srv.Client("alice")
	cm, _, err := gh.Git.GetCommit(ctx, "acme", "access", sha)
	if err != nil {
		t.Fatal(err)
	}
	old, _, _ := gh.Git.GetCommit(ctx, "acme", "access", tip)
	if cm.GetTree().GetSHA() != old.GetTree().GetSHA() || len(cm.Parents) != 1 || cm.Parents[0].GetSHA() != tip || cm.GetMessage() != "jit: record\n\nJit-Parent: "+tip+"\n" {
		t.Errorf("record commit %+v, want the tip's tree, the tip as its one parent and the message", cm)
	}

	t.Run("without the required check", func(t *testing.T) {
		_, err := e.c.WriteCommit(ctx, "main", nil, func(p string) (string, error) { return "jit: record", nil })
		if status(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "jit/validate") {
			t.Errorf("WriteCommit without checks on protected main = %v, want protection's 422", err)
		}
	})
}

func TestWriteCommitRace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, err := e.srv.Commit(ctx, "access", ghemu.Change{Branch: "records", Author: "alice", Message: "start", Files: map[string]string{"x": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	var parents []string
	var moved string
	sha, err := e.c.WriteCommit(ctx, "records", nil, func(parent string) (string, error) {
		parents = append(parents, parent)
		if len(parents) == 1 { // someone pushes while we write
			var err error
			moved, err = e.srv.Commit(ctx, "access", ghemu.Change{Branch: "records", Author: "bob", Message: "meanwhile", Files: map[string]string{"x": "2"}})
			if err != nil {
				return "", err
			}
		}
		return "jit: record\n\nJit-Parent: " + parent, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(parents, []string{first, moved}) {
		t.Errorf("message asked for parents %v, want [%s %s]", parents, first, moved)
	}
	cm, _, err := e.srv.Client("alice").Git.GetCommit(ctx, "acme", "access", sha)
	if err != nil {
		t.Fatal(err)
	}
	if len(cm.Parents) != 1 || cm.Parents[0].GetSHA() != moved || !strings.HasSuffix(cm.GetMessage(), moved) {
		t.Errorf("record commit on %v with message %q, want it on the new tip %s", cm.Parents, cm.GetMessage(), moved)
	}
	if tip, _ := e.c.BranchTip(ctx, "records"); tip != sha {
		t.Errorf("records at %s, want %s", tip, sha)
	}
}
