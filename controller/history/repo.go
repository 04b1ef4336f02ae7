package history

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Repo is a git repository opened for reading.
type Repo struct {
	r      *git.Repository
	closer io.Closer
}

// Open opens the git repository containing dir (dir or any parent).
func Open(dir string) (*Repo, error) {
	r, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("opening git repository at %s: %w", dir, err)
	}
	// Reopen the same object store keeping pack files open: by default
	// go-git reopens the pack for every object read, which dominates reading
	// a thousand grant files.
	if st, ok := r.Storer.(*filesystem.Storage); ok {
		keep := filesystem.NewStorageWithOptions(st.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
		wt, _ := r.Worktree()
		var wtfs billy.Filesystem
		if wt != nil {
			wtfs = wt.Filesystem
		}
		if r2, err := git.Open(keep, wtfs); err == nil {
			return &Repo{r: r2, closer: keep}, nil
		}
	}
	return &Repo{r: r}, nil
}

// Close releases the pack files held open. The Repo must not be used after.
func (r *Repo) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// New wraps an already opened go-git repository (for example an in-memory
// one in tests).
func New(r *git.Repository) *Repo { return &Repo{r: r} }

// Commit resolves rev (a branch, tag, "HEAD", a full or abbreviated hash, or
// any revision go-git understands) to a commit.
func (r *Repo) Commit(rev string) (*object.Commit, error) {
	h, err := r.r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("resolving revision %q: %w", rev, err)
	}
	c, err := r.r.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("reading commit %s: %w", h, err)
	}
	return c, nil
}

// MergeBase returns the best common ancestor of base and head, the commit a
// pull request's diff is computed from.
func (r *Repo) MergeBase(base, head *object.Commit) (*object.Commit, error) {
	bases, err := base.MergeBase(head)
	if err != nil {
		return nil, fmt.Errorf("finding merge base of %s and %s: %w", short(base.Hash), short(head.Hash), err)
	}
	if len(bases) == 0 {
		return nil, fmt.Errorf("commits %s and %s share no history", short(base.Hash), short(head.Hash))
	}
	return bases[0], nil
}

// subtree returns the tree at dir below t, or nil when there is none.
func subtree(t *object.Tree, dir string) (*object.Tree, error) {
	if dir == "" {
		return t, nil
	}
	st, err := t.Tree(dir)
	if errors.Is(err, object.ErrDirectoryNotFound) || errors.Is(err, object.ErrEntryNotFound) {
		return nil, nil
	}
	return st, err
}

func short(h plumbing.Hash) string { return h.String()[:12] }

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}

func underDir(p, dir string) bool { return dir == "" || p == dir || strings.HasPrefix(p, dir+"/") }
