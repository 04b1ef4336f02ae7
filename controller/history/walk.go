package history

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// accessDir is where grant files live; kept here so that history does not
// depend on the grant parser.
const accessDir = "access"

// IsGrantPath reports whether p names a grant file: under access/ and ending
// in .yaml. Walks report changes to these paths only.
func IsGrantPath(p string) bool {
	_, ok := grantID(p)
	return ok
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

// FirstParentChanges calls fn for each commit along the first-parent history
// of the commit hash (full), newest first, starting with that commit and
// ending with the root commit, until fn returns false. Each call gets the
// commit and the grant files (paths under access/ ending in .yaml, whatever
// their mode) that the commit added, modified or deleted relative to its
// first parent (a root commit: relative to the empty tree), sorted by path,
// with the blob ids and modes before and after. Commits that change no
// grant file are passed too, with no changes: the controller's own commits
// are empty. The commits of merged branches are not visited, only their
// merges. A cancelled ctx stops the walk with ctx's error.
func (r *Repo) FirstParentChanges(ctx context.Context, hash string, fn func(Commit, []Change) bool) error {
	h, err := parseHash(hash)
	if err != nil {
		return err
	}
	return r.walk(ctx, h, true, func(c *commitHead, changes []Change) bool {
		return fn(*c.decoded, changes)
	})
}

// walk is FirstParentChanges on go-git values. One goroutine reads the
// commits along first parents while GOMAXPROCS workers diff each commit's
// access/ tree against its first parent's (each root tree is decoded once
// in a while, access/ subtrees only when their hash differs); fn still sees
// the commits one at a time, newest first. walk returns only once every
// goroutine it started has stopped. With decode, the workers also decode
// each commit whole (c.decoded).
func (r *Repo) walk(ctx context.Context, h plumbing.Hash, decode bool, fn func(c *commitHead, changes []Change) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type step struct {
		c          *commitHead
		parentTree plumbing.Hash // zero for a root commit
		changes    []Change
		err        error
		done       chan struct{}
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	jobs := make(chan *step, 4*workers)
	order := make(chan *step, 8*workers)
	var wg sync.WaitGroup
	wg.Add(1 + workers)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(jobs)
		c, err := r.readCommit(h)
		for {
			s := &step{c: c, err: err, done: make(chan struct{})}
			var parent *commitHead
			if err == nil && len(c.parents) > 0 {
				if parent, err = r.readCommit(c.parents[0]); err == nil {
					s.parentTree = parent.tree
				}
				s.err = err
			}
			select {
			case order <- s:
			case <-ctx.Done():
				return
			}
			if s.err != nil {
				close(s.done)
				return
			}
			select {
			case jobs <- s:
			case <-ctx.Done():
				return
			}
			if parent == nil {
				return
			}
			c = parent
		}
	}()
	for range workers {
		go func() {
			defer wg.Done()
			for s := range jobs {
				if decode {
					c := s.c.decode()
					s.c.decoded = &c
				}
				s.changes, s.err = r.stepChanges(ctx, s.c.tree, s.parentTree)
				close(s.done)
			}
		}()
	}
	err := func() error {
		for s := range order {
			select {
			case <-s.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if s.err != nil {
				return s.err
			}
			if !fn(s.c, s.changes) {
				return nil
			}
		}
		return ctx.Err()
	}()
	cancel()
	wg.Wait()
	return err
}

// stepChanges returns the grant file changes between the root trees parent
// (zero: none) and cur.
func (r *Repo) stepChanges(ctx context.Context, cur, parent plumbing.Hash) ([]Change, error) {
	if cur == parent {
		return nil, nil
	}
	to, err := r.accessHash(cur)
	if err != nil {
		return nil, err
	}
	from := plumbing.ZeroHash
	if !parent.IsZero() {
		if from, err = r.accessHash(parent); err != nil {
			return nil, err
		}
	}
	if from == to {
		return nil, nil
	}
	return r.diffAccess(ctx, from, to)
}

// accessHash returns the hash of the access/ tree in the root tree root, or
// the zero hash when there is no such directory.
func (r *Repo) accessHash(root plumbing.Hash) (plumbing.Hash, error) {
	t, err := r.readTree(root)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	e, ok, err := lookup(t, accessDir)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("reading tree %s: %w", short(root), err)
	}
	if !ok || !e.isDir() {
		return plumbing.ZeroHash, nil
	}
	return e.hash, nil
}

// diffAccess returns the grant file changes between two access/ trees (zero
// hash: none), sorted by path.
func (r *Repo) diffAccess(ctx context.Context, from, to plumbing.Hash) ([]Change, error) {
	var out []Change
	err := r.diffTrees(ctx, from, to, accessDir, func(c Change) error {
		if IsGrantPath(c.Path) {
			out = append(out, c)
		}
		return nil
	})
	sortChanges(out)
	return out, err
}

// Introduction is the commit that most recently added a grant file on a
// branch: for a grant merged through a pull request, the merge commit.
type Introduction struct {
	// ID is the grant id (path below access/ without .yaml).
	ID string
	// File is the repository-relative path.
	File string
	// Commit is the full hash of the introducing commit.
	Commit string
	// When is that commit's committer time in UTC, from which expiry counts.
	When time.Time
}

// Introductions returns, for every grant file present at the commit hash
// (full), the commit along its first-parent history that most recently
// added it, keyed by grant id. It walks back until every file is found.
func (r *Repo) Introductions(ctx context.Context, hash string) (map[string]Introduction, error) {
	h, err := parseHash(hash)
	if err != nil {
		return nil, err
	}
	c, err := r.readCommit(h)
	if err != nil {
		return nil, err
	}
	at, err := r.accessHash(c.tree)
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	files, err := r.diffAccess(ctx, plumbing.ZeroHash, at)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		present[f.Path] = true
	}
	out := make(map[string]Introduction, len(present))
	if len(present) == 0 {
		return out, nil
	}
	err = r.walk(ctx, h, false, func(c *commitHead, changes []Change) bool {
		for _, ch := range changes {
			id, _ := grantID(ch.Path)
			if _, done := out[id]; ch.Action == Added && present[ch.Path] && !done {
				out[id] = Introduction{ID: id, File: ch.Path, Commit: c.hash.String(), When: time.Unix(c.when, 0).UTC()}
			}
		}
		return len(out) < len(present)
	})
	return out, err
}
