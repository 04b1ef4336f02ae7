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
	tree := c.tree
	parts := strings.Split(path, "/")
	for i, part := range parts {
		t, err := r.readTree(tree)
		if err != nil {
			return Entry{}, err
		}
		e, ok, err := lookup(t, part)
		switch {
		case err != nil:
			return Entry{}, fmt.Errorf("reading %s at %s: %w", path, short(h), err)
		case !ok || i < len(parts)-1 && !e.isDir():
			return Entry{}, fmt.Errorf("%s at %s: %w", path, short(h), fs.ErrNotExist)
		case i < len(parts)-1:
			tree = e.hash
		case e.isDir():
			return Entry{}, fmt.Errorf("%s at %s is a directory, not a file", path, short(h))
		default:
			return entryOf(&e), nil
		}
	}
	return Entry{}, fmt.Errorf("%s at %s: %w", path, short(h), fs.ErrNotExist)
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
