package history

import (
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// Signature is who made a commit and when, as git recorded it.
type Signature struct {
	Name  string
	Email string
	// When keeps the time zone offset the commit was written with.
	When time.Time
}

// Commit is one commit as plain values.
type Commit struct {
	// Hash is the commit's full 40-hex hash.
	Hash string
	// Parents are the parents' full hashes, first parent first; empty for a
	// root commit.
	Parents []string
	// Tree is the full hash of the commit's root tree.
	Tree      string
	Author    Signature
	Committer Signature
	// Message is the whole commit message, trailers included, exactly as
	// stored.
	Message string
}

// CommitInfo returns the commit with the full hash hash.
func (r *Repo) CommitInfo(hash string) (Commit, error) {
	c, err := r.commit(hash)
	if err != nil {
		return Commit{}, err
	}
	return plain(c), nil
}

func plain(c *object.Commit) Commit {
	out := Commit{
		Hash:      c.Hash.String(),
		Tree:      c.TreeHash.String(),
		Author:    Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
		Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
		Message:   c.Message,
	}
	if len(c.ParentHashes) > 0 {
		out.Parents = make([]string, len(c.ParentHashes))
		for i, p := range c.ParentHashes {
			out.Parents[i] = p.String()
		}
	}
	return out
}
