package change_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/internal/changetest"
)

var (
	prod    = changetest.ProdGrant
	carol   = strings.Replace(changetest.ProdGrant, "alice", "carol", 1)
	staging = changetest.StagingGrant
	t0      = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
)

func text(s string) change.Blob {
	return change.Blob{Exists: true, Size: int64(len(s)), Data: []byte(s)}
}

func added(p, content string) change.File {
	return change.File{Path: p, Action: change.Added, New: text(content)}
}

func deleted(p, content string) change.File {
	return change.File{Path: p, Action: change.Deleted, Old: text(content)}
}

func modified(p, old, cur string) change.File {
	return change.File{Path: p, Action: change.Modified, Old: text(old), New: text(cur)}
}

// snapshot is a pull request by author against main whose default branch
// holds the fixture's governing files, live grants prod/carol-1 and
// staging/bob-1, and mainFiles, and where grant id prod/carol-old once
// existed.
func snapshot(author string, mainFiles map[string]string, files ...change.File) change.Snapshot {
	if mainFiles == nil {
		mainFiles = map[string]string{}
	}
	// The live grants extensions edit.
	for _, f := range []string{"access/prod/carol-1.yaml", "access/staging/bob-1.yaml"} {
		if _, ok := mainFiles[f]; !ok {
			mainFiles[f] = "live"
		}
	}
	return change.Snapshot{
		Files:         files,
		Default:       changetest.MapFS(changetest.Tree(mainFiles)),
		Head:          changetest.MapFS(changetest.Tree(mainFiles)),
		Ever:          map[string]change.Appearance{"prod/carol-old": {Commit: strings.Repeat("ab", 20), When: t0}},
		Author:        author,
		DefaultBranch: "main",
		BaseRef:       "main",
	}
}

var (
	prodReqs = grant.Requirements{Policies: []string{"prod"}, MaxDuration: 4 * time.Hour, Approvals: 1}
	bgReqs   = grant.Requirements{Policies: []string{"prod"}, MaxDuration: time.Hour, Approvals: 0, ReviewWindow: 24 * time.Hour}
	dba      = []string{"@acme/dba"}
)

func TestClassify(t *testing.T) {
	tests := map[string]struct {
		snap     change.Snapshot
		grants   []grant.GrantChange
		problems []string // "file:line:col: substring", all of them
	}{
		"request": {snap: snapshot("alice", nil, added("access/prod/alice-1.yaml", prod)),
			grants: []grant.GrantChange{{ID: "prod/alice-1", File: "access/prod/alice-1.yaml", Kind: grant.Added, Requester: "alice", Requirements: prodReqs, Owners: dba}}},
		"break-glass request": {snap: snapshot("alice", nil, added("access/prod/alice-1.yaml", strings.Replace(prod, "2h", "1h\nbreak_glass: true", 1))),
			grants: []grant.GrantChange{{ID: "prod/alice-1", File: "access/prod/alice-1.yaml", Kind: grant.Added, Requester: "alice", BreakGlass: true,
				Requirements: grant.Requirements{Policies: []string{"prod"}, MaxDuration: time.Hour, ReviewWindow: 24 * time.Hour}, Owners: dba}}},
		"extension": {snap: snapshot("carol", nil, modified("access/prod/carol-1.yaml", carol, strings.Replace(carol, "2h", "3h", 1))),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Extended, Requester: "carol", Requirements: prodReqs, Owners: dba}}},
		"shortening": {snap: snapshot("carol", nil, modified("access/prod/carol-1.yaml", carol, strings.Replace(carol, "2h", "1h", 1))),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Shortened, Requester: "carol", Requirements: prodReqs, Owners: dba}}},
		"deletion by the requester": {snap: snapshot("carol", nil, deleted("access/prod/carol-1.yaml", carol)),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Deleted, Requester: "carol",
				Requirements: grant.Requirements{Policies: []string{"prod"}, Approvals: 1}, Owners: dba}}},
		"deletion by someone else": {snap: snapshot("mallory", nil, deleted("access/staging/bob-1.yaml", staging)),
			grants: []grant.GrantChange{{ID: "staging/bob-1", File: "access/staging/bob-1.yaml", Kind: grant.Deleted, Requester: "bob",
				Requirements: grant.Requirements{Policies: []string{"staging"}, Approvals: 1}, Owners: []string{"@acme/dba", "@acme/developers"}}}},
		"deletion of a break-glass grant needs an approval": {snap: snapshot("mallory", nil, deleted("access/prod/carol-1.yaml", strings.Replace(carol, "2h", "1h\nbreak_glass: true", 1))),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Deleted, Requester: "carol", BreakGlass: true,
				Requirements: grant.Requirements{Policies: []string{"prod"}, Approvals: 1}, Owners: dba}}},
		"deletion under strict policies": {snap: snapshot("mallory", map[string]string{"policies/strict.hcl": "policy \"strict\" {\n  paths = [\"access/prod/**\"]\n  templates = [\"pg\"]\n  max_duration = \"1h\"\n  approvals = 2\n  approvers = [\"@acme/leads\"]\n}\n"},
			deleted("access/prod/carol-1.yaml", carol)),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Deleted, Requester: "carol",
				Requirements: grant.Requirements{Policies: []string{"prod", "strict"}, Approvals: 2, ApproverSets: [][]string{{"@acme/leads"}}}, Owners: dba}}},
		"deletion under no policy": {snap: snapshot("mallory", nil, deleted("access/dev/carol-1.yaml", carol)),
			grants: []grant.GrantChange{{ID: "dev/carol-1", File: "access/dev/carol-1.yaml", Kind: grant.Deleted, Requester: "carol",
				Requirements: grant.Requirements{Policies: []string{}, Approvals: 1}, Owners: []string{}}}},
		"deletion of a file that never parsed": {snap: snapshot("mallory", nil, deleted("access/prod/junk.yaml", "not: [a grant")),
			grants: []grant.GrantChange{{ID: "prod/junk", File: "access/prod/junk.yaml", Kind: grant.Deleted,
				Requirements: grant.Requirements{Policies: []string{"prod"}, Approvals: 1}, Owners: dba}}},
		"deletion with broken CODEOWNERS": {snap: snapshot("carol", map[string]string{".github/CODEOWNERS": "/access/ @acme/dba\n/x/ not-an-owner\n"}, deleted("access/prod/carol-1.yaml", carol)),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Deleted, Requester: "carol",
				Requirements: grant.Requirements{Policies: []string{"prod"}, Approvals: 1}, Owners: []string{}}}},
		"deletion with broken policies": {snap: snapshot("mallory", map[string]string{"policies/prod.hcl": "policy \"prod\" {\n"}, deleted("access/prod/carol-1.yaml", carol)),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Deleted, Requester: "carol",
				Requirements: grant.Requirements{Policies: []string{}, Approvals: 1}, Owners: []string{}}}},
		"deletions of non-grants": {snap: snapshot("mallory", nil, deleted("access/prod/README.md", "hi"), deleted("access/prod/notes.txt", "n"),
			change.File{Path: "access/prod/link.yaml", Action: change.Deleted, Old: change.Blob{Exists: true, Symlink: true, Size: 3, Data: []byte("x/y")}})},
		"README edit": {snap: snapshot("mallory", nil, modified("access/README.md", "a", "b"))},

		"resurrection": {snap: snapshot("carol", nil, added("access/prod/carol-old.yaml", carol)),
			grants:   []grant.GrantChange{{ID: "prod/carol-old", File: "access/prod/carol-old.yaml", Kind: grant.Added, Requester: "carol", Requirements: prodReqs, Owners: dba}},
			problems: []string{"access/prod/carol-old.yaml:1:1: grant id prod/carol-old already existed on the default branch (added in commit abababababab at 2026-01-05T09:00:00Z)"}},
		"ever existed unknown": {snap: func() change.Snapshot {
			s := snapshot("alice", nil, added("access/prod/alice-1.yaml", prod))
			s.Ever = nil
			return s
		}(),
			grants:   []grant.GrantChange{{ID: "prod/alice-1", File: "access/prod/alice-1.yaml", Kind: grant.Added, Requester: "alice", Requirements: prodReqs, Owners: dba}},
			problems: []string{"access/prod/alice-1.yaml:1:1: the grant ids that ever existed on the default branch are unknown"}},
		"author unknown": {snap: snapshot("", nil, added("access/prod/alice-1.yaml", prod)),
			grants:   []grant.GrantChange{{ID: "prod/alice-1", File: "access/prod/alice-1.yaml", Kind: grant.Added, Requester: "alice", Requirements: prodReqs, Owners: dba}},
			problems: []string{"access/prod/alice-1.yaml:2:12: the pull request author is unknown, so requester alice cannot be checked"}},
		"requester is not the author": {snap: snapshot("bob", nil, added("access/prod/alice-1.yaml", prod)),
			grants:   []grant.GrantChange{{ID: "prod/alice-1", File: "access/prod/alice-1.yaml", Kind: grant.Added, Requester: "alice", Requirements: prodReqs, Owners: dba}},
			problems: []string{"access/prod/alice-1.yaml:2:12: requester alice is not the pull request author bob; a request must be opened"}},
		"oversized grant": {snap: snapshot("alice", nil, change.File{Path: "access/prod/a.yaml", Action: change.Added, New: change.Blob{Exists: true, Size: 70000}}),
			problems: []string{"access/prod/a.yaml:1:1: file is 70000 bytes; grant files may be at most 65536 bytes"}},
		"content not gathered": {snap: snapshot("alice", nil, change.File{Path: "access/prod/a.yaml", Action: change.Added, New: change.Blob{Exists: true, Size: 10}}),
			problems: []string{"access/prod/a.yaml:0:0: the file's content was not read"}},
		"symlink added": {snap: snapshot("alice", nil, change.File{Path: "access/prod/a.yaml", Action: change.Added, New: change.Blob{Exists: true, Symlink: true, Size: 3, Data: []byte("../x")}}),
			problems: []string{"access/prod/a.yaml:1:1: symbolic links are not allowed under access/"}},
		"submodule added": {snap: snapshot("alice", nil, change.File{Path: "access/prod/sub", Action: change.Added, New: change.Blob{Exists: true, Special: true}}),
			problems: []string{"access/prod/sub:1:1: only regular files may live under access/"}},
		"edit of a grant that never parsed": {snap: snapshot("carol", nil, modified("access/prod/carol-1.yaml", "junk: 1\n", carol)),
			problems: []string{"access/prod/carol-1.yaml:1:1: this grant was not valid before the change"}},
		"extension of an expired grant": {snap: snapshot("carol", map[string]string{"access/prod/carol-1.yaml": ""}, modified("access/prod/carol-1.yaml", carol, strings.Replace(carol, "2h", "3h", 1))),
			problems: []string{"access/prod/carol-1.yaml:1:1: this grant is no longer on the default branch main (it expired or was revoked)"}},
		"edit of the scope": {snap: snapshot("carol", nil, modified("access/prod/carol-1.yaml", carol, strings.Replace(carol, "database: orders", "database: payments", 1))),
			problems: []string{"access/prod/carol-1.yaml:6:1: scope of a live grant cannot be edited: grants are immutable apart from duration; restore it, and open a new request for the change instead"}},

		// Only a duration change is an extension: an edit of reason alone is
		// refused, at reason:, and judged as nothing else.
		"edit of the reason alone": {snap: snapshot("carol", nil, modified("access/prod/carol-1.yaml", carol, strings.Replace(carol, "stuck orders", "orders", 1))),
			problems: []string{"access/prod/carol-1.yaml:4:9: reason of a live grant cannot be edited: grants are immutable apart from duration; restore it, and open a new request for the change instead"}},
		"extension by another author": {snap: snapshot("bob", nil, modified("access/prod/carol-1.yaml", carol, strings.Replace(carol, "2h", "3h", 1))),
			grants:   []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Extended, Requester: "carol", Requirements: prodReqs, Owners: dba}},
			problems: []string{"access/prod/carol-1.yaml:2:12: requester carol is not the pull request author bob; an extension must be opened by the person it is for"}},
		// A new grant with wrong fields is still judged by the policies and
		// the template: all its problems at once.
		"added grant with several problems": {snap: snapshot("alice", nil, added("access/prod/alice-1.yaml", strings.NewReplacer("2h", "2 h", "INC-1234", "nope", "orders", "Orders!").Replace(prod))),
			problems: []string{
				`access/prod/alice-1.yaml:3:11: duration "2 h" is not a duration; write hours and minutes such as 2h, 90m or 1h30m`,
				`access/prod/alice-1.yaml:5:9: ticket "nope" does not match ^[A-Z]+-[0-9]+$ required by policy prod (policies/prod.hcl:1)`,
				`access/prod/alice-1.yaml:7:13: scope.database: `}},
		"adds and deletes together": {snap: snapshot("carol", nil, added("access/prod/carol-2.yaml", carol), deleted("access/prod/carol-1.yaml", carol)),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Deleted, Requester: "carol",
				Requirements: grant.Requirements{Policies: []string{"prod"}, Approvals: 1}, Owners: dba},
				{ID: "prod/carol-2", File: "access/prod/carol-2.yaml", Kind: grant.Added, Requester: "carol", Requirements: prodReqs, Owners: dba}},
			problems: []string{"access/prod/carol-2.yaml:0:0: this pull request both deletes and adds or edits grants (access/prod/carol-1.yaml and access/prod/carol-2.yaml); a pull request may only add grants or only delete them: split it in two"}},
		"two durations": {snap: snapshot("alice", nil, added("access/prod/alice-1.yaml", prod), added("access/prod/alice-2.yaml", strings.Replace(prod, "2h", "3h", 1))),
			grants: []grant.GrantChange{{ID: "prod/alice-1", File: "access/prod/alice-1.yaml", Kind: grant.Added, Requester: "alice", Requirements: prodReqs, Owners: dba},
				{ID: "prod/alice-2", File: "access/prod/alice-2.yaml", Kind: grant.Added, Requester: "alice", Requirements: prodReqs, Owners: dba}},
			problems: []string{"access/prod/alice-2.yaml:0:0: the grants of one pull request must share one duration (access/prod/alice-1.yaml asks 2h, access/prod/alice-2.yaml asks 3h)"}},
		"two grants one duration": {snap: snapshot("alice", nil, added("access/prod/alice-1.yaml", prod), added("access/prod/alice-2.yaml", prod)),
			grants: []grant.GrantChange{{ID: "prod/alice-1", File: "access/prod/alice-1.yaml", Kind: grant.Added, Requester: "alice", Requirements: prodReqs, Owners: dba},
				{ID: "prod/alice-2", File: "access/prod/alice-2.yaml", Kind: grant.Added, Requester: "alice", Requirements: prodReqs, Owners: dba}}},
		"break-glass with a regular grant": {snap: snapshot("alice", nil, added("access/prod/alice-1.yaml", strings.Replace(prod, "2h", "1h", 1)), added("access/prod/alice-2.yaml", strings.Replace(prod, "2h", "1h\nbreak_glass: true", 1))),
			grants: []grant.GrantChange{{ID: "prod/alice-1", File: "access/prod/alice-1.yaml", Kind: grant.Added, Requester: "alice", Requirements: prodReqs, Owners: dba},
				{ID: "prod/alice-2", File: "access/prod/alice-2.yaml", Kind: grant.Added, Requester: "alice", BreakGlass: true, Requirements: bgReqs, Owners: dba}},
			problems: []string{"access/prod/alice-2.yaml:0:0: break-glass and regular grants cannot share a pull request"}},
		"access and governing": {snap: snapshot("alice", nil, added("access/prod/alice-1.yaml", prod), added("policies/x.hcl", "# x\n")),
			grants:   []grant.GrantChange{{ID: "prod/alice-1", File: "access/prod/alice-1.yaml", Kind: grant.Added, Requester: "alice", Requirements: prodReqs, Owners: dba}},
			problems: []string{"policies/x.hcl:0:0: a pull request that changes access/ may not change governing files"}},
		"deletion and other file": {snap: snapshot("carol", nil, deleted("access/prod/carol-1.yaml", carol), added("README.md", "x")),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Deleted, Requester: "carol",
				Requirements: grant.Requirements{Policies: []string{"prod"}, Approvals: 1}, Owners: dba}},
			problems: []string{"README.md:0:0: a pull request that changes access/ may not change anything else"}},
		"wrong target": {snap: func() change.Snapshot {
			s := snapshot("carol", nil, deleted("access/prod/carol-1.yaml", carol))
			s.BaseRef = "refs/heads/lax"
			return s
		}(),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Deleted, Requester: "carol",
				Requirements: grant.Requirements{Policies: []string{"prod"}, Approvals: 1}, Owners: dba}},
			problems: []string{"access/prod/carol-1.yaml:0:0: pull requests that change access/ must target the default branch main, not lax; retarget it"}},
		"base off the default branch": {snap: func() change.Snapshot {
			s := snapshot("carol", nil, deleted("access/prod/carol-1.yaml", carol))
			s.BaseRef = ""
			return s
		}(),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Deleted, Requester: "carol",
				Requirements: grant.Requirements{Policies: []string{"prod"}, Approvals: 1}, Owners: dba}},
			problems: []string{"access/prod/carol-1.yaml:0:0: the pull request's base is not on the default branch main"}},
		"base on the default branch": {snap: func() change.Snapshot {
			s := snapshot("carol", nil, deleted("access/prod/carol-1.yaml", carol))
			s.BaseRef, s.BaseOnDefault = "", true
			return s
		}(),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Deleted, Requester: "carol",
				Requirements: grant.Requirements{Policies: []string{"prod"}, Approvals: 1}, Owners: dba}}},

		"broken governing files fail requests": {snap: snapshot("alice", map[string]string{"templates/pg/main.tf": "resource {"}, added("access/prod/alice-1.yaml", prod)),
			grants:   []grant.GrantChange{{ID: "prod/alice-1", File: "access/prod/alice-1.yaml", Kind: grant.Added, Requester: "alice", Requirements: prodReqs, Owners: dba}},
			problems: []string{"access/prod/alice-1.yaml:1:11: template pg has errors", "templates/pg/main.tf:1:10: "}},
		"attributes on main fail requests": {snap: snapshot("alice", map[string]string{"access/.gitattributes": "*.yaml -diff\n"}, added("access/prod/alice-1.yaml", prod)),
			grants:   []grant.GrantChange{{ID: "prod/alice-1", File: "access/prod/alice-1.yaml", Kind: grant.Added, Requester: "alice", Requirements: prodReqs, Owners: dba}},
			problems: []string{`access/.gitattributes:1:1: on the default branch: pattern "*.yaml" could apply to access/`}},
		"attributes on main leave deletions to the requester": {snap: snapshot("carol", map[string]string{"access/.gitattributes": "*.yaml -diff\n"}, deleted("access/prod/carol-1.yaml", carol)),
			grants: []grant.GrantChange{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Kind: grant.Deleted, Requester: "carol",
				Requirements: grant.Requirements{Policies: []string{"prod"}, Approvals: 1}, Owners: []string{}}}},

		"attributes alone": {snap: snapshot("mallory", nil, added(".gitattributes", "access/** -diff linguist-generated=true\n")),
			problems: []string{`.gitattributes:1:1: pattern "access/**" could apply to access/`}},
		"attributes over the size limit": {snap: snapshot("mallory", nil, change.File{Path: "x/.gitattributes", Action: change.Added, New: change.Blob{Exists: true, Size: 200 << 10}}),
			problems: []string{"x/.gitattributes:1:1: file is 204800 bytes; jit checks .gitattributes files of at most 102400 bytes"}},
		"attributes deleted": {snap: snapshot("mallory", nil, deleted(".gitattributes", "* -diff\n"))},
		"governing change checked at the head": {snap: func() change.Snapshot {
			s := snapshot("mallory", nil, modified("policies/prod.hcl", "x", "policy \"prod\" {\n"))
			s.Head = changetest.MapFS(changetest.Tree(map[string]string{"policies/prod.hcl": "policy \"prod\" {\n"}))
			return s
		}(),
			problems: []string{"policies/prod.hcl:1:15: Unclosed configuration block"}},
		"other files only": {snap: snapshot("mallory", nil, added("README.md", "x"))},
		"no default tree": {snap: func() change.Snapshot {
			s := snapshot("carol", nil, deleted("access/prod/carol-1.yaml", carol))
			s.Default = nil
			return s
		}(),
			problems: []string{"access/prod/carol-1.yaml:0:0: the default branch's tree was not provided"}},
		"no head tree": {snap: func() change.Snapshot {
			s := snapshot("mallory", nil, added("policies/x.hcl", "# x\n"))
			s.Head = nil
			return s
		}(),
			problems: []string{"policies/x.hcl:0:0: the pull request's head tree was not provided"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := change.Classify(tc.snap)
			if diff := cmp.Diff(tc.grants, res.Change.Grants); diff != "" {
				t.Errorf("grants (-want +got):\n%s", diff)
			}
			if len(res.Summaries) != len(res.Change.Grants) {
				t.Errorf("%d summaries for %d grants", len(res.Summaries), len(res.Change.Grants))
			}
			for i, s := range res.Summaries {
				if g := res.Change.Grants[i]; s.ID != g.ID || s.Change != string(g.Kind) || s.Requester != g.Requester ||
					s.ApprovalsRequired != g.Requirements.Approvals || !cmp.Equal(s.EligibleApprovers, g.Owners) {
					t.Errorf("summary %+v does not match grant %+v", s, g)
				}
			}
			if len(res.Change.Problems) != len(tc.problems) {
				t.Errorf("%d problems, want %d:\n%s", len(res.Change.Problems), len(tc.problems), lines(res.Change.Problems))
			}
			for _, want := range tc.problems {
				if !hasProblem(res.Change.Problems, want) {
					t.Errorf("want a problem %q, got:\n%s", want, lines(res.Change.Problems))
				}
			}
		})
	}
}

// TestClassifyDeletionSummary checks what reviewers see of a deletion.
func TestClassifyDeletionSummary(t *testing.T) {
	res := change.Classify(snapshot("mallory", nil, deleted("access/prod/carol-1.yaml", carol)))
	want := []change.Summary{{ID: "prod/carol-1", File: "access/prod/carol-1.yaml", Template: "pg", Requester: "carol", DurationSeconds: 7200,
		Reason: "Investigate stuck orders", Ticket: "INC-1234", Scope: map[string]any{"database": "orders"},
		Change: "deleted", Policies: []string{"prod"}, ApprovalsRequired: 1, EligibleApprovers: []string{"@acme/dba"}}}
	if diff := cmp.Diff(want, res.Summaries); diff != "" {
		t.Errorf("summaries (-want +got):\n%s", diff)
	}
}

func TestIsGoverning(t *testing.T) {
	for p, want := range map[string][2]bool{ // {IsAccess, IsGoverning}
		"access/prod/a.yaml":         {true, false},
		"access/README.md":           {true, false},
		"access/prod/.gitattributes": {false, true},
		".gitattributes":             {false, true},
		"docs/deep/.gitattributes":   {false, true},
		".github/CODEOWNERS":         {false, true},
		"CODEOWNERS":                 {false, true},
		"docs/CODEOWNERS":            {false, true},
		".github/jit-signers":        {false, true},
		"policies/x.hcl":             {false, true},
		"templates/pg/main.tf":       {false, true},
		"README.md":                  {false, false},
		"accessories/x":              {false, false},
		"x.gitattributes":            {false, false},
	} {
		if got := [2]bool{change.IsAccess(p), change.IsGoverning(p)}; got != want {
			t.Errorf("%s: IsAccess, IsGoverning = %v, want %v", p, got, want)
		}
	}
}

// FuzzClassify: whatever a pull request's grant files hold, Classify
// neither panics nor accepts a change whose added grant does not parse.
func FuzzClassify(f *testing.F) {
	f.Add([]byte(prod), []byte(carol))
	f.Add([]byte("a: &a [x]\n"), []byte(""))
	f.Add([]byte("template: pg\n"), []byte("\xff"))
	gov := changetest.MapFS(changetest.Governing)
	f.Fuzz(func(t *testing.T, cur, old []byte) {
		files := []change.File{
			{Path: "access/prod/a.yaml", Action: change.Added, New: change.Blob{Exists: true, Size: int64(len(cur)), Data: cur}},
			{Path: "access/prod/b.yaml", Action: change.Modified, Old: change.Blob{Exists: true, Size: int64(len(old)), Data: old}, New: change.Blob{Exists: true, Size: int64(len(cur)), Data: cur}},
			{Path: "access/prod/c.yaml", Action: change.Deleted, Old: change.Blob{Exists: true, Size: int64(len(old)), Data: old}},
		}
		res := change.Classify(change.Snapshot{Files: files, Default: gov, Head: fstest.MapFS{}, Ever: map[string]change.Appearance{}, Author: "alice", DefaultBranch: "main", BaseRef: "main"})
		if len(res.Summaries) != len(res.Change.Grants) {
			t.Fatalf("%d summaries for %d grants", len(res.Summaries), len(res.Change.Grants))
		}
		if len(res.Change.Grants) < 1 || res.Change.Grants[len(res.Change.Grants)-1].Kind != grant.Deleted {
			t.Errorf("the deletion of c.yaml is not reported: %+v", res.Change.Grants)
		}
	})
}

func hasProblem(ps []grant.Problem, want string) bool {
	i := strings.Index(want, ": ")
	for _, p := range ps {
		s := p.String()
		if strings.HasPrefix(s, want[:i]+":") && strings.Contains(s, want[i+2:]) {
			return true
		}
	}
	return false
}

func lines(ps []grant.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}
