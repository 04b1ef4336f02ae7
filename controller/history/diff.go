package history

import (
	"context"
	"fmt"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// Action says what a change did to a path.
type Action int

// The actions of a change.
const (
	Added Action = iota + 1
	Deleted
	Modified
)

// String names the action: "added", "deleted" or "modified".
func (a Action) String() string {
	switch a {
	case Added:
		return "added"
	case Deleted:
		return "deleted"
	case Modified:
		return "modified"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Mode is the kind of a file in a git tree.
type Mode uint8

// The kinds of file. The zero Mode means the file does not exist.
const (
	ModeNone Mode = iota
	// ModeRegular is an ordinary file (git mode 100644).
	ModeRegular
	// ModeExecutable is an executable file (100755).
	ModeExecutable
	// ModeSymlink is a symbolic link (120000): its blob is the link target.
	ModeSymlink
	// ModeSubmodule is a gitlink (160000): its "blob" is a commit of another
	// repository, which this one does not hold.
	ModeSubmodule
	// ModeOther is any other mode git can record.
	ModeOther
)

// String names the mode: "none", "regular", "executable", "symlink",
// "submodule" or "other".
func (m Mode) String() string {
	switch m {
	case ModeNone:
		return "none"
	case ModeRegular:
		return "regular"
	case ModeExecutable:
		return "executable"
	case ModeSymlink:
		return "symlink"
	case ModeSubmodule:
		return "submodule"
	}
	return "other"
}

// IsFile reports a regular or executable file, whose blob is its content.
func (m Mode) IsFile() bool { return m == ModeRegular || m == ModeExecutable }

func modeOf(m filemode.FileMode) Mode {
	switch m {
	case filemode.Regular, filemode.Deprecated:
		return ModeRegular
	case filemode.Executable:
		return ModeExecutable
	case filemode.Symlink:
		return ModeSymlink
	case filemode.Submodule:
		return ModeSubmodule
	case filemode.Empty:
		return ModeNone
	}
	return ModeOther
}

// Entry is a file's object and mode in one tree.
type Entry struct {
	// Blob is the full hash of the file's blob (for ModeSubmodule, of the
	// other repository's commit); empty when the file does not exist.
	Blob string
	Mode Mode
}

func entryOf(e *treeEntry) Entry { return Entry{Blob: hexString(e.hash), Mode: modeOf(e.mode)} }

// Change is one file that differs between two trees. A file that turned into
// a directory (or back) shows as a deletion and additions.
type Change struct {
	// Path is repository-relative, with forward slashes.
	Path   string
	Action Action
	// From and To are the file before and after; zero on the side where it
	// does not exist. A change of mode alone is Modified.
	From, To Entry
}

// Changes returns the files that differ between the trees of the commits
// from and to (full hashes), sorted by path. An empty from is the empty tree.
func (r *Repo) Changes(ctx context.Context, from, to string) ([]Change, error) {
	var a plumbing.Hash
	if from != "" {
		h, err := parseHash(from)
		if err != nil {
			return nil, err
		}
		c, err := r.readCommit(h)
		if err != nil {
			return nil, err
		}
		a = c.tree
	}
	h, err := parseHash(to)
	if err != nil {
		return nil, err
	}
	c, err := r.readCommit(h)
	if err != nil {
		return nil, err
	}
	var out []Change
	err = r.diffTrees(ctx, a, c.tree, "", func(c Change) error { out = append(out, c); return nil })
	if err != nil {
		return nil, err
	}
	sortChanges(out)
	return out, nil
}

// diffTrees calls fn for every file that differs between the trees a and b
// (the zero hash is no tree), descending only into subtrees whose hashes
// differ. It merges the two entry lists, which git keeps sorted.
func (r *Repo) diffTrees(ctx context.Context, a, b plumbing.Hash, prefix string, fn func(Change) error) error {
	if a == b {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var ta, tb rawTree
	var err error
	if !a.IsZero() {
		if ta, err = r.readTree(a); err != nil {
			return err
		}
	}
	if !b.IsZero() {
		if tb, err = r.readTree(b); err != nil {
			return err
		}
	}
	ia, ib := newTreeIter(ta), newTreeIter(tb)
	for ia.ok || ib.ok {
		var oe, ne *treeEntry
		switch {
		case !ib.ok || ia.ok && gitCompare(&ia.cur, &ib.cur) < 0:
			e := ia.cur
			oe = &e
			ia.next()
		case !ia.ok || gitCompare(&ib.cur, &ia.cur) < 0:
			e := ib.cur
			ne = &e
			ib.next()
		default:
			e1, e2 := ia.cur, ib.cur
			oe, ne = &e1, &e2
			ia.next()
			ib.next()
		}
		if err := r.diffEntry(ctx, oe, ne, prefix, fn); err != nil {
			return err
		}
	}
	for _, it := range []*treeIter{ia, ib} {
		if it.err != nil {
			return fmt.Errorf("reading tree %s: %w", prefix, it.err)
		}
	}
	return nil
}

// diffEntry compares one entry of the old and new trees (either may be
// nil; both have the same name and kind when both are given).
func (r *Repo) diffEntry(ctx context.Context, oe, ne *treeEntry, prefix string, fn func(Change) error) error {
	if oe != nil && ne != nil && oe.hash == ne.hash && oe.mode == ne.mode {
		return nil
	}
	named := ne
	if oe != nil {
		named = oe
	}
	p := join(prefix, string(named.name))
	if !named.isDir() {
		switch {
		case oe != nil && ne != nil:
			return fn(Change{Path: p, Action: Modified, From: entryOf(oe), To: entryOf(ne)})
		case oe != nil:
			return fn(Change{Path: p, Action: Deleted, From: entryOf(oe)})
		}
		return fn(Change{Path: p, Action: Added, To: entryOf(ne)})
	}
	var a, b plumbing.Hash
	if oe != nil {
		a = oe.hash
	}
	if ne != nil {
		b = ne.hash
	}
	return r.diffTrees(ctx, a, b, p, fn)
}

func sortChanges(cs []Change) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Path < cs[j].Path })
}
