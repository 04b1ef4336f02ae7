package history

import "time"

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
	h, err := parseHash(hash)
	if err != nil {
		return Commit{}, err
	}
	c, err := r.readCommit(h)
	if err != nil {
		return Commit{}, err
	}
	return c.decode(), nil
}
