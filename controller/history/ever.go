package history

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// Appearance records when a grant id first appeared on a branch.
type Appearance struct {
	ID string
	// File is the grant file, access/ID.yaml.
	File string
	// Commit is the full hash of the first commit along the first-parent
	// history that had the file.
	Commit string
	// When is that commit's committer time in UTC.
	When time.Time
}

// EverExisted returns every grant id that existed at any commit along the
// first-parent history of the commit hash (full), with the commit where it
// first appeared. A file added and removed inside a merged branch never
// existed on this one.
//
// For a repository on disk the answer is kept in an index under the git
// directory (jit/ever-<hash>.idx, one file per commit it covers), so that
// the next call only walks the commits added since: it walks back from hash
// until it meets a commit that has an index, and adds what it found to that
// index's ids. An index is used only when its checksum holds, it names the
// commit it covers and that commit lies on hash's first-parent history, and
// its root commit is a root commit of this repository; anything else is
// ignored (and walked past). The index only ever adds ids, so a stale
// index jit wrote cannot make an id look new. Its checksum detects
// corruption, not tampering: whoever can write the git directory can make an
// id look new, so the directory must never be restored from a cache shared
// with less trusted jobs. Writing is atomic (a temporary
// file renamed into place) and concurrent calls are safe; a git directory
// that cannot be written only makes every call walk the whole history.
func (r *Repo) EverExisted(ctx context.Context, hash string) (map[string]Appearance, error) {
	h, err := parseHash(hash)
	if err != nil {
		return nil, err
	}
	idx := r.indexDir()
	tips := idx.tips()
	if tips[h] {
		if ix, err := idx.load(r, h); err == nil {
			return appearances(ix.ids), nil
		}
	}
	found := map[string]appearance{}
	var base *everIndex
	var root plumbing.Hash
	walked := 0
	err = r.walk(ctx, h, false, func(c *commitHead, changes []Change) bool {
		if tips[c.hash] {
			if ix, err := idx.load(r, c.hash); err == nil {
				base = ix
				return false
			}
		}
		walked++
		for _, ch := range changes {
			if ch.Action == Added {
				if id, ok := grantID(ch.Path); ok {
					// Walking backwards: an older sighting replaces a newer one.
					found[id] = appearance{commit: c.hash, when: c.when}
				}
			}
		}
		if len(c.parents) == 0 {
			root = c.hash
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	all := found
	if base != nil {
		root = base.root
		all = base.ids
		for id, a := range found {
			if _, ok := all[id]; !ok {
				all[id] = a
			}
		}
	}
	if walked > 0 {
		idx.store(&everIndex{root: root, tip: h, ids: all})
	}
	return appearances(all), nil
}

func appearances(ids map[string]appearance) map[string]Appearance {
	out := make(map[string]Appearance, len(ids))
	for id, a := range ids {
		out[id] = Appearance{ID: id, File: accessDir + "/" + id + ".yaml", Commit: a.commit.String(), When: time.Unix(a.when, 0).UTC()}
	}
	return out
}

type appearance struct {
	commit plumbing.Hash
	when   int64
}

// everIndex is the set of grant ids that ever existed along the first-parent
// history of tip, whose root commit is root.
type everIndex struct {
	root, tip plumbing.Hash
	ids       map[string]appearance
}

const indexMagic = "jit ever-existed index v1"

// keepIndexes is how many index files are kept (the newest).
const keepIndexes = 4

// indexDir is the directory of index files, "" when there is none.
type indexDir string

func (r *Repo) indexDir() indexDir { return indexDir(r.CacheDir()) }

// CacheDir is the directory inside the repository's (common) git directory
// where jit keeps indexes derived from history, such as the ever-existed
// index: <git dir>/jit. It is "" when the repository has no git directory
// on disk. Nothing there is shipped with the repository's objects, and
// everything there may be deleted at any time.
func (r *Repo) CacheDir() string {
	if r.gitDir == "" {
		return ""
	}
	return filepath.Join(r.gitDir, "jit")
}

func indexName(tip plumbing.Hash) string { return "ever-" + tip.String() + ".idx" }

// tips lists the commits that have an index file.
func (d indexDir) tips() map[plumbing.Hash]bool {
	out := map[plumbing.Hash]bool{}
	if d == "" {
		return out
	}
	entries, _ := os.ReadDir(string(d))
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), "ever-")
		if name, ok2 := strings.CutSuffix(name, ".idx"); ok && ok2 {
			if h, err := parseHash(name); err == nil {
				out[h] = true
			}
		}
	}
	return out
}

// load reads and checks the index of tip.
func (d indexDir) load(r *Repo, tip plumbing.Hash) (*everIndex, error) {
	data, err := os.ReadFile(filepath.Join(string(d), indexName(tip)))
	if err != nil {
		return nil, err
	}
	ix, err := decodeIndex(data)
	if err != nil {
		return nil, err
	}
	if ix.tip != tip {
		return nil, fmt.Errorf("index file for %s covers %s", short(tip), short(ix.tip))
	}
	// The tip's hash fixes its whole history, root included; checking the
	// root exists here and is a root only costs one read, and keeps an index
	// that names some other repository's root from being used.
	rc, err := r.readCommit(ix.root)
	if err != nil || len(rc.parents) != 0 {
		return nil, fmt.Errorf("index root %s is not a root commit of this repository", short(ix.root))
	}
	return ix, nil
}

// store writes ix atomically and prunes old index files. Errors are
// ignored: the index is a cache.
func (d indexDir) store(ix *everIndex) {
	if d == "" {
		return
	}
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return
	}
	f, err := os.CreateTemp(string(d), ".ever-*.tmp")
	if err != nil {
		return
	}
	_, err = f.Write(encodeIndex(ix))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(string(d), indexName(ix.tip)))
	}
	if err != nil {
		os.Remove(f.Name())
		return
	}
	d.prune(indexName(ix.tip))
}

// prune removes all but the newest keepIndexes index files (never keep),
// and temporary files left by interrupted writers an hour ago or more.
func (d indexDir) prune(keep string) {
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return
	}
	type file struct {
		name string
		mod  time.Time
	}
	var idx []file
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(e.Name(), ".ever-") && strings.HasSuffix(e.Name(), ".tmp"):
			if time.Since(info.ModTime()) > time.Hour {
				os.Remove(filepath.Join(string(d), e.Name()))
			}
		case strings.HasPrefix(e.Name(), "ever-") && strings.HasSuffix(e.Name(), ".idx") && e.Name() != keep:
			idx = append(idx, file{e.Name(), info.ModTime()})
		}
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i].mod.After(idx[j].mod) })
	for i := keepIndexes - 1; i < len(idx); i++ {
		os.Remove(filepath.Join(string(d), idx[i].name))
	}
}

// encodeIndex writes:
//
//	jit ever-existed index v1
//	root <hash>
//	tip <hash>
//	ids <n>
//	<commit hash> <unix seconds> <quoted id>     (n lines, sorted by id)
//	sha256 <hex of every byte above>
func encodeIndex(ix *everIndex) []byte {
	ids := make([]string, 0, len(ix.ids))
	for id := range ix.ids {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nroot %s\ntip %s\nids %d\n", indexMagic, ix.root, ix.tip, len(ids))
	for _, id := range ids {
		a := ix.ids[id]
		b.WriteString(a.commit.String())
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(a.when, 10))
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(id))
		b.WriteByte('\n')
	}
	sum := sha256.Sum256(b.Bytes())
	b.WriteString("sha256 " + hex.EncodeToString(sum[:]) + "\n")
	return b.Bytes()
}

var errCorrupt = errors.New("corrupt ever-existed index")

func decodeIndex(data []byte) (*everIndex, error) {
	i := bytes.LastIndex(data, []byte("sha256 "))
	if i < 0 || i > 0 && data[i-1] != '\n' || !bytes.HasSuffix(data, []byte("\n")) {
		return nil, errCorrupt
	}
	sum := sha256.Sum256(data[:i])
	if string(data[i+len("sha256 "):len(data)-1]) != hex.EncodeToString(sum[:]) {
		return nil, errCorrupt
	}
	sc := bufio.NewScanner(bytes.NewReader(data[:i]))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := func() string {
		if !sc.Scan() {
			return ""
		}
		return sc.Text()
	}
	if line() != indexMagic {
		return nil, errCorrupt
	}
	ix := &everIndex{}
	var err1, err2 error
	root, ok1 := strings.CutPrefix(line(), "root ")
	tip, ok2 := strings.CutPrefix(line(), "tip ")
	ix.root, err1 = parseHash(root)
	ix.tip, err2 = parseHash(tip)
	n, err := strconv.Atoi(strings.TrimPrefix(line(), "ids "))
	if !ok1 || !ok2 || err1 != nil || err2 != nil || err != nil || n < 0 {
		return nil, errCorrupt
	}
	ix.ids = make(map[string]appearance, n)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) < 40+1+1+1+2 || line[40] != ' ' || !parseHex(line[:40], new(plumbing.Hash)) {
			return nil, errCorrupt
		}
		var c plumbing.Hash
		parseHex(line[:40], &c)
		rest := line[41:]
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			return nil, errCorrupt
		}
		when, err := strconv.ParseInt(string(rest[:sp]), 10, 64)
		if err != nil {
			return nil, errCorrupt
		}
		id, err := unquote(rest[sp+1:])
		if err != nil || id == "" {
			return nil, errCorrupt
		}
		ix.ids[id] = appearance{commit: c, when: when}
	}
	if sc.Err() != nil || len(ix.ids) != n {
		return nil, errCorrupt
	}
	return ix, nil
}

// unquote undoes strconv.Quote, quickly for the common id without escapes.
func unquote(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 && bytes.IndexByte(b[1:len(b)-1], '"') < 0 {
		inner := b[1 : len(b)-1]
		ok := true
		for _, c := range inner {
			if c < 0x20 || c >= 0x7f {
				ok = false
				break
			}
		}
		if ok {
			return string(inner), nil
		}
	}
	return strconv.Unquote(string(b))
}
