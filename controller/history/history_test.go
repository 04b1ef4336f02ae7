package history_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/gittest"
)

var (
	t0  = gittest.Start
	ctx = context.Background()
)

func open(t *testing.T, g *gittest.Repo) *history.Repo {
	t.Helper()
	h, err := history.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func resolve(t *testing.T, h *history.Repo, rev string) string {
	t.Helper()
	s, err := h.Resolve(rev)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// buildHistory makes: base commit; PR branch adding a grant, merged at t0+2h;
// a direct commit adding another grant at t0+3h; deletion of the first grant
// at t0+4h; a re-add of it at t0+5h.
func buildHistory(t *testing.T) (*gittest.Repo, *history.Repo) {
	t.Helper()
	g := gittest.New(t)
	base := g.Commit("main", "admin", "initial", t0, map[string]string{"README.md": "hi\n", "access/README.md": "grants\n"})
	pr := g.Commit("pr-1", "alice", "request access", t0.Add(time.Hour), map[string]string{"access/prod/alice-1.yaml": "a\n"}, base)
	g.Commit("main", "jit[bot]", "Merge pull request #1", t0.Add(2*time.Hour), nil, base, pr)
	g.Commit("main", "bob", "direct", t0.Add(3*time.Hour), map[string]string{"access/prod/bob-1.yaml": "b\n"})
	g.Commit("main", "jit[bot]", "expire alice-1", t0.Add(4*time.Hour), map[string]string{"access/prod/alice-1.yaml": ""})
	g.Commit("main", "alice", "resurrect", t0.Add(5*time.Hour), map[string]string{"access/prod/alice-1.yaml": "a2\n", "access/prod/notes.txt": "x\n"})
	return g, open(t, g)
}

func TestIntroductions(t *testing.T) {
	_, h := buildHistory(t)
	intro, err := h.Introductions(ctx, resolve(t, h, "main"))
	if err != nil {
		t.Fatal(err)
	}
	if len(intro) != 2 {
		t.Fatalf("introductions = %+v, want alice-1 and bob-1", intro)
	}
	if a := intro["prod/alice-1"]; !a.When.Equal(t0.Add(5*time.Hour)) || a.File != "access/prod/alice-1.yaml" {
		t.Errorf("alice-1 introduced %+v, want the re-add at t0+5h", a)
	}
	if b := intro["prod/bob-1"]; !b.When.Equal(t0.Add(3 * time.Hour)) {
		t.Errorf("bob-1 introduced %+v, want t0+3h", b)
	}
	// At the merge, alice-1's introduction is the merge commit (first
	// parent), at the merge's committer time, not the PR commit's.
	merge := resolve(t, h, "main~3")
	intro, err = h.Introductions(ctx, merge)
	if err != nil {
		t.Fatal(err)
	}
	if a := intro["prod/alice-1"]; a.Commit != merge || !a.When.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("at the merge, alice-1 introduced %+v, want merge commit %s at t0+2h", a, merge)
	}
}

func TestEverExisted(t *testing.T) {
	_, h := buildHistory(t)
	ever, err := h.EverExisted(ctx, resolve(t, h, "main"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]history.Appearance{
		"prod/alice-1": {ID: "prod/alice-1", File: "access/prod/alice-1.yaml", Commit: resolve(t, h, "main~3"), When: t0.Add(2 * time.Hour)},
		"prod/bob-1":   {ID: "prod/bob-1", File: "access/prod/bob-1.yaml", Commit: resolve(t, h, "main~2"), When: t0.Add(3 * time.Hour)},
	}
	if diff := cmp.Diff(want, ever); diff != "" {
		t.Errorf("EverExisted (-want +got):\n%s", diff)
	}
}

func TestEverExistedIgnoresSideBranchOnlyFiles(t *testing.T) {
	g := gittest.New(t)
	base := g.Commit("main", "admin", "initial", t0, map[string]string{"README.md": "x"})
	c1 := g.Commit("pr", "alice", "add", t0.Add(time.Minute), map[string]string{"access/tmp.yaml": "a"}, base)
	c2 := g.Commit("pr", "alice", "remove", t0.Add(2*time.Minute), map[string]string{"access/tmp.yaml": "", "access/real.yaml": "b"}, c1)
	g.Commit("main", "bot", "merge", t0.Add(time.Hour), nil, base, c2)
	h := open(t, g)
	ever, err := h.EverExisted(ctx, resolve(t, h, "main"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ever["tmp"]; ok || len(ever) != 1 {
		t.Errorf("EverExisted = %+v; a file added and removed inside a pull request never existed on main", ever)
	}
}

func TestChanges(t *testing.T) {
	g := gittest.New(t)
	base := g.Commit("main", "admin", "initial", t0, map[string]string{"a/x": "1", "a/y": "2", "b": "3", "d/e": "4"})
	head := g.Commit("pr", "alice", "change", t0.Add(time.Hour), map[string]string{"a/x": "1changed", "a/y": "", "c/new": "5", "d/e": "", "d": "now a file", "l": gittest.Symlink + "/etc/passwd"}, base)
	h := open(t, g)
	changes, err := h.Changes(ctx, base.String(), head.String())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.Action.String()+" "+c.Path)
	}
	want := "modified a/x,deleted a/y,added c/new,added d,deleted d/e,added l"
	if strings.Join(got, ",") != want {
		t.Errorf("changes = %s\nwant      %s", strings.Join(got, ","), want)
	}
	blob := func(rev, p string) history.Entry {
		e, err := h.BlobID(resolve(t, h, rev), p)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if c := changes[0]; c.From != blob("main", "a/x") || c.To != blob("pr", "a/x") || c.To.Mode != history.ModeRegular {
		t.Errorf("modified a/x = %+v", c)
	}
	if c := changes[5]; c.To.Mode != history.ModeSymlink || c.From != (history.Entry{}) {
		t.Errorf("added symlink = %+v, want ModeSymlink and no From", c)
	}
	// From the empty tree: everything is added.
	all, err := h.Changes(ctx, "", base.String())
	if err != nil || len(all) != 4 || all[0].Action != history.Added {
		t.Errorf("changes from the empty tree = %+v, %v", all, err)
	}
}

func TestMergeBaseAndIsAncestor(t *testing.T) {
	g := gittest.New(t)
	base := g.Commit("main", "admin", "initial", t0, map[string]string{"a": "1"})
	g.Commit("pr", "alice", "pr", t0.Add(time.Hour), map[string]string{"b": "2"}, base)
	g.Commit("main", "bob", "later on main", t0.Add(2*time.Hour), map[string]string{"c": "3"})
	// A merge of main into a second branch, then more on main.
	side := g.Commit("side", "carol", "side", t0.Add(3*time.Hour), map[string]string{"s": "1"}, base)
	g.Commit("side", "carol", "merge main", t0.Add(4*time.Hour), nil, side, g.Head("main"))
	g.Commit("main", "bob", "even later", t0.Add(5*time.Hour), map[string]string{"d": "4"})
	g.Commit("orphan", "eve", "unrelated", t0, map[string]string{"z": "1"})
	h := open(t, g)
	m, p, s, o := resolve(t, h, "main"), resolve(t, h, "pr"), resolve(t, h, "side"), resolve(t, h, "orphan")

	for _, tc := range []struct{ a, b, want string }{
		{m, p, base.String()},
		{p, m, base.String()},
		{m, m, m},
		{s, m, resolve(t, h, "main~1")},
		{m, resolve(t, h, "main~1"), resolve(t, h, "main~1")},
	} {
		got, err := h.MergeBase(ctx, tc.a, tc.b)
		if err != nil || got != tc.want {
			t.Errorf("MergeBase(%.7s, %.7s) = %.7s, %v; want %.7s", tc.a, tc.b, got, err, tc.want)
		}
	}
	if _, err := h.MergeBase(ctx, m, o); err == nil || !strings.Contains(err.Error(), "share no history") {
		t.Errorf("MergeBase of unrelated commits: err = %v, want 'share no history'", err)
	}

	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{base.String(), m, true},
		{m, m, true},
		{resolve(t, h, "main~1"), m, true},
		{resolve(t, h, "main~1"), s, true}, // through the merge's second parent
		{m, base.String(), false},
		{p, m, false},
		{o, m, false},
	} {
		got, err := h.IsAncestor(ctx, tc.a, tc.b)
		if err != nil || got != tc.want {
			t.Errorf("IsAncestor(%.7s, %.7s) = %v, %v; want %v", tc.a, tc.b, got, err, tc.want)
		}
	}
	if _, err := h.IsAncestor(ctx, "main", m); err == nil || !strings.Contains(err.Error(), "not a full 40-hex commit hash") {
		t.Errorf("IsAncestor of a branch name: err = %v, want a demand for a full hash", err)
	}
}

func TestFS(t *testing.T) {
	g := gittest.New(t)
	g.Commit("main", "admin", "initial", t0, map[string]string{
		"access/prod/a.yaml": "template: x\n", "access/README.md": "r", "policies/p.hcl": "policy",
		"access/link.yaml": gittest.Symlink + "../secret",
	})
	h := open(t, g)
	fsys, err := h.FS(resolve(t, h, "main"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "access/prod/a.yaml", "access/README.md", "policies/p.hcl"); err != nil {
		t.Fatal(err)
	}
	info, err := fs.Stat(fsys, "access/link.yaml")
	if err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("symlink stat = %v, %v; want ModeSymlink", info, err)
	}
	data, err := fs.ReadFile(fsys, "access/prod/a.yaml")
	if err != nil || string(data) != "template: x\n" {
		t.Errorf("ReadFile = %q, %v", data, err)
	}
	if _, err := fs.Stat(fsys, "nope/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a missing file: %v", err)
	}
	if _, err := h.FS("main"); err == nil || !strings.Contains(err.Error(), "not a full 40-hex commit hash") {
		t.Errorf("FS of a branch name: err = %v", err)
	}
}

func TestBlobs(t *testing.T) {
	g := gittest.New(t)
	g.Commit("main", "admin", "initial", t0, map[string]string{"access/prod/a.yaml": "template: x\n", "big": strings.Repeat("x", 1000)})
	h := open(t, g)
	main := resolve(t, h, "main")
	e, err := h.BlobID(main, "access/prod/a.yaml")
	if err != nil || e.Mode != history.ModeRegular || len(e.Blob) != 40 {
		t.Fatalf("BlobID = %+v, %v", e, err)
	}
	data, size, err := h.ReadBlob(e.Blob, 100)
	if err != nil || string(data) != "template: x\n" || size != 12 {
		t.Errorf("ReadBlob = %q, %d, %v", data, size, err)
	}
	big, _ := h.BlobID(main, "big")
	if data, size, err := h.ReadBlob(big.Blob, 999); err != nil || data != nil || size != 1000 {
		t.Errorf("ReadBlob over the limit = %d bytes, size %d, %v; want no data and size 1000", len(data), size, err)
	}
	for p, want := range map[string]string{
		"access/prod/b.yaml":   "file does not exist",
		"access/prod/a.yaml/x": "file does not exist",
		"access/prod":          "is a directory",
		"../x":                 "is not a repository-relative file path",
	} {
		if _, err := h.BlobID(main, p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("BlobID(%q): err = %v, want %q", p, err, want)
		}
	}
}

func TestCommitInfo(t *testing.T) {
	g := gittest.New(t)
	base := g.Commit("main", "admin", "initial", t0, map[string]string{"a": "1"})
	pr := g.Commit("pr", "alice", "pr", t0.Add(time.Hour), map[string]string{"b": "2"}, base)
	merge := g.Commit("main", "jit[bot]", "Merge pull request #1\n\nJit-Grant: x\n", t0.Add(2*time.Hour), nil, base, pr)
	h := open(t, g)
	c, err := h.CommitInfo(merge.String())
	if err != nil {
		t.Fatal(err)
	}
	sig := history.Signature{Name: "jit[bot]", Email: "jit[bot]@users.noreply.example.com", When: t0.Add(2 * time.Hour)}
	want := history.Commit{Hash: merge.String(), Parents: []string{base.String(), pr.String()}, Tree: c.Tree,
		Author: sig, Committer: sig, Message: "Merge pull request #1\n\nJit-Grant: x\n"}
	if diff := cmp.Diff(want, c); diff != "" || len(c.Tree) != 40 {
		t.Errorf("CommitInfo (-want +got):\n%s", diff)
	}
	if root, _ := h.CommitInfo(base.String()); root.Parents != nil {
		t.Errorf("root commit parents = %v, want none", root.Parents)
	}
}

func TestFirstParentChanges(t *testing.T) {
	g := gittest.New(t)
	base := g.Commit("main", "admin", "initial", t0, map[string]string{"README.md": "hi", "access/old.yaml": "o", "access/README.md": "r"})
	pr := g.Commit("pr", "alice", "request", t0.Add(time.Hour), map[string]string{"access/prod/a.yaml": "a", "access/prod/tmp.yaml": "t"}, base)
	pr = g.Commit("pr", "alice", "oops", t0.Add(time.Hour), map[string]string{"access/prod/tmp.yaml": ""}, pr)
	merge := g.Commit("main", "jit[bot]", "Merge pull request #1", t0.Add(2*time.Hour), nil, base, pr)
	empty := g.Commit("main", "jit[bot]", "activated", t0.Add(3*time.Hour), nil)
	edit := g.Commit("main", "alice", "extend and clean up", t0.Add(4*time.Hour), map[string]string{
		"access/prod/a.yaml": "a2", "access/old.yaml": "", "access/prod/notes.txt": "n", "access/link.yaml": gittest.Symlink + "x"})
	h := open(t, g)
	blob := func(c fmt.Stringer, p string) history.Entry {
		e, err := h.BlobID(c.String(), p)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	type visit struct {
		Hash    string
		Changes []history.Change
	}
	var got []visit
	err := h.FirstParentChanges(ctx, edit.String(), func(c history.Commit, ch []history.Change) bool {
		got = append(got, visit{c.Hash, ch})
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []visit{
		{edit.String(), []history.Change{
			{Path: "access/link.yaml", Action: history.Added, To: blob(edit, "access/link.yaml")},
			{Path: "access/old.yaml", Action: history.Deleted, From: blob(base, "access/old.yaml")},
			{Path: "access/prod/a.yaml", Action: history.Modified, From: blob(merge, "access/prod/a.yaml"), To: blob(edit, "access/prod/a.yaml")},
		}},
		{empty.String(), nil},
		{merge.String(), []history.Change{{Path: "access/prod/a.yaml", Action: history.Added, To: blob(merge, "access/prod/a.yaml")}}},
		{base.String(), []history.Change{{Path: "access/old.yaml", Action: history.Added, To: blob(base, "access/old.yaml")}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FirstParentChanges (-want +got):\n%s", diff)
	}
	if want[0].Changes[0].To.Mode != history.ModeSymlink {
		t.Errorf("symlink mode = %v", want[0].Changes[0].To.Mode)
	}

	// Stopping early.
	n := 0
	if err := h.FirstParentChanges(ctx, edit.String(), func(history.Commit, []history.Change) bool { n++; return n < 2 }); err != nil || n != 2 {
		t.Errorf("stopping after 2 commits: visited %d, %v", n, err)
	}
	// A cancelled context stops the walk.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := h.FirstParentChanges(cctx, edit.String(), func(history.Commit, []history.Change) bool { return true }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled walk: err = %v, want context.Canceled", err)
	}
}

// TestResolve checks that revisions resolve as git resolves them.
func TestResolve(t *testing.T) {
	g := gittest.New(t)
	c1 := g.Commit("main", "admin", "one", t0, map[string]string{"a": "1"})
	side := g.Commit("side", "alice", "side", t0.Add(time.Minute), map[string]string{"s": "1"}, c1)
	c2 := g.Commit("main", "admin", "two", t0.Add(2*time.Minute), map[string]string{"a": "2"})
	merge := g.Commit("main", "admin", "merge", t0.Add(3*time.Minute), nil, c2, side)
	setRef(t, g, "refs/tags/v1", c1)
	annotatedTag(t, g, "v2", c2)
	// Regression: a branch named like the start of another commit's hash is
	// the branch (go-git's ResolveRevision picked the commit).
	prefix := c1.String()[:4]
	g.Branch(prefix, side)
	// A branch named like a full hash does not hide that commit.
	g.Branch(c2.String(), side)
	setRef(t, g, "refs/remotes/origin/feature", c2)
	h := open(t, g)

	tests := map[string]string{
		"main":                           merge.String(),
		"refs/heads/main":                merge.String(),
		"heads/main":                     merge.String(),
		"HEAD":                           merge.String(),
		"@":                              merge.String(),
		"v1":                             c1.String(),
		"v2":                             c2.String(),
		"tags/v2":                        c2.String(),
		"origin/feature":                 c2.String(),
		prefix:                           side.String(),
		c1.String()[:7]:                  c1.String(),
		strings.ToUpper(c1.String()[:9]): c1.String(),
		c2.String():                      c2.String(),
		"main^":                          c2.String(),
		"main^1":                         c2.String(),
		"main^2":                         side.String(),
		"main~2":                         c1.String(),
		"main^^":                         c1.String(),
		"main^2~1":                       c1.String(),
		"main^0":                         merge.String(),
		"main~0":                         merge.String(),
		"v2~1":                           c1.String(),
	}
	for rev, want := range tests {
		got, err := h.Resolve(rev)
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %.12s, %v; want %.12s", rev, got, err, want)
		}
	}

	errs := map[string]string{
		"":              "the revision is empty",
		"nope":          "no branch, tag or commit has this name",
		"abc":           "no branch, tag or commit has this name", // 3 hex digits: too short for a hash
		"0000000":       "no branch, tag or commit has this name",
		"main^3":        "has 2 parents, so it has no parent 3",
		"main~9":        "main has only 2 first-parent ancestors",
		"main^{commit}": "only branch, tag and commit names",
		"main@{1}":      "only branch, tag and commit names",
		"main:a":        "only branch, tag and commit names",
		"main..side":    "only branch, tag and commit names",
		"^main":         "^ and ~ need a revision before them",
		"main~x":        `unexpected "x" after ~`,
		"/etc/passwd":   "no branch, tag or commit has this name",
		"config":        "no branch, tag or commit has this name",
		"../x":          "only branch, tag and commit names",
	}
	for rev, want := range errs {
		_, err := h.Resolve(rev)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("resolving revision %q", rev)) {
			t.Errorf("Resolve(%q): err = %v, want %q", rev, err, want)
		}
	}
	// A tree is not a commit.
	tree, _ := h.CommitInfo(c1.String())
	if _, err := h.Resolve(tree.Tree); err == nil || !strings.Contains(err.Error(), "names a tree, not a commit") {
		t.Errorf("Resolve(tree): err = %v", err)
	}
}

// TestResolveAmbiguous makes commits until two share a 4-digit prefix: that
// prefix is ambiguous and the error lists both.
func TestResolveAmbiguous(t *testing.T) {
	g := gittest.New(t)
	g.Commit("main", "admin", "first", t0, map[string]string{"a": "1"})
	a, b := collidingCommits(t, g, 4)
	h := open(t, g)
	_, err := h.Resolve(a[:4])
	if err == nil || !strings.Contains(err.Error(), "ambiguous") || !strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
		t.Errorf("Resolve(%s): err = %v, want ambiguous naming %s and %s", a[:4], err, a, b)
	}
	// More digits disambiguate, once they differ.
	n := 4
	for a[:n] == b[:n] {
		n++
	}
	if got, err := h.Resolve(a[:n]); err != nil || got != a {
		t.Errorf("Resolve(%s) = %s, %v; want %s", a[:n], got, err, a)
	}
}

// TestReadsRepositoriesMadeByGit checks that history reads what the real git
// client writes (not only what go-git writes), packed.
func TestReadsRepositoriesMadeByGit(t *testing.T) {
	dir := gitRepo(t)
	runGit(t, dir, nil, "init", "-q", "-b", "main")
	writeFile(t, dir, "access/prod/a.yaml", "x\n")
	runGit(t, dir, nil, "add", "-A")
	runGit(t, dir, []string{"GIT_COMMITTER_DATE=2026-03-01T10:00:00Z", "GIT_AUTHOR_DATE=2026-03-01T10:00:00Z"}, "commit", "-q", "-m", "add")
	runGit(t, dir, nil, "tag", "-a", "-m", "tag", "v1")
	runGit(t, dir, nil, "gc", "-q")
	h, err := history.Open(dir + "/access")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	head := resolve(t, h, "v1")
	if head != resolve(t, h, "HEAD") {
		t.Errorf("annotated tag v1 resolves to %s, HEAD to %s", head, resolve(t, h, "HEAD"))
	}
	intro, err := h.Introductions(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if a := intro["prod/a"]; !a.When.Equal(want) {
		t.Errorf("introduction = %+v, want %v", a, want)
	}
	if got := resolve(t, h, head[:5]); got != head {
		t.Errorf("abbreviated hash in a pack resolves to %s, want %s", got, head)
	}

	// From a linked worktree: objects and the index live in the common
	// git directory.
	wt := filepath.Join(t.TempDir(), "wt")
	runGit(t, dir, nil, "worktree", "add", "-q", "-b", "side", wt)
	hw, err := history.Open(wt)
	if err != nil {
		t.Fatal(err)
	}
	defer hw.Close()
	if got := resolve(t, hw, "main"); got != head || history.PackCount(hw) != 1 {
		t.Errorf("from the worktree main is %s (want %s), with %d packs mapped", got, head, history.PackCount(hw))
	}
	if _, err := hw.EverExisted(ctx, head); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git", "jit", "ever-"+head+".idx")); err != nil {
		t.Errorf("the index of a worktree's walk is not in the common git directory: %v", err)
	}
}

// gitRepo returns a directory for the git CLI, skipping without git unless
// CI=true.
func gitRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but git is not installed: %v", err)
		}
		t.Skip("git not installed")
	}
	return t.TempDir()
}

func runGit(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "PATH=" + os.Getenv("PATH"),
		"GIT_AUTHOR_NAME=alice", "GIT_AUTHOR_EMAIL=alice@example.com", "GIT_COMMITTER_NAME=alice", "GIT_COMMITTER_EMAIL=alice@example.com"}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFile(t *testing.T, dir, p, content string) {
	t.Helper()
	full := filepath.Join(dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A corrupt pack index (a fan-out table that goes past the object count) is
// not read by jit's pack reader: lookups fail over to go-git instead of
// panicking.
func TestCorruptPackFanoutDoesNotPanic(t *testing.T) {
	dir := gitRepo(t)
	runGit(t, dir, nil, "init", "-q", "-b", "main")
	writeFile(t, dir, "a.txt", "a\n")
	runGit(t, dir, nil, "add", "-A")
	runGit(t, dir, nil, "commit", "-q", "-m", "one")
	runGit(t, dir, nil, "repack", "-adq")
	idxs, err := filepath.Glob(filepath.Join(dir, ".git/objects/pack/*.idx"))
	if err != nil || len(idxs) != 1 {
		t.Fatalf("pack indexes: %v %v", idxs, err)
	}
	data, err := os.ReadFile(idxs[0])
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 255; b++ {
		binary.BigEndian.PutUint32(data[8+b*4:], 0x00ffffff)
	}
	if err := os.Chmod(idxs[0], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(idxs[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := history.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic on a corrupt pack index: %v", r)
		}
	}()
	if _, err := h.Resolve(strings.Repeat("0", 39) + "1"); err == nil {
		t.Error("resolved a hash that no object has")
	}
}
