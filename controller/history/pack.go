package history

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// packObjects reads objects straight out of the repository's pack files,
// mapped into memory, and asks the wrapped storer for anything else (loose
// objects, packs added later, packs it cannot read). go-git spends a seek,
// a read and a cache insertion per object, which made walking 100,000
// commits take seconds; this reader does the same work on the mapped bytes.
// Every object it returns is a *rawObject holding the whole content. It is
// safe for concurrent use.
type packObjects struct {
	storer.EncodedObjectStorer
	packs []*pack

	mu     sync.Mutex
	bases  map[baseKey][]byte // resolved delta bases
	cached int

	// fallback serialises use of the wrapped storer, which go-git does not
	// make safe for concurrent use.
	fallback sync.Mutex
}

type baseKey struct {
	p   *pack
	off uint64
}

// maxBaseCache bounds the bytes of delta bases kept.
const maxBaseCache = 32 << 20

// pack is one mapped pack file and its version 2 index.
type pack struct {
	data, idx []byte
	n         int
	release   func()
}

// openPacks maps every pack with a version 2 index under objectsDir/pack. A
// pack it cannot read is left to the wrapped storer.
func openPacks(objectsDir string) []*pack {
	names, _ := filepath.Glob(filepath.Join(objectsDir, "pack", "pack-*.idx"))
	var out []*pack
	for _, name := range names {
		p, err := openPack(name)
		if err == nil {
			out = append(out, p)
		}
	}
	return out
}

func openPack(idxName string) (*pack, error) {
	idx, releaseIdx, err := mapPath(idxName)
	if err != nil {
		return nil, err
	}
	data, releaseData, err := mapPath(strings.TrimSuffix(idxName, ".idx") + ".pack")
	if err != nil {
		releaseIdx()
		return nil, err
	}
	p := &pack{data: data, idx: idx, release: func() { releaseIdx(); releaseData() }}
	if len(idx) < 8+256*4 || !bytes.Equal(idx[:8], []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}) ||
		len(data) < 12+20 || !bytes.Equal(data[:4], []byte("PACK")) {
		p.release()
		return nil, errors.New("not a version 2 pack index")
	}
	p.n = int(binary.BigEndian.Uint32(idx[8+255*4:]))
	if len(idx) < 8+256*4+p.n*(20+4+4)+40 {
		p.release()
		return nil, errors.New("truncated pack index")
	}
	// find trusts the fan-out table: it must never decrease and never pass
	// the object count, or a corrupt index would send it out of bounds.
	prev := uint32(0)
	for b := 0; b < 256; b++ {
		v := binary.BigEndian.Uint32(idx[8+b*4:])
		if v < prev || int(v) > p.n {
			p.release()
			return nil, errors.New("corrupt pack index fan-out")
		}
		prev = v
	}
	return p, nil
}

func mapPath(name string) ([]byte, func(), error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return mapFile(f)
}

func (o *packObjects) close() {
	for _, p := range o.packs {
		p.release()
	}
	o.packs = nil
}

// find returns the offset of h in p.
func (p *pack) find(h plumbing.Hash) (uint64, bool) {
	const fan = 8
	lo := 0
	if h[0] > 0 {
		lo = int(binary.BigEndian.Uint32(p.idx[fan+(int(h[0])-1)*4:]))
	}
	hi := int(binary.BigEndian.Uint32(p.idx[fan+int(h[0])*4:]))
	names := p.idx[fan+256*4:]
	key := binary.BigEndian.Uint64(h[:8])
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		name := names[mid*20 : mid*20+20]
		c := cmpUint64(binary.BigEndian.Uint64(name), key)
		if c == 0 {
			c = bytes.Compare(name[8:], h[8:])
		}
		switch {
		case c == 0:
			return p.offset(mid), true
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0, false
}

func (p *pack) offset(i int) uint64 {
	offs := p.idx[8+256*4+p.n*24:]
	off := binary.BigEndian.Uint32(offs[i*4:])
	if off&0x80000000 == 0 {
		return uint64(off)
	}
	large := offs[p.n*4:]
	j := int(off & 0x7fffffff)
	if len(large) < (j+1)*8 {
		return 0
	}
	return binary.BigEndian.Uint64(large[j*8:])
}

var errBadPack = errors.New("malformed pack")

const (
	objOfsDelta = 6
	objRefDelta = 7
)

// EncodedObject returns the object h, from the packs when it is there.
func (o *packObjects) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	for _, p := range o.packs {
		off, ok := p.find(h)
		if !ok {
			continue
		}
		typ, data, err := o.read(p, off, 0)
		if err != nil {
			return nil, fmt.Errorf("reading object %s from its pack: %w", short(h), err)
		}
		if t != plumbing.AnyObject && typ != t {
			return nil, plumbing.ErrObjectNotFound
		}
		return &rawObject{t: typ, h: h, data: data}, nil
	}
	typ, data, err := o.fallbackRead(t, h)
	if err != nil {
		return nil, err
	}
	return &rawObject{t: typ, h: h, data: data}, nil
}

// EncodedObjectSize returns the size of h's content.
func (o *packObjects) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	for _, p := range o.packs {
		if off, ok := p.find(h); ok {
			typ, size, _, err := p.header(off)
			if err != nil {
				return 0, err
			}
			if typ == objOfsDelta || typ == objRefDelta {
				_, data, err := o.read(p, off, 0)
				return int64(len(data)), err
			}
			return int64(size), nil
		}
	}
	o.fallback.Lock()
	defer o.fallback.Unlock()
	return o.EncodedObjectStorer.EncodedObjectSize(h)
}

// header parses the object header at off: type, inflated size and where
// the rest begins.
func (p *pack) header(off uint64) (typ plumbing.ObjectType, size uint64, next uint64, err error) {
	if off < 12 || off >= uint64(len(p.data)) {
		return 0, 0, 0, errBadPack
	}
	c := p.data[off]
	typ = plumbing.ObjectType((c >> 4) & 7)
	size = uint64(c & 15)
	shift := 4
	for c&0x80 != 0 {
		off++
		if off >= uint64(len(p.data)) || shift > 60 {
			return 0, 0, 0, errBadPack
		}
		c = p.data[off]
		size |= uint64(c&0x7f) << shift
		shift += 7
	}
	return typ, size, off + 1, nil
}

// maxDeltaDepth bounds delta chains (git writes at most 50 by default).
const maxDeltaDepth = 10000

// read returns the type and content of the object at off, resolving deltas.
func (o *packObjects) read(p *pack, off uint64, depth int) (plumbing.ObjectType, []byte, error) {
	if depth > maxDeltaDepth {
		return 0, nil, errors.New("delta chain too long")
	}
	typ, size, next, err := p.header(off)
	if err != nil {
		return 0, nil, err
	}
	switch typ {
	case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
		data, err := p.inflate(next, size)
		return typ, data, err
	case objOfsDelta, objRefDelta:
	default:
		return 0, nil, errBadPack
	}
	var base []byte
	var baseType plumbing.ObjectType
	if typ == objOfsDelta {
		if next >= uint64(len(p.data)) {
			return 0, nil, errBadPack
		}
		c := p.data[next]
		rel := uint64(c & 0x7f)
		for c&0x80 != 0 {
			next++
			if next >= uint64(len(p.data)) || rel > 1<<56 {
				return 0, nil, errBadPack
			}
			c = p.data[next]
			rel = (rel+1)<<7 | uint64(c&0x7f)
		}
		next++
		if rel == 0 || rel > off {
			return 0, nil, errBadPack
		}
		baseType, base, err = o.base(p, off-rel, depth)
	} else {
		if next+20 > uint64(len(p.data)) {
			return 0, nil, errBadPack
		}
		var bh plumbing.Hash
		copy(bh[:], p.data[next:next+20])
		next += 20
		boff, ok := p.find(bh)
		if !ok {
			baseType, base, err = o.fallbackRead(plumbing.AnyObject, bh)
			if err != nil {
				return 0, nil, fmt.Errorf("delta base %s: %w", short(bh), err)
			}
		} else {
			baseType, base, err = o.base(p, boff, depth)
		}
	}
	if err != nil {
		return 0, nil, err
	}
	delta, err := p.inflate(next, size)
	if err != nil {
		return 0, nil, err
	}
	out, err := applyDelta(base, delta)
	return baseType, out, err
}

// base returns the object at off, from the cache of delta bases when it is
// there: walking history resolves the same chains over and over.
func (o *packObjects) base(p *pack, off uint64, depth int) (plumbing.ObjectType, []byte, error) {
	k := baseKey{p, off}
	o.mu.Lock()
	data, ok := o.bases[k]
	o.mu.Unlock()
	if ok {
		return plumbing.ObjectType(data[len(data)-1]), data[:len(data)-1], nil
	}
	typ, data, err := o.read(p, off, depth+1)
	if err != nil {
		return 0, nil, err
	}
	// The type rides in a last byte past the content.
	entry := append(data[:len(data):len(data)], byte(typ))
	o.mu.Lock()
	if o.bases == nil || o.cached+len(entry) > maxBaseCache {
		o.bases, o.cached = map[baseKey][]byte{}, 0
	}
	o.bases[k] = entry
	o.cached += len(entry)
	o.mu.Unlock()
	return typ, entry[:len(data)], nil
}

var flatePool sync.Pool

// inflate decompresses the zlib stream at off into exactly size bytes.
func (p *pack) inflate(off, size uint64) ([]byte, error) {
	if off+2 > uint64(len(p.data)) || size > uint64(len(p.data))*1032 {
		return nil, errBadPack
	}
	cmf, flg := p.data[off], p.data[off+1]
	if cmf&0x0f != 8 || (uint16(cmf)<<8|uint16(flg))%31 != 0 || flg&0x20 != 0 {
		return nil, errBadPack
	}
	src := bytes.NewReader(p.data[off+2:])
	fr, _ := flatePool.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(src)
	} else if err := fr.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, err
	}
	defer flatePool.Put(fr)
	out := make([]byte, size)
	if _, err := io.ReadFull(fr, out); err != nil {
		return nil, fmt.Errorf("inflating: %w", err)
	}
	return out, nil
}

// applyDelta builds an object from its base and a git delta.
func applyDelta(base, delta []byte) ([]byte, error) {
	varint := func() (uint64, bool) {
		var v uint64
		for shift := 0; shift < 64; shift += 7 {
			if len(delta) == 0 {
				return 0, false
			}
			c := delta[0]
			delta = delta[1:]
			v |= uint64(c&0x7f) << shift
			if c&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	srcSize, ok1 := varint()
	dstSize, ok2 := varint()
	if !ok1 || !ok2 || srcSize != uint64(len(base)) || dstSize > uint64(len(delta))<<24 {
		return nil, errBadPack
	}
	out := make([]byte, 0, dstSize)
	for len(delta) > 0 {
		op := delta[0]
		delta = delta[1:]
		switch {
		case op&0x80 != 0:
			var off, n uint64
			for i := 0; i < 7; i++ {
				if op&(1<<i) == 0 {
					continue
				}
				if len(delta) == 0 {
					return nil, errBadPack
				}
				if i < 4 {
					off |= uint64(delta[0]) << (8 * i)
				} else {
					n |= uint64(delta[0]) << (8 * (i - 4))
				}
				delta = delta[1:]
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > uint64(len(base)) || uint64(len(out))+n > dstSize {
				return nil, errBadPack
			}
			out = append(out, base[off:off+n]...)
		case op != 0:
			if int(op) > len(delta) || uint64(len(out))+uint64(op) > dstSize {
				return nil, errBadPack
			}
			out = append(out, delta[:op]...)
			delta = delta[op:]
		default:
			return nil, errBadPack
		}
	}
	if uint64(len(out)) != dstSize {
		return nil, errBadPack
	}
	return out, nil
}

// fallbackRead reads h whole through the wrapped storer, so that no lazy
// go-git object escapes the lock.
func (o *packObjects) fallbackRead(t plumbing.ObjectType, h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	o.fallback.Lock()
	defer o.fallback.Unlock()
	obj, err := o.EncodedObjectStorer.EncodedObject(t, h)
	if err != nil {
		return 0, nil, err
	}
	rd, err := obj.Reader()
	if err != nil {
		return 0, nil, err
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	return obj.Type(), data, err
}

// rawObject is an object read from a pack: its hash is the one it was
// looked up by, not recomputed.
type rawObject struct {
	t    plumbing.ObjectType
	h    plumbing.Hash
	data []byte
}

func (o *rawObject) Hash() plumbing.Hash           { return o.h }
func (o *rawObject) Type() plumbing.ObjectType     { return o.t }
func (o *rawObject) SetType(t plumbing.ObjectType) { o.t = t }
func (o *rawObject) Size() int64                   { return int64(len(o.data)) }
func (o *rawObject) SetSize(int64)                 {}
func (o *rawObject) Reader() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(o.data)), nil
}
func (o *rawObject) Writer() (io.WriteCloser, error) { return nil, os.ErrPermission }

// readWhole reads f into memory, where it cannot be mapped.
func readWhole(f *os.File) ([]byte, func(), error) {
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	data := make([]byte, info.Size())
	_, err = io.ReadFull(f, data)
	return data, func() {}, err
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
