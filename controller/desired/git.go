package desired

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jitops/jit/controller/history"
)

// FromHistory adapts a local clone opened by controller/history to Repo.
func FromHistory(r *history.Repo) Repo { return gitRepo{r} }

type gitRepo struct{ r *history.Repo }

func (g gitRepo) Resolve(_ context.Context, rev string) (string, error) { return g.r.Resolve(rev) }

func (g gitRepo) CommitInfo(_ context.Context, hash string) (Commit, error) {
	c, err := g.r.CommitInfo(hash)
	if err != nil {
		return Commit{}, err
	}
	return Commit{Hash: c.Hash, Parents: c.Parents, Message: c.Message, CommitTime: c.Committer.When.UTC()}, nil
}

func (g gitRepo) Tree(_ context.Context, hash string) (fs.FS, error) { return g.r.FS(hash) }

func (g gitRepo) BlobID(_ context.Context, hash, path string) (string, error) {
	e, err := g.r.BlobID(hash, path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !e.Mode.IsFile() {
		return "", nil
	}
	return e.Blob, nil
}

func (g gitRepo) LastChanged(ctx context.Context, rev string, paths []string) (map[string]string, error) {
	out := make(map[string]string, len(paths))
	want := make(map[string]bool, len(paths))
	for _, p := range paths {
		want[p] = true
	}
	if len(want) == 0 {
		return out, nil
	}
	err := g.r.FirstParentChanges(ctx, rev, func(c history.Commit, changes []history.Change) bool {
		for _, ch := range changes {
			if want[ch.Path] && ch.To.Blob != "" {
				if _, done := out[ch.Path]; !done {
					out[ch.Path] = c.Hash
				}
			}
		}
		return len(out) < len(want)
	})
	if err != nil {
		return nil, fmt.Errorf("walking the first-parent history of %s: %w", short(rev), err)
	}
	return out, nil
}

func (g gitRepo) ReplayedMerges(ctx context.Context, tip string) (map[string]bool, error) {
	return g.r.ReplayedMerges(ctx, tip)
}

func (g gitRepo) EverExisted(ctx context.Context, hash string) (map[string]string, error) {
	ever, err := g.r.EverExisted(ctx, hash)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ever))
	for id, a := range ever {
		out[id] = a.Commit
	}
	return out, nil
}
