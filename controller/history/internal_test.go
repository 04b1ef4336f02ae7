package history

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// withChecksum appends the checksum line to an index body.
func withChecksum(body []byte) []byte {
	sum := sha256.Sum256(body)
	return append(body, []byte("sha256 "+hex.EncodeToString(sum[:])+"\n")...)
}

// FuzzDecodeIndex feeds index bodies with a valid checksum (so the parser
// behind the checksum is reached): each decodes to an index that survives
// encoding and decoding again unchanged, or is rejected; nothing panics. Any
// flipped byte of a valid file is rejected.
func FuzzDecodeIndex(f *testing.F) {
	ix := &everIndex{root: plumbing.NewHash("1111111111111111111111111111111111111111"), tip: plumbing.NewHash("2222222222222222222222222222222222222222"),
		ids: map[string]appearance{"prod/a": {commit: plumbing.NewHash("3333333333333333333333333333333333333333"), when: 1767600000}, "x \"y\"\n": {when: -1}}}
	valid := encodeIndex(ix)
	f.Add(valid[:bytes.LastIndex(valid, []byte("sha256 "))], 10)
	f.Add([]byte("jit ever-existed index v1\nroot 1\ntip 2\nids 0\n"), 0)
	f.Add([]byte{}, 3)
	f.Fuzz(func(t *testing.T, body []byte, flip int) {
		got, err := decodeIndex(withChecksum(body))
		if err == nil {
			again, err := decodeIndex(encodeIndex(got))
			if err != nil || !reflect.DeepEqual(got, again) {
				t.Errorf("encoding then decoding changed the index: %v\n%+v\n%+v", err, got, again)
			}
		}
		data := withChecksum(body)
		if flip >= 0 && flip < len(data) {
			data[flip] ^= 0x20
			if _, err := decodeIndex(data); err == nil {
				t.Errorf("a file with byte %d flipped was accepted", flip)
			}
		}
	})
}

// FuzzPackRead reads objects out of arbitrary pack bytes (with an empty
// index): malformed headers, streams and deltas are errors, never panics or
// runaway allocations.
func FuzzPackRead(f *testing.F) {
	// A blob "hello\n" and an offset delta on it that copies "hel" and
	// inserts "p\n".
	var pk bytes.Buffer
	pk.WriteString("PACK\x00\x00\x00\x02\x00\x00\x00\x02")
	pk.WriteByte(0x36) // blob, size 6
	pk.Write(deflate([]byte("hello\n")))
	deltaAt := pk.Len()
	pk.WriteByte(0x67) // ofs delta, size 7
	pk.WriteByte(byte(deltaAt - 12))
	pk.Write(deflate([]byte{6, 5, 0x90, 3, 2, 'p', '\n'}))
	f.Add(pk.Bytes(), uint16(12))
	f.Add(pk.Bytes(), uint16(deltaAt))
	f.Fuzz(func(t *testing.T, data []byte, off uint16) {
		idx := make([]byte, 8+256*4+40)
		copy(idx, []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2})
		o := &packObjects{EncodedObjectStorer: memory.NewStorage()}
		p := &pack{data: data, idx: idx}
		_, out, err := o.read(p, uint64(off), 0)
		if err == nil && len(out) > len(data)*1032 {
			t.Errorf("inflated %d bytes out of %d", len(out), len(data))
		}
	})
}

func TestPackReadSeed(t *testing.T) {
	var pk bytes.Buffer
	pk.WriteString("PACK\x00\x00\x00\x02\x00\x00\x00\x02")
	pk.WriteByte(0x36)
	pk.Write(deflate([]byte("hello\n")))
	deltaAt := pk.Len()
	pk.WriteByte(0x67)
	pk.WriteByte(byte(deltaAt - 12))
	pk.Write(deflate([]byte{6, 5, 0x90, 3, 2, 'p', '\n'}))
	o := &packObjects{EncodedObjectStorer: memory.NewStorage()}
	typ, out, err := o.read(&pack{data: pk.Bytes()}, uint64(deltaAt), 0)
	if err != nil || typ != plumbing.BlobObject || string(out) != "help\n" {
		t.Errorf("read = %v, %q, %v; want blob \"help\\n\"", typ, out, err)
	}
}

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}
