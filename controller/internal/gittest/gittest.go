// Package gittest builds real git repositories on disk for tests, with
// commits at chosen times, branches, merges and symbolic links. It writes
// through go-git, so tests need no git binary, and the result is an ordinary
// repository that the git CLI and go-git both read. Test-only.
package gittest

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Repo is a repository under construction.
type Repo struct {
	t   testing.TB
	Dir string
	Git *git.Repository
}

// Symlink, as a file's content, makes Commit write a symbolic link whose
// target is the rest of the string.
const Symlink = "\x00symlink:"

// Start is the time of the first commit made by tests that do not care.
var Start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// New creates an empty repository in a temporary directory whose branch
// "main" is checked out.
func New(t testing.TB) *Repo {
	t.Helper()
	dir := t.TempDir()
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatalf("git init: %v", err)
	}
	return &Repo{t: t, Dir: dir, Git: r}
}

// Commit makes a commit on branch whose tree is the branch's current tree
// with files applied (an empty string value deletes the file; Symlink+target
// makes a link), authored and committed by login at when, and returns its
// hash. parents, when given, replace the branch head as the commit's parents
// (the first one first), which is how tests make merge commits: the tree is
// the first parent's plus what each other parent changed since its merge
// base with the first.
func (r *Repo) Commit(branch, login, msg string, when time.Time, files map[string]string, parents ...plumbing.Hash) plumbing.Hash {
	r.t.Helper()
	ref := plumbing.NewBranchReferenceName(branch)
	head, err := r.Git.Reference(ref, true)
	if len(parents) == 0 && err == nil {
		parents = []plumbing.Hash{head.Hash()}
	}
	tree := map[string]object.TreeEntry{}
	if len(parents) > 0 {
		c, err := r.Git.CommitObject(parents[0])
		if err != nil {
			r.t.Fatalf("reading parent: %v", err)
		}
		t, err := c.Tree()
		if err != nil {
			r.t.Fatalf("reading parent tree: %v", err)
		}
		tree = r.flatten(t)
		// A merge brings in what each other parent changed since its merge
		// base with the first parent (tests make conflict-free merges).
		for _, other := range parents[1:] {
			oc, err := r.Git.CommitObject(other)
			if err != nil {
				r.t.Fatalf("reading parent: %v", err)
			}
			bases, err := c.MergeBase(oc)
			if err != nil || len(bases) == 0 {
				r.t.Fatalf("merge base of %s and %s: %v", c.Hash, other, err)
			}
			bt, _ := bases[0].Tree()
			ot, _ := oc.Tree()
			before, after := r.flatten(bt), r.flatten(ot)
			for p, e := range after {
				if be, ok := before[p]; !ok || be.Hash != e.Hash || be.Mode != e.Mode {
					tree[p] = e
				}
			}
			for p := range before {
				if _, ok := after[p]; !ok {
					delete(tree, p)
				}
			}
		}
	}
	for p, content := range files {
		if content == "" {
			delete(tree, p)
			continue
		}
		mode := filemode.Regular
		if len(content) > len(Symlink) && content[:len(Symlink)] == Symlink {
			mode, content = filemode.Symlink, content[len(Symlink):]
		}
		tree[p] = object.TreeEntry{Name: p, Mode: mode, Hash: r.blob(content)}
	}
	root := r.buildTree(tree)
	sig := object.Signature{Name: login, Email: login + "@users.noreply.example.com", When: when}
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: root, ParentHashes: parents}
	obj := r.Git.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		r.t.Fatalf("encoding commit: %v", err)
	}
	h, err := r.Git.Storer.SetEncodedObject(obj)
	if err != nil {
		r.t.Fatalf("storing commit: %v", err)
	}
	if err := r.Git.Storer.SetReference(plumbing.NewHashReference(ref, h)); err != nil {
		r.t.Fatalf("updating %s: %v", branch, err)
	}
	return h
}

func (r *Repo) flatten(t *object.Tree) map[string]object.TreeEntry {
	out := map[string]object.TreeEntry{}
	err := t.Files().ForEach(func(f *object.File) error {
		out[f.Name] = object.TreeEntry{Name: f.Name, Mode: f.Mode, Hash: f.Hash}
		return nil
	})
	if err != nil {
		r.t.Fatalf("reading tree: %v", err)
	}
	return out
}

// Branch creates (or moves) branch to point at h.
func (r *Repo) Branch(branch string, h plumbing.Hash) {
	r.t.Helper()
	if err := r.Git.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(branch), h)); err != nil {
		r.t.Fatalf("creating branch %s: %v", branch, err)
	}
}

// Head returns the hash branch points at.
func (r *Repo) Head(branch string) plumbing.Hash {
	r.t.Helper()
	ref, err := r.Git.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		r.t.Fatalf("reading branch %s: %v", branch, err)
	}
	return ref.Hash()
}

// Checkout writes branch's files into the work tree (replacing it), so that
// tests of working-tree commands see them.
func (r *Repo) Checkout(branch string) {
	r.t.Helper()
	wt, err := r.Git.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Force: true}); err != nil {
		r.t.Fatalf("checkout %s: %v", branch, err)
	}
}

// WriteFile writes a file into the work tree without committing it.
func (r *Repo) WriteFile(p, content string) {
	r.t.Helper()
	full := filepath.Join(r.Dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *Repo) blob(content string) plumbing.Hash {
	obj := r.Git.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		r.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		r.t.Fatal(err)
	}
	h, err := r.Git.Storer.SetEncodedObject(obj)
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

// buildTree writes nested tree objects for a flat map of paths and returns
// the root tree's hash.
func (r *Repo) buildTree(files map[string]object.TreeEntry) plumbing.Hash {
	type dir struct {
		files map[string]object.TreeEntry
		dirs  map[string]*dir
	}
	newDir := func() *dir { return &dir{files: map[string]object.TreeEntry{}, dirs: map[string]*dir{}} }
	root := newDir()
	for p, e := range files {
		d := root
		parts := splitPath(p)
		for _, part := range parts[:len(parts)-1] {
			if d.dirs[part] == nil {
				d.dirs[part] = newDir()
			}
			d = d.dirs[part]
		}
		e.Name = parts[len(parts)-1]
		d.files[e.Name] = e
	}
	var write func(d *dir) plumbing.Hash
	write = func(d *dir) plumbing.Hash {
		var es []object.TreeEntry
		for _, e := range d.files {
			es = append(es, e)
		}
		for name, sub := range d.dirs {
			es = append(es, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: write(sub)})
		}
		sort.Slice(es, func(i, j int) bool { return treeSortKey(es[i]) < treeSortKey(es[j]) })
		t := &object.Tree{Entries: es}
		obj := r.Git.Storer.NewEncodedObject()
		if err := t.Encode(obj); err != nil {
			r.t.Fatal(err)
		}
		h, err := r.Git.Storer.SetEncodedObject(obj)
		if err != nil {
			r.t.Fatal(err)
		}
		return h
	}
	return write(root)
}

// treeSortKey orders entries as git does: directories sort as if their name
// ended in "/".
func treeSortKey(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

func splitPath(p string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			parts = append(parts, p[start:i])
			start = i + 1
		}
	}
	return append(parts, p[start:])
}
