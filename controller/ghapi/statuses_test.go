package ghapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/ghemu"
)

const statusRoute = "POST /repos/{owner}/{repo}/statuses/{sha}"

func TestCreateStatus(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sha, err := e.c.BranchTip(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 200)
	tests := map[string]struct {
		sha  string
		in   ghapi.Status
		want ghemu.Status // what GitHub holds afterwards
		err  string       // "" for none
		sent bool         // a request was made
	}{
		"flag a commit": {sha: sha, sent: true,
			in:   ghapi.Status{Context: "jit/trust", State: "failure", Description: "access/x.yaml has no verified decision", TargetURL: "https://jit.example.com/x"},
			want: ghemu.Status{Context: "jit/trust", State: "failure", Description: "access/x.yaml has no verified decision", TargetURL: "https://jit.example.com/x", Creator: "jit[bot]"}},
		"no target URL": {sha: sha, sent: true,
			in:   ghapi.Status{Context: "jit/trust", State: "success"},
			want: ghemu.Status{Context: "jit/trust", State: "success", Creator: "jit[bot]"}},
		"description cut to 140 characters": {sha: sha, sent: true,
			in:   ghapi.Status{Context: "jit/trust", State: "pending", Description: long},
			want: ghemu.Status{Context: "jit/trust", State: "pending", Description: strings.Repeat("é", 139) + "…", Creator: "jit[bot]"}},
		"exactly 140 is kept": {sha: sha, sent: true,
			in:   ghapi.Status{Context: "jit/trust", State: "error", Description: long[:280]},
			want: ghemu.Status{Context: "jit/trust", State: "error", Description: long[:280], Creator: "jit[bot]"}},
		"unknown state":        {sha: sha, in: ghapi.Status{Context: "jit/trust", State: "failed"}, err: `Status.State "failed" is none of error, failure, pending, success`},
		"no context":           {sha: sha, in: ghapi.Status{State: "failure"}, err: "Status.Context is empty"},
		"short sha":            {sha: sha[:7], in: ghapi.Status{Context: "jit/trust", State: "failure"}, err: "is not 40 lower-case hex digits"},
		"sha with a path":      {sha: sha[:38] + "/x", in: ghapi.Status{Context: "jit/trust", State: "failure"}, err: "is not 40 lower-case hex digits"},
		"script target URL":    {sha: sha, in: ghapi.Status{Context: "jit/trust", State: "failure", TargetURL: "javascript:alert(1)"}, err: "is not an absolute http(s) URL"},
		"relative target URL":  {sha: sha, in: ghapi.Status{Context: "jit/trust", State: "failure", TargetURL: "/x"}, err: "is not an absolute http(s) URL"},
		"no such commit (422)": {sha: strings.Repeat("a", 40), in: ghapi.Status{Context: "jit/trust", State: "failure"}, err: "GitHub answered 422", sent: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before, held := e.count(statusRoute), len(e.srv.Statuses("access", tc.sha))
			err := e.c.CreateStatus(ctx, tc.sha, tc.in)
			if sent := e.count(statusRoute) > before; sent != tc.sent {
				t.Errorf("request sent: %t, want %t", sent, tc.sent)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("CreateStatus = %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sts := e.srv.Statuses("access", tc.sha)
			if len(sts) != held+1 {
				t.Fatalf("%d statuses on the commit, want %d", len(sts), held+1)
			}
			if d := cmp.Diff(tc.want, sts[len(sts)-1]); d != "" {
				t.Errorf("status held (-want +got):\n%s", d)
			}
			if n := utf8.RuneCountInString(sts[len(sts)-1].Description); n > 140 {
				t.Errorf("description of %d characters, GitHub keeps 140", n)
			}
		})
	}
}

const (
	commentsRoute = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
	listComments  = "GET /repos/{owner}/{repo}/issues/{issue_number}/comments"
)

func TestComment(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n, _ := e.openPR(t, "alice", "grant-c", "add grant", map[string]string{"access/c.yaml": "c: 1\n"})
	first, err := e.c.Comment(ctx, n, "<!-- jit:credentials 1 -->\nsecret one")
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.c.Comment(ctx, n, "<!-- jit:credentials 2 -->\nsecret two")
	if err != nil {
		t.Fatal(err)
	}
	if first == second {
		t.Errorf("two bodies share comment id %d, want two comments", first)
	}
	if got := e.count(listComments); got != 0 {
		t.Errorf("%d lists on the happy path, want none", got)
	}
	want := []ghemu.Comment{
		{ID: first, User: "jit[bot]", Body: "<!-- jit:credentials 1 -->\nsecret one"},
		{ID: second, User: "jit[bot]", Body: "<!-- jit:credentials 2 -->\nsecret two"},
	}
	if d := cmp.Diff(want, e.srv.Comments("access", n)); d != "" {
		t.Errorf("comments (-want +got):\n%s", d)
	}
	if _, err := e.c.Comment(ctx, n, " \n"); err == nil || !strings.Contains(err.Error(), "the body is empty") {
		t.Errorf("an empty body = %v, want refused", err)
	}
}

func TestCommentUnclearAnswer(t *testing.T) {
	const body = "<!-- jit:credentials 7 -->\nhere"
	tests := map[string]struct {
		lost     int                                // answers replaced by a 502 after the comment was made
		attempts int                                // Retry.Attempts
		fail     int                                // 502s GitHub answers without effect
		calls    int                                // calls of Comment until one succeeds
		statuses []int                              // POST comments observed (a lost answer is seen as its 502)
		before   func(t *testing.T, e *env, pr int) // someone else's comment first
	}{
		"502 without effect: sent again": {fail: 1, attempts: 5, calls: 1, statuses: []int{502, 201}},
		"502 after the comment was made": {lost: 1, attempts: 5, calls: 1, statuses: []int{502}},
		"caller's own retry finds it":    {lost: 1, attempts: 1, calls: 2, statuses: []int{502}},
		"another user's twin is not ours": {lost: 1, attempts: 1, calls: 2, statuses: []int{502}, before: func(t *testing.T, e *env, pr int) {
			if _, _, err := e.srv.Client("alice").Issues.CreateComment(context.Background(), "acme", "access", pr, &github.IssueComment{Body: github.String(body)}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			pr, _ := e.openPR(t, "alice", "grant-u", "add grant", map[string]string{"access/u.yaml": "u: 1\n"})
			if tc.before != nil {
				tc.before(t, e, pr)
			}
			e.srv.FailNext(commentsRoute, tc.fail, http.StatusBadGateway)
			c := e.client(t, func(cfg *ghapi.Config) {
				cfg.Retry.Attempts = tc.attempts
				cfg.Transport = &lostAnswer{base: httpDefault(), method: "POST", path: fmt.Sprintf("/issues/%d/comments", pr), n: tc.lost}
			})
			var id int64
			var err error
			for i := range tc.calls {
				id, err = c.Comment(context.Background(), pr, body)
				if i < tc.calls-1 && err == nil {
					t.Fatalf("call %d succeeded, want the lost answer's error", i+1)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			var ours []ghemu.Comment
			for _, cm := range e.srv.Comments("access", pr) {
				if cm.User == "jit[bot]" {
					ours = append(ours, cm)
				}
			}
			if len(ours) != 1 || ours[0].ID != id || ours[0].Body != body {
				t.Errorf("the App's comments %+v, want exactly one, id %d", ours, id)
			}
			if got := e.obs.statuses(commentsRoute); !cmp.Equal(got, tc.statuses) {
				t.Errorf("creates observed %v, want %v", got, tc.statuses)
			}
		})
	}
}
