package audit

import (
	"testing"

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
}
