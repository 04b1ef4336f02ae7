package history_test

import (
	"io/fs"
	"os/exec"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/gittest"
)

var t0 = gittest.Start

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
	h, err := history.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return g, h
}

func TestIntroductions(t *testing.T) {
	_, h := buildHistory(t)
	intro, err := h.Introductions("main")
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
	c, err := h.Commit("main~3")
	if err != nil {
		t.Fatal(err)
	}
	intro, err = h.Introductions(c.Hash.String())
	if err != nil {
		t.Fatal(err)
	}
	if a := intro["prod/alice-1"]; a.Commit != c.Hash.String() || !a.When.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("at the merge, alice-1 introduced %+v, want merge commit %s at t0+2h", a, c.Hash)
	}
}

func TestEverExisted(t *testing.T) {
	_, h := buildHistory(t)
	ever, err := h.EverExisted("main")
	if err != nil {
		t.Fatal(err)
	}
	if len(ever) != 2 {
		t.Fatalf("EverExisted = %+v", ever)
	}
	if a := ever["prod/alice-1"]; !a.When.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("alice-1 first appeared %+v, want the merge at t0+2h", a)
	}
}

func TestEverExistedIgnoresSideBranchOnlyFiles(t *testing.T) {
	g := gittest.New(t)
	base := g.Commit("main", "admin", "initial", t0, map[string]string{"README.md": "x"})
	c1 := g.Commit("pr", "alice", "add", t0.Add(time.Minute), map[string]string{"access/tmp.yaml": "a"}, base)
	c2 := g.Commit("pr", "alice", "remove", t0.Add(2*time.Minute), map[string]string{"access/tmp.yaml": "", "access/real.yaml": "b"}, c1)
	g.Commit("main", "bot", "merge", t0.Add(time.Hour), nil, base, c2)
	h, _ := history.Open(g.Dir)
	ever, err := h.EverExisted("main")
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
	h, _ := history.Open(g.Dir)
	from, _ := h.Commit(base.String())
	to, _ := h.Commit(head.String())
	changes, err := h.Changes(from, to)
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
}

func TestMergeBase(t *testing.T) {
	g := gittest.New(t)
	base := g.Commit("main", "admin", "initial", t0, map[string]string{"a": "1"})
	g.Commit("pr", "alice", "pr", t0.Add(time.Hour), map[string]string{"b": "2"}, base)
	g.Commit("main", "bob", "later on main", t0.Add(2*time.Hour), map[string]string{"c": "3"})
	h, _ := history.Open(g.Dir)
	m, _ := h.Commit("main")
	p, _ := h.Commit("pr")
	mb, err := h.MergeBase(m, p)
	if err != nil || mb.Hash != base {
		t.Errorf("MergeBase = %v, %v; want %s", mb, err, base)
	}
	g.Commit("orphan", "eve", "unrelated", t0, map[string]string{"z": "1"})
	o, _ := h.Commit("orphan")
	if _, err := h.MergeBase(m, o); err == nil || !strings.Contains(err.Error(), "share no history") {
		t.Errorf("MergeBase of unrelated commits: err = %v, want 'share no history'", err)
	}
}

func TestFS(t *testing.T) {
	g := gittest.New(t)
	g.Commit("main", "admin", "initial", t0, map[string]string{
		"access/prod/a.yaml": "template: x\n", "access/README.md": "r", "policies/p.hcl": "policy",
		"access/link.yaml": gittest.Symlink + "../secret",
	})
	h, _ := history.Open(g.Dir)
	c, _ := h.Commit("main")
	fsys, err := h.FS(c)
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
	if _, err := fs.Stat(fsys, "nope/x"); !errorsIsNotExist(err) {
		t.Errorf("Stat of a missing file: %v", err)
	}
}

func errorsIsNotExist(err error) bool {
	return err != nil && strings.Contains(err.Error(), "not exist")
}

// TestReadsRepositoriesMadeByGit checks that history reads what the real git
// client writes (not only what go-git writes).
func TestReadsRepositoriesMadeByGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	run := func(env []string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append([]string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "PATH=/usr/bin:/bin:/usr/local/bin"}, env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run(nil, "init", "-q", "-b", "main")
	run(nil, "config", "user.name", "alice")
	run(nil, "config", "user.email", "alice@example.com")
	gitWrite(t, dir, "access/prod/a.yaml", "x\n")
	run(nil, "add", "-A")
	run([]string{"GIT_COMMITTER_DATE=2026-03-01T10:00:00Z", "GIT_AUTHOR_DATE=2026-03-01T10:00:00Z"}, "commit", "-q", "-m", "add")
	h, err := history.Open(dir + "/access")
	if err != nil {
		t.Fatal(err)
	}
	intro, err := h.Introductions("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if a := intro["prod/a"]; !a.When.Equal(want) {
		t.Errorf("introduction = %+v, want %v", a, want)
	}
}
