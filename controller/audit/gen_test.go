package audit_test

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/ed25519"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/internal/decisiontest"
	"github.com/jitops/jit/controller/trailer"
)

// This file generates large access repositories for the benchmark and its
// smoke test. Every object (blob, tree, commit) is hashed in Go, so signed
// records can name the commits they belong to (Jit-Parent, Jit-Head), and
// the objects are streamed as one undeltified pack into git index-pack.

// genVersion keys the cache of generated repositories: change it whenever
// the generator's output changes.
const genVersion = "v1"

// genStart is when the first generated grant is merged.
var genStart = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// genSpacing is the time between two generated grants' merges.
const genSpacing = 3 * time.Hour

// genKey is the controller key of generated histories: fixed, so that a
// cached repository still verifies.
func genKey(t testing.TB) *decisiontest.Key {
	t.Helper()
	seed := sha256.Sum256([]byte("jit audit benchmark key"))
	s, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	return &decisiontest.Key{Signer: s}
}

type oid [20]byte

func (o oid) String() string { return hex.EncodeToString(o[:]) }

// packWriter streams git objects as an undeltified version 2 pack.
type packWriter struct {
	sum io.Writer // the pack's trailing sha1 covers every byte
	n   int
	z   *zlib.Writer
	buf bytes.Buffer
}

// git object type numbers in a pack.
const (
	objCommit = 1
	objTree   = 2
	objBlob   = 3
)

var typeName = map[int]string{objCommit: "commit", objTree: "tree", objBlob: "blob"}

// add writes one object and returns its id.
func (p *packWriter) add(typ int, data []byte) oid {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", typeName[typ], len(data))
	h.Write(data)
	var id oid
	copy(id[:], h.Sum(nil))

	var hdr []byte
	size := len(data)
	b := byte(typ<<4) | byte(size&0x0f)
	size >>= 4
	for size > 0 {
		hdr = append(hdr, b|0x80)
		b = byte(size & 0x7f)
		size >>= 7
	}
	hdr = append(hdr, b)
	p.sum.Write(hdr)
	p.buf.Reset()
	p.z.Reset(&p.buf)
	p.z.Write(data)
	p.z.Close()
	p.sum.Write(p.buf.Bytes())
	p.n++
	return id
}

type treeEntry struct {
	mode string // "100644" or "40000"
	name string
	id   oid
}

// tree writes a tree of entries (sorted as git sorts them).
func (p *packWriter) tree(es ...treeEntry) oid {
	key := func(e treeEntry) string {
		if e.mode == "40000" {
			return e.name + "/"
		}
		return e.name
	}
	sort.Slice(es, func(i, j int) bool { return key(es[i]) < key(es[j]) })
	var b []byte
	for _, e := range es {
		b = append(b, e.mode...)
		b = append(b, ' ')
		b = append(b, e.name...)
		b = append(b, 0)
		b = append(b, e.id[:]...)
	}
	return p.add(objTree, b)
}

// commit writes a commit object.
func (p *packWriter) commit(tree oid, who string, at time.Time, msg string, parents ...oid) oid {
	var b strings.Builder
	fmt.Fprintf(&b, "tree %s\n", tree)
	for _, par := range parents {
		fmt.Fprintf(&b, "parent %s\n", par)
	}
	sig := fmt.Sprintf("%s <%s@users.noreply.github.com> %d +0000", who, who, at.Unix())
	fmt.Fprintf(&b, "author %s\ncommitter %s\n\n%s", sig, sig, msg)
	return p.add(objCommit, []byte(b.String()))
}

// genHistory writes into dir (a fresh git repository) a main branch of
// governing files followed by grants whole grant lifecycles: per grant a
// pull request head adding access/prod/<id>.yaml, its merge with a signed
// decision, an activated record, an expiry head deleting the file, its
// merge with a signed expire event and a revoked record. That is 6 commits
// per grant (4 on the first-parent line) plus the root. It returns the tip.
func genHistory(t testing.TB, dir string, grants int) string {
	t.Helper()
	git := func(stdin io.Reader, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Stdin = dir, stdin
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git(nil, "init", "-q", "-b", "main")

	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		cmd := exec.Command("git", "index-pack", "--stdin", "--fix-thin")
		cmd.Dir, cmd.Stdin = dir, pr
		out, err := cmd.CombinedOutput()
		if err != nil {
			pr.CloseWithError(err)
			t.Errorf("git index-pack: %v\n%s", err, out)
		}
	}()
	tip := writePack(t, pw, grants)
	pw.Close()
	<-done
	if t.Failed() {
		t.FailNow()
	}
	git(nil, "update-ref", "refs/heads/main", tip.String())
	return tip.String()
}

// writePack streams the whole generated history to w and returns the tip.
func writePack(t testing.TB, w io.Writer, grants int) oid {
	t.Helper()
	key := genKey(t)
	// The number of objects: 4 blobs, 5 trees and the root commit of
	// governance, then per grant a blob, 3 trees and 6 commits.
	count := 10 + grants*10
	bw := bufio.NewWriterSize(w, 1<<20)
	h := sha1.New()
	z, _ := zlib.NewWriterLevel(nil, zlib.BestSpeed)
	p := &packWriter{sum: io.MultiWriter(bw, h), z: z}
	var head [12]byte
	copy(head[:], "PACK")
	binary.BigEndian.PutUint32(head[4:], 2)
	binary.BigEndian.PutUint32(head[8:], uint32(count))
	p.sum.Write(head[:])

	gov := governing(key)
	blob := func(s string) oid { return p.add(objBlob, []byte(s)) }
	github := p.tree(treeEntry{"100644", "CODEOWNERS", blob(gov[".github/CODEOWNERS"])},
		treeEntry{"100644", "jit-signers", blob(gov[".github/jit-signers"])})
	policies := p.tree(treeEntry{"100644", "prod.hcl", blob(gov["policies/prod.hcl"])})
	pg := p.tree(treeEntry{"100644", "main.tf", blob(gov["templates/pg/main.tf"])})
	templates := p.tree(treeEntry{"40000", "pg", pg})
	base := []treeEntry{{"40000", ".github", github}, {"40000", "policies", policies}, {"40000", "templates", templates}}
	empty := p.tree(base...)
	main := p.commit(empty, "admin", genStart.Add(-time.Hour), "governance\n")

	sign := func(subject string, ts []trailer.Trailer, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		return key.SignedMessage(t, subject, ts)
	}
	for i := range grants {
		at := genStart.Add(time.Duration(i) * genSpacing)
		requester := fmt.Sprintf("user%d", i%50)
		id := fmt.Sprintf("prod/%s-inc-%d", requester, i)
		name := id[len("prod/"):] + ".yaml"
		prod := p.tree(treeEntry{"100644", name, blob(grantYAML(requester, 2*time.Hour, false))})
		access := p.tree(treeEntry{"40000", "prod", prod})
		with := p.tree(append([]treeEntry{{"40000", "access", access}}, base...)...)

		prHead := p.commit(with, requester, at.Add(-time.Minute), "request "+id+"\n", main)
		d := decision(id, requester, at, 2*time.Hour)
		d.Head, d.PullRequest = prHead.String(), i+1
		ts, err := d.Trailers()
		main = p.commit(with, "jit[bot]", at, sign(fmt.Sprintf("Merge pull request #%d", i+1), ts, err), main, prHead)

		ev := activated(id, at.Add(2*time.Hour))
		ev.Parent = main.String()
		ts, err = ev.Trailers()
		main = p.commit(with, "jit[bot]", at.Add(time.Minute), sign("jit: activated", ts, err), main)

		expHead := p.commit(empty, "jit[bot]", at.Add(2*time.Hour-time.Minute), "expire "+id+"\n", main)
		ts, err = trailer.Event{Kind: trailer.Expire, Grants: []string{id}, Reason: trailer.ReasonExpired, Head: expHead.String()}.Trailers()
		main = p.commit(empty, "jit[bot]", at.Add(2*time.Hour), sign("Merge pull request #expire", ts, err), main, expHead)

		ev = revoked(id)
		ev.Parent = main.String()
		ts, err = ev.Trailers()
		main = p.commit(empty, "jit[bot]", at.Add(2*time.Hour+time.Minute), sign("jit: revoked", ts, err), main)
	}
	if p.n != count {
		t.Fatalf("generator wrote %d objects, announced %d", p.n, count)
	}
	bw.Write(h.Sum(nil))
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return main
}

// cachedHistory returns a generated repository of grants grant lifecycles,
// made once per generator version under the user's cache directory (or
// t's temp dir when there is none), and its tip.
func cachedHistory(t testing.TB, grants int) (dir, tip string) {
	t.Helper()
	root, err := os.UserCacheDir()
	if err != nil {
		dir := t.TempDir()
		return dir, genHistory(t, dir, grants)
	}
	dir = filepath.Join(root, "jit-bench", fmt.Sprintf("%s-%d", genVersion, grants))
	if data, err := os.ReadFile(filepath.Join(dir, "tip")); err == nil {
		return dir, strings.TrimSpace(string(data))
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "gen-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	tip = genHistory(t, tmp, grants)
	if err := os.WriteFile(filepath.Join(tmp, "tip"), []byte(tip+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		if _, serr := os.Stat(filepath.Join(dir, "tip")); serr != nil {
			t.Fatal(err)
		}
	}
	return dir, tip
}
