package history_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/gittest"
)

func TestTreeEntry(t *testing.T) {
	g := gittest.New(t)
	g.Commit("main", "admin", "initial", t0, map[string]string{"access/prod/a.yaml": "template: x\n", ".github/jit-signers": "k\n"})
	h := open(t, g)
	main := resolve(t, h, "main")
	c, err := h.CommitInfo(main)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"access/prod/a.yaml", ".github/jit-signers"} {
		want, err := h.BlobID(main, p)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := h.TreeEntry(c.Tree, p); err != nil || got != want {
			t.Errorf("TreeEntry(%s) = %+v, %v; want BlobID's %+v", p, got, err, want)
		}
	}
	dir, err := h.TreeEntry(c.Tree, "access/prod")
	if err != nil || dir.Mode != history.ModeOther || len(dir.Blob) != 40 {
		t.Errorf("TreeEntry of a directory = %+v, %v; want its tree id with ModeOther", dir, err)
	}
	for _, tc := range []struct {
		name, tree, path, want string
		notExist               bool
	}{
		{name: "missing file", tree: c.Tree, path: "access/prod/b.yaml", want: "access/prod/b.yaml at tree " + c.Tree[:12], notExist: true},
		{name: "under a file", tree: c.Tree, path: "access/prod/a.yaml/x", notExist: true},
		{name: "escaping path", tree: c.Tree, path: "../x", want: `"../x" is not a repository-relative path`},
		{name: "root", tree: c.Tree, path: ".", want: "is not a repository-relative path"},
		{name: "not a hash", tree: "main", path: "a", want: "main"},
		{name: "a commit, not a tree", tree: main, path: "access", want: main[:12]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.TreeEntry(tc.tree, tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, fs.ErrNotExist) != tc.notExist {
				t.Errorf("err = %v; want one containing %q (not-exist %t)", err, tc.want, tc.notExist)
			}
		})
	}
}
