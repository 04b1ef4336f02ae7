package pass

import (
	"io/fs"
	"sync"
)

// lockedFS serialises every use of a tree read from git: a history.Repo is
// not safe for concurrent use, while the workspace manager reads templates
// for several grants at once.
type lockedFS struct {
	mu   *sync.Mutex
	fsys fs.FS
}

func newLockedFS(fsys fs.FS) fs.FS { return lockedFS{mu: &sync.Mutex{}, fsys: fsys} }

func (l lockedFS) Open(name string) (fs.File, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := l.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if d, ok := f.(fs.ReadDirFile); ok {
		return lockedDir{lockedFile{l.mu, f}, d}, nil
	}
	return lockedFile{l.mu, f}, nil
}

type lockedFile struct {
	mu *sync.Mutex
	f  fs.File
}

func (l lockedFile) Stat() (fs.FileInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Stat()
}

func (l lockedFile) Read(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Read(b)
}

func (l lockedFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

type lockedDir struct {
	lockedFile
	d fs.ReadDirFile
}

func (l lockedDir) ReadDir(n int) ([]fs.DirEntry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	es, err := l.d.ReadDir(n)
	for i, e := range es {
		es[i] = lockedEntry{l.mu, e}
	}
	return es, err
}

// lockedEntry locks Info, which may read from the repository.
type lockedEntry struct {
	mu *sync.Mutex
	fs.DirEntry
}

func (l lockedEntry) Info() (fs.FileInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.DirEntry.Info()
}
