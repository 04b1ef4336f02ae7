package history

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// accessDir is where grant files live; kept here so history does not depend
// on the grant parser.
const accessDir = "access"

// Introduction is the commit that most recently added a grant file on a
// branch: for a grant merged through a pull request, the merge commit.
type Introduction struct {
	// ID is the grant id (path below access/ without .yaml).
	ID string
	// File is the repository-relative path.
	File string
	// Commit is the full hash of the introducing commit.
	Commit string
	// When is that commit's committer time, from which expiry counts.
	When time.Time
}

// Appearance records when a grant id first appeared on a branch.
type Appearance struct {
	ID     string
	File   string
	Commit string
	When   time.Time
}

// grantID maps access/x/y.yaml to x/y; other paths are not grants.
func grantID(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, accessDir+"/")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, ".yaml")
	return id, ok && id != ""
}

// firstParentWalk calls fn for each commit from c along first parents, with
// the grant files added relative to its first parent, until fn returns false.
func (r *Repo) firstParentWalk(c *object.Commit, fn func(c *object.Commit, added []string) bool) error {
	for c != nil {
		tree, err := c.Tree()
		if err != nil {
			return fmt.Errorf("reading tree of %s: %w", short(c.Hash), err)
		}
		cur, err := subtree(tree, accessDir)
		if err != nil {
			return fmt.Errorf("reading %s/ of %s: %w", accessDir, short(c.Hash), err)
		}
		var parent *object.Commit
		var prev *object.Tree
		if c.NumParents() > 0 {
			if parent, err = c.Parent(0); err != nil {
				return fmt.Errorf("reading first parent of %s: %w", short(c.Hash), err)
			}
			ptree, err := parent.Tree()
			if err != nil {
				return fmt.Errorf("reading tree of %s: %w", short(parent.Hash), err)
			}
			if prev, err = subtree(ptree, accessDir); err != nil {
				return fmt.Errorf("reading %s/ of %s: %w", accessDir, short(parent.Hash), err)
			}
		}
		var added []string
		if cur != nil {
			err := diffTrees(prev, cur, accessDir, func(ch Change) {
				if ch.Action == Added {
					added = append(added, ch.Path)
				}
			})
			if err != nil {
				return err
			}
		}
		if !fn(c, added) {
			return nil
		}
		c = parent
	}
	return nil
}

// Introductions returns, for every grant file present at rev, the commit
// along rev's first-parent history that most recently added it.
func (r *Repo) Introductions(rev string) (map[string]Introduction, error) {
	head, err := r.Commit(rev)
	if err != nil {
		return nil, err
	}
	present, err := r.grantFiles(head)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Introduction, len(present))
	err = r.firstParentWalk(head, func(c *object.Commit, added []string) bool {
		for _, p := range added {
			id, ok := grantID(p)
			if _, done := out[id]; ok && present[p] && !done {
				out[id] = Introduction{ID: id, File: p, Commit: c.Hash.String(), When: c.Committer.When.UTC()}
			}
		}
		return len(out) < len(present)
	})
	return out, err
}

// EverExisted returns every grant id that existed at any commit along rev's
// first-parent history, with the commit where it first appeared.
func (r *Repo) EverExisted(rev string) (map[string]Appearance, error) {
	head, err := r.Commit(rev)
	if err != nil {
		return nil, err
	}
	out := map[string]Appearance{}
	err = r.firstParentWalk(head, func(c *object.Commit, added []string) bool {
		for _, p := range added {
			if id, ok := grantID(p); ok {
				// Walking backwards, so a later (older) sighting replaces the
				// newer one: the result is the first appearance.
				out[id] = Appearance{ID: id, File: p, Commit: c.Hash.String(), When: c.Committer.When.UTC()}
			}
		}
		return true
	})
	return out, err
}

// grantFiles returns the grant file paths present in c.
func (r *Repo) grantFiles(c *object.Commit) (map[string]bool, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("reading tree of %s: %w", short(c.Hash), err)
	}
	at, err := subtree(tree, accessDir)
	if err != nil || at == nil {
		return map[string]bool{}, err
	}
	out := map[string]bool{}
	err = diffTrees(nil, at, accessDir, func(ch Change) {
		if _, ok := grantID(ch.Path); ok {
			out[ch.Path] = true
		}
	})
	return out, err
}
