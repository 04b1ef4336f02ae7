package history

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// Walking history decodes commits and trees straight from their bytes:
// decoding through go-git's object types allocated every entry of every
// tree, which dominated walking 100,000 commits.

// raw returns the content of object h, which must be of type t.
func (r *Repo) raw(t plumbing.ObjectType, h plumbing.Hash) ([]byte, error) {
	obj, err := r.objs.EncodedObject(t, h)
	if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", t, short(h), err)
	}
	return obj.(*rawObject).data, nil
}

// commitHead is what walks need of a commit.
type commitHead struct {
	hash, tree plumbing.Hash
	parents    []plumbing.Hash
	// when is the committer time in Unix seconds, read as go-git reads it
	// (0 when the committer line has none).
	when int64
	raw  []byte
	// fields are raw's headers and where its message starts.
	fields commitFields
	// decoded is the whole commit, when a walk that decodes has read it.
	decoded *Commit
}

// readCommit reads and parses commit h.
func (r *Repo) readCommit(h plumbing.Hash) (*commitHead, error) {
	data, err := r.raw(plumbing.CommitObject, h)
	if err != nil {
		return nil, err
	}
	f, err := parseCommitFields(data)
	if err != nil {
		return nil, fmt.Errorf("reading commit %s: %w", short(h), err)
	}
	return &commitHead{hash: h, tree: f.tree, parents: f.parents, when: unixTime(f.committer), raw: data, fields: f}, nil
}

// decode returns the whole commit.
func (c *commitHead) decode() Commit { return c.fields.commit(c.hash, c.raw) }

func parseHex(b []byte, h *plumbing.Hash) bool {
	if len(b) != 40 {
		return false
	}
	for i := 0; i < 20; i++ {
		hi, ok1 := fromHex(b[2*i])
		lo, ok2 := fromHex(b[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		h[i] = hi<<4 | lo
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// rawTree is a tree object's content.
type rawTree []byte

// treeEntry is one entry of a rawTree; name aliases the tree's bytes.
type treeEntry struct {
	name []byte
	mode filemode.FileMode
	hash plumbing.Hash
}

func (e *treeEntry) isDir() bool { return e.mode == filemode.Dir }

var errBadTree = errors.New("malformed tree")

// treeIter walks a rawTree's entries, checking that they come in git's
// order: an unsorted tree could hide an entry from a merge of two trees.
type treeIter struct {
	rest rawTree
	cur  treeEntry
	ok   bool
	err  error
}

func newTreeIter(t rawTree) *treeIter {
	it := &treeIter{rest: t}
	it.next()
	return it
}

// next advances to the next entry; ok is false at the end or on error.
func (it *treeIter) next() {
	if it.err != nil || len(it.rest) == 0 {
		it.ok = false
		return
	}
	sp := bytes.IndexByte(it.rest, ' ')
	nul := bytes.IndexByte(it.rest, 0)
	if sp <= 0 || nul <= sp+1 || nul+21 > len(it.rest) {
		it.ok, it.err = false, errBadTree
		return
	}
	var mode uint32
	for _, c := range it.rest[:sp] {
		if c < '0' || c > '7' || mode > 1<<24 {
			it.ok, it.err = false, errBadTree
			return
		}
		mode = mode<<3 | uint32(c-'0')
	}
	e := treeEntry{name: it.rest[sp+1 : nul], mode: filemode.FileMode(mode)}
	copy(e.hash[:], it.rest[nul+1:nul+21])
	it.rest = it.rest[nul+21:]
	if it.ok && gitCompare(&it.cur, &e) >= 0 {
		it.ok, it.err = false, fmt.Errorf("%w: entries out of order at %q", errBadTree, e.name)
		return
	}
	if bytes.IndexByte(e.name, '/') >= 0 || string(e.name) == "." || string(e.name) == ".." {
		it.ok, it.err = false, fmt.Errorf("%w: entry name %q", errBadTree, e.name)
		return
	}
	it.cur, it.ok = e, true
}

// gitCompare orders tree entries as git does: by name, a directory's name
// as if it ended in "/".
func gitCompare(a, b *treeEntry) int {
	n := min(len(a.name), len(b.name))
	if c := bytes.Compare(a.name[:n], b.name[:n]); c != 0 {
		return c
	}
	var ca, cb byte
	switch {
	case len(a.name) > n:
		ca = a.name[n]
	case a.isDir():
		ca = '/'
	}
	switch {
	case len(b.name) > n:
		cb = b.name[n]
	case b.isDir():
		cb = '/'
	}
	return int(ca) - int(cb)
}

// readTree reads tree h, keeping recently read trees: a first-parent walk
// compares each commit's trees with its parent's, so each is wanted twice.
func (r *Repo) readTree(h plumbing.Hash) (rawTree, error) {
	r.mu.Lock()
	t, ok := r.trees[h]
	r.mu.Unlock()
	if ok {
		return t, nil
	}
	data, err := r.raw(plumbing.TreeObject, h)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.trees == nil || len(r.trees) >= maxTrees {
		r.trees = make(map[plumbing.Hash]rawTree, maxTrees)
	}
	r.trees[h] = data
	r.mu.Unlock()
	return data, nil
}

// maxTrees bounds the trees kept by readTree.
const maxTrees = 4096

// lookup returns the entry named name in tree t.
// A tree naming both a file and a directory name (which git fsck rejects)
// is an error: either could hide the other.
func lookup(t rawTree, name string) (treeEntry, bool, error) {
	var found treeEntry
	ok := false
	it := newTreeIter(t)
	for ; it.ok; it.next() {
		if string(it.cur.name) == name {
			if ok {
				return treeEntry{}, false, fmt.Errorf("%w: two entries named %q", errBadTree, name)
			}
			found, ok = it.cur, true
		}
	}
	return found, ok, it.err
}
