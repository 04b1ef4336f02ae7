package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/trailer"
)

// verifier parses and verifies the records of commits on every core while
// the walk goes on: an ed25519 verification costs more than reading the
// commit, and records do not depend on one another.
type verifier struct {
	jobs  chan verifyJob
	wg    sync.WaitGroup
	cache *verifiedCache
	repo  *history.Repo
	// govKeys holds one copy of each governance key (headLookup.read).
	govKeys sync.Map
}

// verifyJob is one commit's record to read: its message, and the signers
// at its first parent (none for a root commit, whose parent is "").
type verifyJob struct {
	rec     *record
	message string
	signers signersAt
	parent  string
	// grant, when set, makes the job parsing the grant file grantKey names
	// instead: a grant file's parse does not depend on any other either.
	grant    *parsedGrant
	grantKey grantKey
	// heads, when set, makes the job these lookups instead.
	heads *headLookup
}

func newVerifier(repo *history.Repo, cache *verifiedCache) *verifier {
	v := &verifier{jobs: make(chan verifyJob, 256), cache: cache, repo: repo}
	for range runtime.GOMAXPROCS(0) {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			for j := range v.jobs {
				switch {
				case j.grant != nil:
					j.grant.read(v.repo, j.grantKey.path, j.grantKey.blob)
				case j.heads != nil:
					j.heads.read(v.repo, &v.govKeys)
				default:
					v.check(j)
				}
			}
		}()
	}
	return v
}

// check parses j's trailers and verifies their signature, filling j.rec.
func (v *verifier) check(j verifyJob) {
	ts, err := trailer.Parse(j.message)
	switch {
	case err != nil:
		j.rec.kind, j.rec.problem = BadRecord, fmt.Sprintf("the Jit-* trailers are malformed: %v", err)
		return
	case len(ts) == 0:
		return
	}
	j.rec.trailers = ts
	switch {
	case j.parent == "":
		j.rec.kind, j.rec.problem = BadSignature, "a root commit has no parent whose "+desired.SignersFile+" could verify it"
		return
	case j.signers.err != nil:
		j.rec.reject(j.parent, j.signers.err)
		return
	}
	var d [32]byte
	if v.cache != nil {
		d = verifiedDigest(j.signers.sum, j.rec.trailers)
		if v.cache.has(d) {
			j.rec.trailers = signedPart(ts)
			j.rec.read()
			return
		}
	}
	if err := trailer.Verify(j.rec.trailers, j.signers.signers); err != nil {
		j.rec.reject(j.parent, err)
		return
	}
	v.cache.add(d)
	j.rec.trailers = signedPart(ts)
	j.rec.read()
}

// signedPart returns copies of the trailers a verified Jit-Signature
// covers, without the signature: what the audit reads of a record once it
// verified, without holding on to the whole message. Each value is a copy
// of its own: a story keeps a few values of a record, not the whole block.
func signedPart(ts []trailer.Trailer) []trailer.Trailer {
	out := make([]trailer.Trailer, len(ts)-1)
	for i, t := range ts[:len(ts)-1] {
		out[i] = trailer.Trailer{Key: strings.Clone(t.Key), Value: strings.Clone(t.Value)}
	}
	return out
}

// wait returns once every queued record is verified; v takes no more.
func (v *verifier) wait() {
	close(v.jobs)
	v.wg.Wait()
}

// verifiedFile is the name of the verified cache in Options.Cache; the
// version changes whenever the digest or what Verify checks does.
const verifiedFile = "audit-verified-v1"

// maxVerified bounds the verified cache (32 bytes each): past it, the file
// starts over.
const maxVerified = 1 << 20

// verifiedCache is the set of digests of records that verified, read from
// a file of 32-byte digests and appended to. Only successes are kept: a
// record that did not verify is checked again every time.
type verifiedCache struct {
	path string
	seen map[[32]byte]struct{}
	// reset says the file is to be written anew (it was too large or not
	// a whole number of digests).
	reset bool

	mu    sync.Mutex
	fresh [][32]byte
}

// verifiedDigest names one record verified with one signers file: the
// sha256 of a label, the file's sha256 and every trailer's key and value,
// each length-prefixed so that no two records share an encoding.
func verifiedDigest(signers [32]byte, ts []trailer.Trailer) [32]byte {
	bp := digestBufs.Get().(*[]byte)
	b := append((*bp)[:0], "jit audit verified v1\x00"...)
	b = append(b, signers[:]...)
	for _, t := range ts {
		b = binary.BigEndian.AppendUint32(b, uint32(len(t.Key)))
		b = append(b, t.Key...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(t.Value)))
		b = append(b, t.Value...)
	}
	d := sha256.Sum256(b)
	*bp = b
	digestBufs.Put(bp)
	return d
}

// digestBufs holds the buffers verifiedDigest writes a record into: one
// per record would be as much garbage as the records themselves.
var digestBufs = sync.Pool{New: func() any { return new([]byte) }}

// openVerified loads the verified cache in dir; nil when dir is empty. An
// unreadable or malformed file is an empty cache: it only ever saves time.
func openVerified(dir string) *verifiedCache {
	if dir == "" {
		return nil
	}
	c := &verifiedCache{path: filepath.Join(dir, verifiedFile), seen: map[[32]byte]struct{}{}}
	data, err := os.ReadFile(c.path)
	if err != nil || len(data)%32 != 0 || len(data)/32 > maxVerified {
		c.reset = err == nil
		return c
	}
	c.seen = make(map[[32]byte]struct{}, len(data)/32)
	for len(data) > 0 {
		c.seen[[32]byte(data[:32])] = struct{}{}
		data = data[32:]
	}
	return c
}

// has reports d was verified before; safe for concurrent use (seen is
// never written after openVerified).
func (c *verifiedCache) has(d [32]byte) bool {
	_, ok := c.seen[d]
	return ok
}

func (c *verifiedCache) add(d [32]byte) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.fresh = append(c.fresh, d)
	c.mu.Unlock()
}

// save appends the digests verified since openVerified. Failing to write
// only costs the next Read time, so errors are dropped.
func (c *verifiedCache) save() {
	if c == nil || len(c.fresh) == 0 && !c.reset {
		return
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if c.reset || len(c.seen)+len(c.fresh) > maxVerified {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(c.path, flag, 0o600)
	if err != nil {
		return
	}
	var b bytes.Buffer
	for _, d := range c.fresh {
		b.Write(d[:])
	}
	f.Write(b.Bytes()) // one write: a reader never sees half a batch as whole digests
	f.Close()
}
