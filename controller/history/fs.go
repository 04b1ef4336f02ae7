package history

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// FS returns the tree of the commit hash (full) as a read-only fs.FS (also
// implementing fs.ReadDirFS, fs.ReadFileFS and fs.StatFS). Symbolic links
// show as fs.ModeSymlink and are never followed; submodules show as
// irregular files. Every file reports the commit's committer time as its
// modification time.
func (r *Repo) FS(hash string) (fs.FS, error) {
	h, err := parseHash(hash)
	if err != nil {
		return nil, err
	}
	c, err := r.readCommit(h)
	if err != nil {
		return nil, err
	}
	t, err := r.tree(c.tree)
	if err != nil {
		return nil, err
	}
	return &treeFS{repo: r, root: t, when: parseSignature(c.fields.committer).When, dirs: map[string]*dirIndex{".": newDirIndex(t)}}, nil
}

type treeFS struct {
	repo *Repo
	root *object.Tree
	when time.Time

	mu   sync.Mutex
	dirs map[string]*dirIndex // decoded directories by path, "." for the root
}

// dirIndex is a decoded tree with its entries by name.
type dirIndex struct {
	tree    *object.Tree
	entries map[string]object.TreeEntry
}

func newDirIndex(t *object.Tree) *dirIndex {
	d := &dirIndex{tree: t, entries: make(map[string]object.TreeEntry, len(t.Entries))}
	for _, e := range t.Entries {
		d.entries[e.Name] = e
	}
	return d
}

// dir returns the decoded directory at p, decoding each tree once: looking
// up a thousand grant files must not decode their parent trees a thousand
// times.
func (t *treeFS) dir(p string) (*dirIndex, error) {
	t.mu.Lock()
	d, ok := t.dirs[p]
	t.mu.Unlock()
	if ok {
		return d, nil
	}
	parent, err := t.dir(path.Dir(p))
	if err != nil {
		return nil, err
	}
	e, ok := parent.entries[path.Base(p)]
	if !ok || e.Mode != filemode.Dir {
		return nil, fs.ErrNotExist
	}
	tree, err := t.repo.tree(e.Hash)
	if err != nil {
		return nil, err
	}
	d = newDirIndex(tree)
	t.mu.Lock()
	t.dirs[p] = d
	t.mu.Unlock()
	return d, nil
}

func (t *treeFS) lookup(op, name string) (object.TreeEntry, error) {
	if !fs.ValidPath(name) {
		return object.TreeEntry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return object.TreeEntry{Name: ".", Mode: filemode.Dir, Hash: t.root.Hash}, nil
	}
	d, err := t.dir(path.Dir(name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return object.TreeEntry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		return object.TreeEntry{}, &fs.PathError{Op: op, Path: name, Err: err}
	}
	e, ok := d.entries[path.Base(name)]
	if !ok {
		return object.TreeEntry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return e, nil
}

func (t *treeFS) info(name string, e object.TreeEntry) (*entryInfo, error) {
	fi := &entryInfo{name: path.Base(name), mode: goMode(e.Mode), when: t.when}
	if e.Mode.IsFile() {
		size, err := t.repo.objs.EncodedObjectSize(e.Hash)
		if err != nil {
			return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
		}
		fi.size = size
	}
	return fi, nil
}

func (t *treeFS) Stat(name string) (fs.FileInfo, error) {
	e, err := t.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return t.info(name, e)
}

func (t *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := t.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if e.Mode != filemode.Dir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	dir, err := t.dir(name)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, 0, len(dir.tree.Entries))
	for _, ce := range dir.tree.Entries {
		ce := ce
		out = append(out, &dirEntry{fs: t, path: path.Join(name, ce.Name), e: ce})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

func (t *treeFS) ReadFile(name string) ([]byte, error) {
	f, err := t.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func (t *treeFS) Open(name string) (fs.File, error) {
	e, err := t.lookup("open", name)
	if err != nil {
		return nil, err
	}
	fi, err := t.info(name, e)
	if err != nil {
		return nil, err
	}
	if e.Mode == filemode.Dir {
		return &dirFile{fs: t, name: name, info: fi}, nil
	}
	if !e.Mode.IsFile() {
		return &blobFile{info: fi, r: io.NopCloser(eofReader{})}, nil
	}
	blob, err := t.repo.objs.EncodedObject(plumbing.BlobObject, e.Hash)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	rd, err := blob.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &blobFile{info: fi, r: rd}, nil
}

func goMode(m filemode.FileMode) fs.FileMode {
	switch m {
	case filemode.Dir:
		return fs.ModeDir | 0o755
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Executable:
		return 0o755
	case filemode.Regular, filemode.Deprecated:
		return 0o644
	}
	return fs.ModeIrregular
}

type entryInfo struct {
	name string
	size int64
	mode fs.FileMode
	when time.Time
}

func (i *entryInfo) Name() string       { return i.name }
func (i *entryInfo) Size() int64        { return i.size }
func (i *entryInfo) Mode() fs.FileMode  { return i.mode }
func (i *entryInfo) ModTime() time.Time { return i.when }
func (i *entryInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *entryInfo) Sys() any           { return nil }

type dirEntry struct {
	fs   *treeFS
	path string
	e    object.TreeEntry
}

func (d *dirEntry) Name() string               { return d.e.Name }
func (d *dirEntry) IsDir() bool                { return d.e.Mode == filemode.Dir }
func (d *dirEntry) Type() fs.FileMode          { return goMode(d.e.Mode).Type() }
func (d *dirEntry) Info() (fs.FileInfo, error) { return d.fs.info(d.path, d.e) }

type blobFile struct {
	info *entryInfo
	r    io.ReadCloser
}

func (f *blobFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *blobFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *blobFile) Close() error               { return f.r.Close() }

type dirFile struct {
	fs      *treeFS
	name    string
	info    *entryInfo
	entries []fs.DirEntry
	read    bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		es, err := d.fs.ReadDir(d.name)
		if err != nil {
			return nil, err
		}
		d.entries, d.read = es, true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	if n > len(d.entries) {
		n = len(d.entries)
	}
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
