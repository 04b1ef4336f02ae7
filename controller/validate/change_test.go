package validate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/grant"
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

var ctx = context.Background()

// change validates branch pr against main, the default branch, by author.
func change(t *testing.T, h *history.Repo, author string) validate.Report {
	t.Helper()
	return changeIn(t, validate.ChangeInput{Repo: h, Base: "main", Head: "pr", DefaultBranch: "main", BaseRef: "main", Author: author})
}

func changeIn(t *testing.T, in validate.ChangeInput) validate.Report {
	t.Helper()
	r, err := validate.Change(ctx, in)
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
			"access/prod/carol-inc-1.yaml:6:1: scope of a live grant cannot be edited: grants are immutable apart from duration; restore it, and open a new request for the change instead"},
		"edit of reason": {map[string]string{"access/prod/carol-inc-1.yaml": strings.Replace(carol, "Investigate", "Look at", 1)}, "carol",
			"access/prod/carol-inc-1.yaml:4:9: reason of a live grant cannot be edited: grants are immutable apart from duration; restore it, and open a new request for the change instead"},
		"extension over the cap": {map[string]string{"access/prod/carol-inc-1.yaml": strings.Replace(carol, "2h", "6h", 1)}, "carol",
			"access/prod/carol-inc-1.yaml:3:11: duration 6h exceeds the max_duration of 4h"},
		"extension by someone else": {map[string]string{"access/prod/carol-inc-1.yaml": strings.Replace(carol, "2h", "3h", 1)}, "mallory",
			"access/prod/carol-inc-1.yaml:2:12: requester carol is not the pull request author mallory; an extension must be opened by the person it is for"},
		"comment-only edit": {map[string]string{"access/prod/carol-inc-1.yaml": "# hi\n" + carol}, "carol",
			"access/prod/carol-inc-1.yaml:1:1: the grant file changed but what it says did not; only its duration may be edited (an extension or a shortening), so revert the change"},
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
		"broken governing PR": {map[string]string{"policies/prod.hcl": "policy \"prod\" {\n"}, "alice",
			"policies/prod.hcl:1:15: Unclosed configuration block"},
		"governing PR breaks CODEOWNERS": {map[string]string{".github/CODEOWNERS": "/access/ @acme/dba\n!/access/x @y\n"}, "alice",
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
		"author case-insensitive": {map[string]string{"access/prod/alice-2.yaml": prodGrant}, "Alice", "added"},
		"governing-only PR":       {map[string]string{"policies/prod.hcl": strings.Replace(governing["policies/prod.hcl"], "4h", "2h", 1)}, "alice", ""},
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
	if r.Valid || len(r.Problems) != 1 || !strings.Contains(r.Problems[0].Message, "grant id prod/carol-inc-1 already existed on the default branch") {
		t.Errorf("want one resurrection problem, got:\n%s", problemLines(r))
	}
}

// TestChangeUsesDefaultBranchGovernance: rules come from the default
// branch's tip, not from the pull request's merge base or head. Main
// tightened the policy after the branch was cut; the stricter rule applies.
func TestChangeUsesDefaultBranchGovernance(t *testing.T) {
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
	for name, tc := range map[string]struct {
		in   validate.ChangeInput
		want string
	}{
		"unknown head":           {validate.ChangeInput{Head: "no-such-branch"}, `resolving revision "no-such-branch"`},
		"no author":              {validate.ChangeInput{Author: "-"}, "the pull request author is required"},
		"no default branch":      {validate.ChangeInput{DefaultBranch: "-"}, "the default branch is required"},
		"unknown default branch": {validate.ChangeInput{DefaultBranch: "trunk"}, "default branch trunk: neither refs/heads/trunk nor refs/remotes/origin/trunk exists"},
	} {
		t.Run(name, func(t *testing.T) {
			in := validate.ChangeInput{Repo: h, Base: "main", Head: "main", DefaultBranch: "main", Author: "alice"}
			if tc.in.Head != "" {
				in.Head = tc.in.Head
			}
			if tc.in.Author == "-" {
				in.Author = ""
			}
			switch tc.in.DefaultBranch {
			case "-":
				in.DefaultBranch = ""
			case "":
			default:
				in.DefaultBranch = tc.in.DefaultBranch
			}
			_, err := validate.Change(ctx, in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// carolGrant is the live grant setup merges: requester carol, under
// access/prod/ (owned by @acme/dba, policy prod).
var carolGrant = grant.GrantChange{ID: "prod/carol-inc-1", File: "access/prod/carol-inc-1.yaml", Kind: grant.Deleted, Requester: "carol",
	Requirements: grant.Requirements{Policies: []string{"prod"}, Approvals: 1}, Owners: []string{"@acme/dba"}}

// TestChangeDeletionReported replaces a test that passed for any author: a
// deletion is valid and reported with its requester, its owners and the
// covering policies' requirements, whoever deletes it; whether it needs
// approval is grant.Decide's call. (The old code reported 0 approvals
// required for every deletion.)
func TestChangeDeletionReported(t *testing.T) {
	for _, author := range []string{"carol", "dba-dan", "mallory"} {
		t.Run(author, func(t *testing.T) {
			_, h := setup(t, map[string]string{"access/prod/carol-inc-1.yaml": ""})
			r := change(t, h, author)
			if !r.Valid {
				t.Fatalf("want valid, got:\n%s", problemLines(r))
			}
			if diff := cmp.Diff([]grant.GrantChange{carolGrant}, r.Change.Grants); diff != "" {
				t.Errorf("change (-want +got):\n%s", diff)
			}
			want := []validate.Grant{{ID: "prod/carol-inc-1", File: "access/prod/carol-inc-1.yaml", Template: "pg", Requester: "carol", DurationSeconds: 7200,
				Reason: "Investigate stuck orders", Ticket: "INC-1234", Scope: map[string]any{"database": "orders"},
				Change: "deleted", Policies: []string{"prod"}, ApprovalsRequired: 1, EligibleApprovers: []string{"@acme/dba"}}}
			if diff := cmp.Diff(want, r.Grants); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChangeDeletionWithBrokenGovernance: broken CODEOWNERS or policies on
// the default branch never make a pull request that only deletes grants
// invalid. Deleting your own grant stays possible; anyone else's deletion is
// reported with no owners (approval nobody can give).
func TestChangeDeletionWithBrokenGovernance(t *testing.T) {
	for name, broken := range map[string]map[string]string{
		"CODEOWNERS": {".github/CODEOWNERS": "/access/prod/ @acme/dba\n/x/ not-an-owner\n"},
		"policies":   {"policies/prod.hcl": "policy \"prod\" {\n  paths = 1\n}\n"},
		"template":   {"templates/pg/main.tf": "resource {"},
	} {
		for _, author := range []string{"carol", "mallory"} {
			t.Run(name+"/"+author, func(t *testing.T) {
				g, h := setup(t, nil)
				g.Commit("main", "admin", "break governance", t0.Add(3*time.Hour), broken)
				g.Commit("pr", author, "revoke", t0.Add(4*time.Hour), map[string]string{"access/prod/carol-inc-1.yaml": ""}, g.Head("main"))
				r := change(t, h, author)
				if !r.Valid {
					t.Fatalf("a deletion-only pull request must stay valid, got:\n%s", problemLines(r))
				}
				if len(r.Change.Grants) != 1 {
					t.Fatalf("grants = %+v", r.Change.Grants)
				}
				gc := r.Change.Grants[0]
				if gc.Kind != grant.Deleted || gc.Requester != "carol" || gc.Requirements.Approvals < 1 {
					t.Errorf("grant change = %+v, want a deletion by requester carol needing approval", gc)
				}
				if name != "template" && len(gc.Owners) != 0 {
					t.Errorf("owners = %v; while governance is broken nobody may approve a deletion", gc.Owners)
				}
			})
		}
	}
	// The same broken CODEOWNERS still fails a request.
	g, h := setup(t, nil)
	g.Commit("main", "admin", "break governance", t0.Add(3*time.Hour), map[string]string{".github/CODEOWNERS": "/access/prod/ @acme/dba\n/x/ not-an-owner\n"})
	g.Commit("pr", "alice", "request", t0.Add(4*time.Hour), map[string]string{"access/prod/alice-2.yaml": prodGrant}, g.Head("main"))
	wantProblem(t, change(t, h, "alice"), "access/prod/alice-2.yaml:1:1: nobody is eligible to approve while .github/CODEOWNERS has errors")
}

// TestChangeMustTargetDefaultBranch: a pull request against branch lax,
// whose CODEOWNERS and policies are permissive, is judged by main's rules
// and rejected for its target.
func TestChangeMustTargetDefaultBranch(t *testing.T) {
	g, h := setup(t, nil)
	lax := g.Commit("lax", "mallory", "loosen", t0.Add(3*time.Hour), map[string]string{
		".github/CODEOWNERS": "* @mallory\n",
		"policies/prod.hcl":  "policy \"prod\" {\n  paths = [\"access/**\"]\n  templates = [\"pg\"]\n  max_duration = \"1000h\"\n  approvals = 0\n}\n",
	}, g.Head("main"))
	grantText := strings.Replace(strings.Replace(prodGrant, "alice", "mallory", 1), "2h", "100h", 1)
	g.Commit("pr", "mallory", "request", t0.Add(4*time.Hour), map[string]string{"access/prod/mallory-1.yaml": grantText}, lax)

	r := changeIn(t, validate.ChangeInput{Repo: h, Base: "lax", Head: "pr", DefaultBranch: "main", BaseRef: "lax", Author: "mallory"})
	if r.Valid {
		t.Fatalf("a pull request against lax was valid: %+v", r.Grants)
	}
	wantProblem(t, r, "access/prod/mallory-1.yaml:0:0: pull requests that change access/ must target the default branch main, not lax; retarget it")
	wantProblem(t, r, "access/prod/mallory-1.yaml:3:11: duration 100h exceeds the max_duration of 4h set by policy prod")
	if len(r.Grants) != 1 || strings.Join(r.Grants[0].EligibleApprovers, ",") != "@acme/dba" || r.Grants[0].ApprovalsRequired != 1 {
		t.Errorf("grants = %+v, want main's owners and approvals", r.Grants)
	}

	// Without the base ref's name, the base must lie on main.
	r = changeIn(t, validate.ChangeInput{Repo: h, Base: "lax", Head: "pr", DefaultBranch: "main", Author: "mallory"})
	wantProblem(t, r, "access/prod/mallory-1.yaml:0:0: the pull request's base is not on the default branch main")
	g.Commit("pr2", "alice", "request", t0.Add(4*time.Hour), map[string]string{"access/prod/alice-2.yaml": prodGrant}, g.Head("main"))
	if r := changeIn(t, validate.ChangeInput{Repo: h, Base: "main", Head: "pr2", DefaultBranch: "main", Author: "alice"}); !r.Valid {
		t.Errorf("a pull request based on main's tip, without a base ref: %s", problemLines(r))
	}
	first, err := h.Resolve("main~1")
	if err != nil {
		t.Fatal(err)
	}
	g.Commit("pr3", "alice", "request", t0.Add(4*time.Hour), map[string]string{"access/prod/alice-3.yaml": prodGrant}, plumbing.NewHash(first))
	if r := changeIn(t, validate.ChangeInput{Repo: h, Base: first, Head: "pr3", DefaultBranch: "main", Author: "alice"}); !r.Valid {
		t.Errorf("a pull request based on an ancestor of main, without a base ref: %s", problemLines(r))
	}
	if r := changeIn(t, validate.ChangeInput{Repo: h, Base: "main", Head: "pr2", DefaultBranch: "main", BaseRef: "refs/heads/main", Author: "alice"}); !r.Valid {
		t.Errorf("base ref refs/heads/main: %s", problemLines(r))
	}
}

// TestChangeDefaultBranchFromOrigin: in a clone that has no local main (as
// in a CI checkout), the default branch is origin/main.
func TestChangeDefaultBranchFromOrigin(t *testing.T) {
	g, h := setup(t, map[string]string{"access/prod/alice-2.yaml": prodGrant})
	setRef(t, g, "refs/remotes/origin/trunk", g.Head("main"))
	r := changeIn(t, validate.ChangeInput{Repo: h, Base: "origin/trunk", Head: "pr", DefaultBranch: "trunk", BaseRef: "trunk", Author: "alice"})
	if !r.Valid || len(r.Grants) != 1 {
		t.Errorf("want valid with one grant, got %+v:\n%s", r.Grants, problemLines(r))
	}
}

// TestChangeGitattributes: .gitattributes is governing everywhere, and its
// content is checked whenever it changes, and on main for access changes.
func TestChangeGitattributes(t *testing.T) {
	hide := "access/** -diff linguist-generated=true\n"
	tests := map[string]struct {
		main, pr map[string]string
		author   string
		want     string // "" for valid
	}{
		"changed alone": {nil, map[string]string{".gitattributes": hide}, "mallory",
			`.gitattributes:1:1: pattern "access/**" could apply to access/x`},
		"harmless attributes alone": {nil, map[string]string{".gitattributes": "/assets/**/*.png binary\n"}, "mallory", ""},
		"nested, changed alone": {nil, map[string]string{"access/prod/.gitattributes": "*.yaml -diff\n"}, "mallory",
			`access/prod/.gitattributes:1:1: pattern "*.yaml" could apply to access/prod/x.yaml`},
		"with a grant": {nil, map[string]string{".gitattributes": hide, "access/prod/alice-2.yaml": prodGrant}, "alice",
			".gitattributes:0:0: a pull request that changes access/ may not change governing files"},
		"under access/ with a grant": {nil, map[string]string{"access/prod/.gitattributes": "# only a comment\n", "access/prod/alice-2.yaml": prodGrant}, "alice",
			"access/prod/.gitattributes:0:0: a pull request that changes access/ may not change governing files"},
		"symlink": {nil, map[string]string{".gitattributes": gittest.Symlink + "README.md"}, "mallory",
			".gitattributes:1:1: .gitattributes must be a regular file"},
		"on main, grant added": {map[string]string{"docs/.gitattributes": hide}, map[string]string{"access/prod/alice-2.yaml": prodGrant}, "alice",
			`docs/.gitattributes:1:1: on the default branch: pattern "access/**" could apply to docs/access/.gitattributes`},
		"on main, own grant deleted": {map[string]string{"docs/.gitattributes": hide}, map[string]string{"access/prod/carol-inc-1.yaml": ""}, "carol", ""},
		"comments only":              {nil, map[string]string{".gitattributes": "# nothing\n\n"}, "mallory", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g, h := setup(t, nil)
			if tc.main != nil {
				g.Commit("main", "admin", "attributes", t0.Add(3*time.Hour), tc.main)
			}
			g.Commit("pr", tc.author, "change", t0.Add(4*time.Hour), tc.pr, g.Head("main"))
			r := change(t, h, tc.author)
			if tc.want == "" {
				if !r.Valid {
					t.Errorf("want valid, got:\n%s", problemLines(r))
				}
				return
			}
			if r.Valid {
				t.Fatalf("want invalid, got valid with %+v", r.Grants)
			}
			wantProblem(t, r, tc.want)
		})
	}
}

// TestChangeExtensionOfExpiredGrant: the branch was cut while carol's grant
// was live; main has expired it since. Extending it would bring it back.
func TestChangeExtensionOfExpiredGrant(t *testing.T) {
	g, h := setup(t, map[string]string{"access/prod/carol-inc-1.yaml": strings.Replace(strings.Replace(prodGrant, "alice", "carol", 1), "2h", "3h", 1)})
	g.Commit("main", "jit[bot]", "expire", t0.Add(5*time.Hour), map[string]string{"access/prod/carol-inc-1.yaml": ""})
	r := change(t, h, "carol")
	wantProblem(t, r, "access/prod/carol-inc-1.yaml:1:1: this grant is no longer on the default branch main (it expired or was revoked), so it cannot be extended")
}
