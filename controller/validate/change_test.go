package validate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/gittest"
	"github.com/jitops/jit/controller/validate"
)

var t0 = gittest.Start

// setup makes main with the governing files and a live prod grant, merged
// through a pull request, then a pull request branch "pr" off main that
// applies files (empty value deletes).
func setup(t *testing.T, files map[string]string) (*gittest.Repo, *history.Repo) {
	t.Helper()
	g := gittest.New(t)
	base := g.Commit("main", "admin", "governance", t0, tree(nil))
	req := g.Commit("req-1", "carol", "request", t0.Add(time.Hour), map[string]string{"access/prod/carol-inc-1.yaml": strings.Replace(prodGrant, "alice", "carol", 1)}, base)
	g.Commit("main", "jit[bot]", "Merge pull request #1", t0.Add(2*time.Hour), nil, base, req)
	if files != nil {
		g.Commit("pr", "alice", "change", t0.Add(3*time.Hour), files, g.Head("main"))
	}
	h, err := history.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return g, h
}

func change(t *testing.T, h *history.Repo, author string) validate.Report {
	t.Helper()
	r, err := validate.Change(validate.ChangeInput{Repo: h, Base: "main", Head: "pr", Author: author})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestChangeAddGrant(t *testing.T) {
	_, h := setup(t, map[string]string{"access/prod/alice-inc-1234.yaml": prodGrant})
	r := change(t, h, "alice")
	if !r.Valid {
		t.Fatalf("want valid, got:\n%s", problemLines(r))
	}
	if len(r.Grants) != 1 || r.Grants[0].ID != "prod/alice-inc-1234" || r.Grants[0].Change != "added" || r.Grants[0].ApprovalsRequired != 1 {
		t.Errorf("grants = %+v", r.Grants)
	}
}

func TestChangeProblems(t *testing.T) {
	carol := strings.Replace(prodGrant, "alice", "carol", 1)
	tests := map[string]struct {
		files  map[string]string
		author string
		want   string
	}{
		"requester is not the author": {map[string]string{"access/prod/bob.yaml": prodGrant}, "bob",
			"access/prod/bob.yaml:2:12: requester alice is not the pull request author bob"},
		"access with policy change": {map[string]string{"access/prod/a.yaml": prodGrant, "policies/prod.hcl": strings.Replace(governing["policies/prod.hcl"], "4h", "400h", 1)}, "alice",
			"policies/prod.hcl:0:0: a pull request that changes access/ may not change governing files"},
		"access with CODEOWNERS change": {map[string]string{"access/prod/a.yaml": prodGrant, ".github/CODEOWNERS": "* @alice\n"}, "alice",
			".github/CODEOWNERS:0:0: a pull request that changes access/ may not change governing files"},
		"access with root CODEOWNERS added": {map[string]string{"access/prod/a.yaml": prodGrant, "CODEOWNERS": "* @alice\n"}, "alice",
			"CODEOWNERS:0:0: a pull request that changes access/ may not change governing files"},
		"access with template change": {map[string]string{"access/prod/a.yaml": prodGrant, "templates/pg/extra.tf": "# x\n"}, "alice",
			"templates/pg/extra.tf:0:0: a pull request that changes access/ may not change governing files"},
		"access with other file": {map[string]string{"access/prod/a.yaml": prodGrant, "README.md": "x"}, "alice",
			"README.md:0:0: a pull request that changes access/ may not change anything else"},
		"edit of a live grant": {map[string]string{"access/prod/carol-inc-1.yaml": strings.Replace(carol, "database: orders", "database: payments", 1)}, "carol",
			"access/prod/carol-inc-1.yaml:6:1: scope of an existing grant may not change; only duration may be edited"},
		"edit of reason": {map[string]string{"access/prod/carol-inc-1.yaml": strings.Replace(carol, "Investigate", "Look at", 1)}, "carol",
			"access/prod/carol-inc-1.yaml:4:9: reason of an existing grant may not change"},
		"extension over the cap": {map[string]string{"access/prod/carol-inc-1.yaml": strings.Replace(carol, "2h", "6h", 1)}, "carol",
			"access/prod/carol-inc-1.yaml:3:11: duration 6h exceeds the max_duration of 4h"},
		"extension by someone else": {map[string]string{"access/prod/carol-inc-1.yaml": strings.Replace(carol, "2h", "3h", 1)}, "mallory",
			"access/prod/carol-inc-1.yaml:2:12: requester carol is not the pull request author mallory; a extension must be opened"},
		"comment-only edit": {map[string]string{"access/prod/carol-inc-1.yaml": "# hi\n" + carol}, "carol",
			"access/prod/carol-inc-1.yaml:1:1: the grant changed but its duration did not"},
		"symlink grant": {map[string]string{"access/prod/link.yaml": gittest.Symlink + "../../README.md"}, "alice",
			"access/prod/link.yaml:1:1: symbolic links are not allowed under access/"},
		"non-grant file": {map[string]string{"access/prod/notes.txt": "hello"}, "alice",
			"access/prod/notes.txt:1:1: grant files end in .yaml"},
		"bad name": {map[string]string{"access/prod/my grant.yaml": prodGrant}, "alice",
			`access/prod/my grant.yaml:1:1: path segment "my grant" is not allowed`},
		"policy violation judged by base": {map[string]string{"access/prod/a.yaml": strings.Replace(prodGrant, "ticket: INC-1234\n", "", 1)}, "alice",
			"access/prod/a.yaml:1:1: policy prod (policies/prod.hcl:1) requires a ticket"},
		"hostile yaml": {map[string]string{"access/prod/a.yaml": "a: &a [x, x]\nb: &b [*a, *a]\n"}, "alice",
			"access/prod/a.yaml:1:4: anchors (&a) are not allowed"},
		"broken governing PR": {map[string]string{"policies/prod.hcl": "policy \"prod\" {\n"}, "",
			"policies/prod.hcl:1:15: Unclosed configuration block"},
		"governing PR breaks CODEOWNERS": {map[string]string{".github/CODEOWNERS": "/access/ @acme/dba\n!/access/x @y\n"}, "",
			".github/CODEOWNERS:2:1: "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, h := setup(t, tc.files)
			r := change(t, h, tc.author)
			if r.Valid {
				t.Fatalf("want invalid, got valid with grants %+v", r.Grants)
			}
			wantProblem(t, r, tc.want)
		})
	}
}

func TestChangeAllowed(t *testing.T) {
	carol := strings.Replace(prodGrant, "alice", "carol", 1)
	tests := map[string]struct {
		files  map[string]string
		author string
		change string
	}{
		"extension":               {map[string]string{"access/prod/carol-inc-1.yaml": strings.Replace(carol, "2h", "4h", 1)}, "carol", "extended"},
		"shortening":              {map[string]string{"access/prod/carol-inc-1.yaml": strings.Replace(carol, "2h", "1h", 1)}, "carol", "shortened"},
		"early revocation":        {map[string]string{"access/prod/carol-inc-1.yaml": ""}, "carol", "deleted"},
		"revocation by an owner":  {map[string]string{"access/prod/carol-inc-1.yaml": ""}, "dba-dan", "deleted"},
		"author case-insensitive": {map[string]string{"access/prod/alice-2.yaml": prodGrant}, "Alice", "added"},
		"governing-only PR":       {map[string]string{"policies/prod.hcl": strings.Replace(governing["policies/prod.hcl"], "4h", "2h", 1)}, "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, h := setup(t, tc.files)
			r := change(t, h, tc.author)
			if !r.Valid {
				t.Fatalf("want valid, got:\n%s", problemLines(r))
			}
			if tc.change == "" {
				if len(r.Grants) != 0 {
					t.Errorf("grants = %+v, want none", r.Grants)
				}
				return
			}
			if len(r.Grants) != 1 || r.Grants[0].Change != tc.change {
				t.Errorf("grants = %+v, want one %s", r.Grants, tc.change)
			}
		})
	}
}

// TestChangeNoResurrection: a grant id that existed on main (even if since
// deleted) can never be added again.
func TestChangeNoResurrection(t *testing.T) {
	g, h := setup(t, nil)
	g.Commit("main", "jit[bot]", "expire", t0.Add(3*time.Hour), map[string]string{"access/prod/carol-inc-1.yaml": ""})
	g.Commit("pr", "carol", "again", t0.Add(4*time.Hour), map[string]string{"access/prod/carol-inc-1.yaml": strings.Replace(prodGrant, "alice", "carol", 1)}, g.Head("main"))
	r := change(t, h, "carol")
	if r.Valid || len(r.Problems) != 1 || !strings.Contains(r.Problems[0].Message, "grant id prod/carol-inc-1 already existed on the base branch") {
		t.Errorf("want one resurrection problem, got:\n%s", problemLines(r))
	}
}

// TestChangeUsesBaseGovernance: rules come from the base revision, not from
// the pull request's merge base or head. Main tightened the policy after the
// branch was cut; the stricter rule applies.
func TestChangeUsesBaseGovernance(t *testing.T) {
	g, h := setup(t, map[string]string{"access/prod/alice-inc-1234.yaml": strings.Replace(prodGrant, "2h", "3h", 1)})
	if r := change(t, h, "alice"); !r.Valid {
		t.Fatalf("3h should be valid under the 4h cap:\n%s", problemLines(r))
	}
	g.Commit("main", "security", "tighten", t0.Add(5*time.Hour), map[string]string{"policies/prod.hcl": strings.Replace(governing["policies/prod.hcl"], "\"4h\"", "\"2h\"", 1)})
	r := change(t, h, "alice")
	if r.Valid || !strings.Contains(problemLines(r), "duration 3h exceeds the max_duration of 2h") {
		t.Errorf("want the base branch's 2h cap applied, got:\n%s", problemLines(r))
	}
}

func TestChangeUnknownRevision(t *testing.T) {
	_, h := setup(t, nil)
	_, err := validate.Change(validate.ChangeInput{Repo: h, Base: "main", Head: "no-such-branch"})
	if err == nil || !strings.Contains(err.Error(), `resolving revision "no-such-branch"`) {
		t.Errorf("err = %v", err)
	}
}
