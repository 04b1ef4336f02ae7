package credential

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// passwordBytes random bytes give 192 bits of entropy, 32 characters.
const passwordBytes = 24

// NewPassword returns a fresh random password of 32 characters from the
// URL-safe base64 alphabet (A–Z a–z 0–9 - _), carrying 192 bits from
// crypto/rand. It contains no quote, space or shell metacharacter, and is
// printable ASCII, so SCRAMVerifier accepts it.
func NewPassword() (string, error) {
	b := make([]byte, passwordBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes for a password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
