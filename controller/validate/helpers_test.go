package validate_test

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/jitops/jit/controller/internal/gittest"
)

// setRef points the reference name at h.
func setRef(t *testing.T, g *gittest.Repo, name string, h plumbing.Hash) {
	t.Helper()
	if err := g.Git.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), h)); err != nil {
		t.Fatal(err)
	}
}
