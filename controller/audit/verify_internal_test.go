package audit

import (
	"crypto/sha256"
	"github.com/google/go-cmp/cmp"
	"testing"
	"unsafe"

	"github.com/jitops/jit/controller/trailer"
)

// TestVerifiedDigest: a cached verification is found again only for the
// same signers file bytes and the same trailer block, byte for byte.
func TestVerifiedDigest(t *testing.T) {
	ts := []trailer.Trailer{{Key: "Jit-Event", Value: "revoked"}, {Key: "Jit-Signature", Value: "AAAA"}}
	var signers [32]byte
	base := verifiedDigest(signers, ts)
	other := signers
	other[31] = 1
	for _, tc := range []struct {
		name    string
		signers [32]byte
		ts      []trailer.Trailer
	}{
		{"other signers file", other, ts},
		{"other signature", signers, []trailer.Trailer{ts[0], {Key: "Jit-Signature", Value: "AAAB"}}},
		{"other value", signers, []trailer.Trailer{{Key: "Jit-Event", Value: "revoke-failed"}, ts[1]}},
		{"trailer dropped", signers, ts[1:]},
		{"line moved between trailers", signers, []trailer.Trailer{{Key: "Jit-Event", Value: "revoked\nJit-Signature: AAAA"}}},
	} {
		if verifiedDigest(tc.signers, tc.ts) == base {
			t.Errorf("%s: same digest as the original record", tc.name)
		}
	}
	if verifiedDigest(signers, ts) != base {
		t.Error("the digest of the same record changed")
	}
	// The cache file keeps digests across versions of jit: the encoding is
	// fixed (changing it needs a new verifiedFile name).
	enc := "jit audit verified v1\x00" + string(signers[:]) +
		"\x00\x00\x00\x09Jit-Event\x00\x00\x00\x07revoked" + "\x00\x00\x00\x0dJit-Signature\x00\x00\x00\x04AAAA"
	if want := sha256.Sum256([]byte(enc)); base != want {
		t.Errorf("digest %x, want %x (the sha256 of the documented encoding)", base, want)
	}
}

// TestSignedPart: the trailers a signature covers, equal to the originals,
// and sharing nothing with the message they were read from.
func TestSignedPart(t *testing.T) {
	msg := []byte("Jit-EventrevokedJit-Grantprod/aJit-SignatureAAAA")
	str := string(msg)
	ts := []trailer.Trailer{{Key: str[:9], Value: str[9:16]}, {Key: str[16:25], Value: str[25:31]}, {Key: str[31:44], Value: str[44:]}}
	got := signedPart(ts)
	want := []trailer.Trailer{{Key: "Jit-Event", Value: "revoked"}, {Key: "Jit-Grant", Value: "prod/a"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("signedPart (-want +got):\n%s", diff)
	}
	for _, tr := range got {
		for _, s := range []string{tr.Key, tr.Value} {
			if p := unsafe.StringData(s); uintptr(unsafe.Pointer(p)) >= uintptr(unsafe.Pointer(unsafe.StringData(str))) && uintptr(unsafe.Pointer(p)) < uintptr(unsafe.Pointer(unsafe.StringData(str)))+uintptr(len(str)) {
				t.Errorf("%q aliases the message", s)
			}
		}
	}
}
