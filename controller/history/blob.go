package history

import (
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// BlobID returns the entry of the file at path (repository-relative, forward
// slashes) in the tree of the commit hash (full). A missing file is an error
// wrapping fs.ErrNotExist; a directory is an error.
func (r *Repo) BlobID(hash, path string) (Entry, error) {
	h, err := parseHash(hash)
	if err != nil {
		return Entry{}, err
	}
	if !fs.ValidPath(path) || path == "." {
		return Entry{}, fmt.Errorf("%q is not a repository-relative file path", path)
	}
	c, err := r.readCommit(h)
	if err != nil {
		return Entry{}, err
	}
	return r.entryAt(c.tree, path, short(h), false)
}

// TreeEntry returns the entry at path (repository-relative, forward
// slashes) under the root tree tree (a full hash, as in Commit.Tree),
// reading no commit: a walk that already has a commit's tree looks its
// files up without reading the commit again. Unlike BlobID, a directory is
// returned too, as its tree's full hash with ModeOther. A missing path is an
// error wrapping fs.ErrNotExist.
func (r *Repo) TreeEntry(tree, path string) (Entry, error) {
	h, err := parseHash(tree)
	if err != nil {
		return Entry{}, err
	}
	if !fs.ValidPath(path) || path == "." {
		return Entry{}, fmt.Errorf("%q is not a repository-relative path", path)
	}
	return r.entryAt(h, path, "tree "+short(h), true)
}

// entryAt looks path up under the root tree tree; at names where for
// errors; dirOK allows the path to end at a directory.
func (r *Repo) entryAt(tree plumbing.Hash, path, at string, dirOK bool) (Entry, error) {
	parts := strings.Split(path, "/")
	for i, part := range parts {
		t, err := r.readTree(tree)
		if err != nil {
			return Entry{}, err
		}
		e, ok, err := lookup(t, part)
		switch {
		case err != nil:
			return Entry{}, fmt.Errorf("reading %s at %s: %w", path, at, err)
		case !ok || i < len(parts)-1 && !e.isDir():
			return Entry{}, fmt.Errorf("%s at %s: %w", path, at, fs.ErrNotExist)
		case i < len(parts)-1:
			tree = e.hash
		case e.isDir() && !dirOK:
			return Entry{}, fmt.Errorf("%s at %s is a directory, not a file", path, at)
		default:
			return entryOf(&e), nil
		}
	}
	return Entry{}, fmt.Errorf("%s at %s: %w", path, at, fs.ErrNotExist)
}

// ReadBlob returns the size of the blob id (a full hash, as in Entry.Blob)
// and, when that size is at most limit, its content; data is nil for a
// larger blob, which is never read into memory.
func (r *Repo) ReadBlob(id string, limit int64) (data []byte, size int64, err error) {
	h, err := parseBlobHash(id)
	if err != nil {
		return nil, 0, err
	}
	size, err = r.objs.EncodedObjectSize(h)
	if err != nil {
		return nil, 0, fmt.Errorf("reading blob %s: %w", short(h), err)
	}
	if size > limit {
		return nil, size, nil
	}
	obj, err := r.objs.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, 0, fmt.Errorf("reading blob %s: %w", short(h), err)
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, 0, fmt.Errorf("reading blob %s: %w", short(h), err)
	}
	defer rd.Close()
	data, err = io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, 0, fmt.Errorf("reading blob %s: %w", short(h), err)
	}
	if int64(len(data)) > limit {
		return nil, int64(len(data)), nil
	}
	return data, int64(len(data)), nil
}

func parseBlobHash(id string) (plumbing.Hash, error) {
	h, err := parseHash(id)
	if err != nil {
		return h, fmt.Errorf("%q is not a full 40-hex blob hash", id)
	}
	return h, nil
}
