package history

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Repo is a git repository opened for reading. Its methods may be called
// from several goroutines at once.
type Repo struct {
	r *git.Repository
	// objs reads objects, from mapped pack files where it can.
	objs   *packObjects
	closer io.Closer
	mu     sync.Mutex
	trees  map[plumbing.Hash]rawTree // see readTree
	// gitDir is the repository's (common) git directory on disk, where the
	// ever-existed index lives.
	gitDir string
}

// Open opens the git repository containing dir (dir or any parent). The
// Repo is not safe for concurrent use: open one per goroutine.
func Open(dir string) (*Repo, error) {
	r, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("opening git repository at %s: %w", dir, err)
	}
	st, ok := r.Storer.(*filesystem.Storage)
	if !ok {
		return nil, fmt.Errorf("opening git repository at %s: not stored on disk", dir)
	}
	gitDir := commonDir(st.Filesystem().Root())
	// Reopen the same object store keeping pack files open: by default
	// go-git reopens the pack for every object it reads.
	keep := filesystem.NewStorageWithOptions(st.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	var wtfs billy.Filesystem
	if wt, err := r.Worktree(); err == nil {
		wtfs = wt.Filesystem
	}
	if r2, err := git.Open(keep, wtfs); err == nil {
		r = r2
	}
	return &Repo{r: r, closer: keep, gitDir: gitDir,
		objs: &packObjects{EncodedObjectStorer: r.Storer, packs: openPacks(filepath.Join(gitDir, "objects"))}}, nil
}

// commonDir returns the git directory shared by all worktrees of the one
// at gitDir (itself, for the main worktree).
func commonDir(gitDir string) string {
	b, err := os.ReadFile(filepath.Join(gitDir, "commondir"))
	if err != nil {
		return gitDir
	}
	d := strings.TrimSpace(string(b))
	if !filepath.IsAbs(d) {
		d = filepath.Join(gitDir, d)
	}
	return filepath.Clean(d)
}

// Close releases the pack files held open. The Repo must not be used after.
func (r *Repo) Close() error {
	r.objs.close()
	return r.closer.Close()
}

// parseHash accepts exactly a full lower-case 40-hex object name.
func parseHash(s string) (plumbing.Hash, error) {
	var h plumbing.Hash
	if len(s) != 2*len(h) || strings.ToLower(s) != s {
		return h, fmt.Errorf("%q is not a full 40-hex commit hash; resolve revisions with Resolve first", s)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%q is not a full 40-hex commit hash; resolve revisions with Resolve first", s)
	}
	return h, nil
}

// tree reads tree h as go-git's type (for FS and BlobID).
func (r *Repo) tree(h plumbing.Hash) (*object.Tree, error) {
	t, err := object.GetTree(r.objs, h)
	if err != nil {
		return nil, fmt.Errorf("reading tree %s: %w", short(h), err)
	}
	return t, nil
}

func short(h plumbing.Hash) string { return h.String()[:12] }

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}
