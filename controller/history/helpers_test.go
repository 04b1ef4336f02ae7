package history_test

import (
	"fmt"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/jitops/jit/controller/internal/gittest"
)

// setRef points the reference name at h.
func setRef(t *testing.T, g *gittest.Repo, name string, h plumbing.Hash) {
	t.Helper()
	if err := g.Git.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), h)); err != nil {
		t.Fatal(err)
	}
}

// annotatedTag makes an annotated tag object named name for commit h.
func annotatedTag(t *testing.T, g *gittest.Repo, name string, h plumbing.Hash) {
	t.Helper()
	tag := &object.Tag{Name: name, Tagger: object.Signature{Name: "admin", Email: "admin@example.com", When: gittest.Start},
		Message: "release " + name + "\n", TargetType: plumbing.CommitObject, Target: h}
	obj := g.Git.Storer.NewEncodedObject()
	if err := tag.Encode(obj); err != nil {
		t.Fatal(err)
	}
	th, err := g.Git.Storer.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	setRef(t, g, "refs/tags/"+name, th)
}

func plumbingHash(s string) plumbing.Hash { return plumbing.NewHash(s) }

// collidingCommits stores two commits (children of main) whose hashes share
// their first digits hex digits, and returns their hashes.
func collidingCommits(t *testing.T, g *gittest.Repo, digits int) (string, string) {
	t.Helper()
	parent, err := g.Git.CommitObject(g.Head("main"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]*plumbing.MemoryObject{}
	for i := 0; ; i++ {
		c := &object.Commit{Author: parent.Author, Committer: parent.Committer, TreeHash: parent.TreeHash,
			ParentHashes: []plumbing.Hash{parent.Hash}, Message: fmt.Sprintf("attempt %d\n", i)}
		obj := &plumbing.MemoryObject{}
		if err := c.Encode(obj); err != nil {
			t.Fatal(err)
		}
		h := obj.Hash().String()
		if prev, ok := seen[h[:digits]]; ok {
			for _, o := range []*plumbing.MemoryObject{prev, obj} {
				if _, err := g.Git.Storer.SetEncodedObject(o); err != nil {
					t.Fatal(err)
				}
			}
			return prev.Hash().String(), h
		}
		seen[h[:digits]] = obj
	}
}
