package hook

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Signature header names and value prefixes, as GitHub sends them.
const (
	// HeaderSignature256 carries "sha256=" + hex HMAC-SHA256(secret, body).
	HeaderSignature256 = "X-Hub-Signature-256"
	// HeaderSignature is the legacy header carrying "sha1=" + hex HMAC-SHA1.
	HeaderSignature = "X-Hub-Signature"

	prefixSHA256 = "sha256="
	prefixSHA1   = "sha1="
)

// Sign returns the X-Hub-Signature-256 value for body: "sha256=" followed by
// the 64 lowercase hex digits of HMAC-SHA256 keyed with secret, computed over
// the exact bytes of body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return prefixSHA256 + hex.EncodeToString(m.Sum(nil))
}

// SignSHA1 returns the legacy X-Hub-Signature value for body: "sha1="
// followed by the 40 lowercase hex digits of HMAC-SHA1 keyed with secret.
func SignSHA1(secret, body []byte) string {
	m := hmac.New(sha1.New, secret)
	m.Write(body)
	return prefixSHA1 + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is a valid X-Hub-Signature-256 value for
// body under secret. It accepts only the "sha256=" form with exactly 64 hex
// digits (either case), compares in constant time, and returns false when
// secret is empty, so that an unconfigured secret never accepts a delivery.
func Verify(secret, body []byte, signature string) bool {
	if len(secret) == 0 {
		return false
	}
	hexSum, ok := strings.CutPrefix(signature, prefixSHA256)
	if !ok || len(hexSum) != 2*sha256.Size {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}
