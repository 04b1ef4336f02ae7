package history

import (
	"fmt"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Action says what a change did to a path.
type Action int

// The actions of a change.
const (
	Added Action = iota + 1
	Deleted
	Modified
)

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

// Change is one file that differs between two trees. A file that turned into
// a directory (or back) shows as a deletion and additions.
type Change struct {
	Path   string
	Action Action
	// From and To are the blob hashes and modes before and after; zero on
	// the side where the file does not exist.
	From, To         plumbing.Hash
	FromMode, ToMode filemode.FileMode
}

// Changes returns the files that differ between the trees of from and to,
// sorted by path. from may be nil (an empty tree).
func (r *Repo) Changes(from, to *object.Commit) ([]Change, error) {
	var a *object.Tree
	if from != nil {
		t, err := from.Tree()
		if err != nil {
			return nil, fmt.Errorf("reading tree of %s: %w", short(from.Hash), err)
		}
		a = t
	}
	b, err := to.Tree()
	if err != nil {
		return nil, fmt.Errorf("reading tree of %s: %w", short(to.Hash), err)
	}
	var out []Change
	if err := diffTrees(a, b, "", func(c Change) { out = append(out, c) }); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// diffTrees calls fn for every file that differs between a and b (either may
// be nil), descending only into subtrees whose hashes differ.
func diffTrees(a, b *object.Tree, prefix string, fn func(Change)) error {
	if a != nil && b != nil && a.Hash == b.Hash {
		return nil
	}
	old := entries(a)
	cur := entries(b)
	names := make(map[string]bool, len(old)+len(cur))
	for n := range old {
		names[n] = true
	}
	for n := range cur {
		names[n] = true
	}
	for name := range names {
		oe, inOld := old[name]
		ne, inNew := cur[name]
		p := join(prefix, name)
		if inOld && inNew && oe.Hash == ne.Hash && oe.Mode == ne.Mode {
			continue
		}
		oldDir := inOld && oe.Mode == filemode.Dir
		newDir := inNew && ne.Mode == filemode.Dir
		if oldDir || newDir {
			var at, bt *object.Tree
			var err error
			if oldDir {
				if at, err = a.Tree(name); err != nil {
					return fmt.Errorf("reading tree %s: %w", p, err)
				}
			}
			if newDir {
				if bt, err = b.Tree(name); err != nil {
					return fmt.Errorf("reading tree %s: %w", p, err)
				}
			}
			if err := diffTrees(at, bt, p, fn); err != nil {
				return err
			}
			if inOld && !oldDir {
				fn(Change{Path: p, Action: Deleted, From: oe.Hash, FromMode: oe.Mode})
			}
			if inNew && !newDir {
				fn(Change{Path: p, Action: Added, To: ne.Hash, ToMode: ne.Mode})
			}
			continue
		}
		switch {
		case inOld && inNew:
			fn(Change{Path: p, Action: Modified, From: oe.Hash, To: ne.Hash, FromMode: oe.Mode, ToMode: ne.Mode})
		case inOld:
			fn(Change{Path: p, Action: Deleted, From: oe.Hash, FromMode: oe.Mode})
		default:
			fn(Change{Path: p, Action: Added, To: ne.Hash, ToMode: ne.Mode})
		}
	}
	return nil
}

func entries(t *object.Tree) map[string]object.TreeEntry {
	if t == nil {
		return nil
	}
	m := make(map[string]object.TreeEntry, len(t.Entries))
	for _, e := range t.Entries {
		m[e.Name] = e
	}
	return m
}
