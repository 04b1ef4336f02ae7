package trailer

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Namespace is the SSHSIG namespace of every Jit-Signature (ssh-keygen -n jit).
const Namespace = "jit"

// Principal is the allowed_signers principal whose keys may sign Jit
// trailers (ssh-keygen -I jit).
const Principal = "jit"

// The SSHSIG constants of OpenSSH's PROTOCOL.sshsig.
const (
	sigMagic   = "SSHSIG"
	sigVersion = 1
	sigHash    = "sha512"
)

// Errors Verify returns, matched with errors.Is; each is wrapped with the detail.
var (
	// ErrUnsigned: the trailers do not end with a Jit-Signature.
	ErrUnsigned = errors.New("unsigned Jit trailers")
	// ErrBadSignature: a Jit-Signature is present but is malformed, is not
	// jit's kind of signature, or does not verify over the payload.
	ErrBadSignature = errors.New("bad Jit-Signature")
	// ErrUnknownKey: the signature verifies, but its key is not an allowed
	// signer for principal jit in namespace jit.
	ErrUnknownKey = errors.New("key not allowed to sign Jit trailers")
)

// LoadSigner reads the controller's signing key from an unencrypted OpenSSH
// private key file (ssh-keygen -t ed25519 -N ""). It refuses encrypted keys
// and keys other than ed25519.
func LoadSigner(pem []byte) (ssh.Signer, error) {
	s, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, errors.New("signing key is encrypted with a passphrase; jit reads only unencrypted key files (protect the file instead, or write an unencrypted copy with ssh-keygen -p -N '')")
	}
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	if err := checkSigningKey(s.PublicKey()); err != nil {
		return nil, err
	}
	return s, nil
}

// checkSigningKey refuses keys other than ed25519.
func checkSigningKey(pub ssh.PublicKey) error {
	if pub.Type() != ssh.KeyAlgoED25519 {
		return fmt.Errorf("signing key is %s; jit signs with %s keys only (ssh-keygen -t ed25519)", pub.Type(), ssh.KeyAlgoED25519)
	}
	return nil
}

// Sign returns ts followed by a Jit-Signature over Payload(ts), made by
// signer, which must hold an ed25519 key. ts must be non-empty, unsigned and
// well formed (as a Trailers method returns it); ts itself is not modified.
func Sign(ts []Trailer, signer ssh.Signer) ([]Trailer, error) {
	if len(ts) == 0 {
		return nil, errors.New("signing Jit trailers: there are none")
	}
	if i := slices.IndexFunc(ts, func(t Trailer) bool { return t.Key == KeySignature }); i >= 0 {
		return nil, fmt.Errorf("signing Jit trailers: trailer %d is already a %s", i+1, KeySignature)
	}
	if err := checkTrailers(ts); err != nil {
		return nil, fmt.Errorf("signing Jit trailers: %w", err)
	}
	pub := signer.PublicKey()
	if err := checkSigningKey(pub); err != nil {
		return nil, err
	}
	h := sha512.Sum512(Payload(ts))
	sig, err := signer.Sign(rand.Reader, signedData(Namespace, sigHash, h[:]))
	if err != nil {
		return nil, fmt.Errorf("signing Jit trailers: %w", err)
	}
	if sig.Format != ssh.KeyAlgoED25519 {
		return nil, fmt.Errorf("signing Jit trailers: signer made a %s signature, not %s", sig.Format, ssh.KeyAlgoED25519)
	}
	var blob []byte
	blob = append(blob, sigMagic...)
	blob = binary.BigEndian.AppendUint32(blob, sigVersion)
	blob = appendString(blob, pub.Marshal())
	blob = appendString(blob, []byte(Namespace))
	blob = appendString(blob, nil) // reserved
	blob = appendString(blob, []byte(sigHash))
	blob = appendString(blob, ssh.Marshal(sig))
	return append(slices.Clip(ts), Trailer{Key: KeySignature, Value: base64.StdEncoding.EncodeToString(blob)}), nil
}

// signedData is what an SSHSIG signature signs (PROTOCOL.sshsig): the magic,
// then namespace, reserved, hash algorithm and message hash as SSH strings.
func signedData(namespace, hash string, digest []byte) []byte {
	b := []byte(sigMagic)
	b = appendString(b, []byte(namespace))
	b = appendString(b, nil)
	b = appendString(b, []byte(hash))
	return appendString(b, digest)
}

// appendString appends s as an SSH wire string: uint32 length, then bytes.
func appendString(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// sshsig is a decoded SSHSIG blob.
type sshsig struct {
	key       ssh.PublicKey
	namespace string
	reserved  []byte
	hash      string
	sig       *ssh.Signature
}

// decodeSSHSIG decodes a Jit-Signature value into its SSHSIG fields.
func decodeSSHSIG(value string) (sshsig, error) {
	var s sshsig
	blob, err := base64.StdEncoding.Strict().DecodeString(value)
	if err != nil {
		return s, fmt.Errorf("not standard padded base64: %w", err)
	}
	rest, ok := bytes.CutPrefix(blob, []byte(sigMagic))
	if !ok {
		return s, fmt.Errorf("not an SSHSIG blob (no %q magic)", sigMagic)
	}
	if len(rest) < 4 {
		return s, errors.New("SSHSIG blob ends before its version")
	}
	if v := binary.BigEndian.Uint32(rest); v != sigVersion {
		return s, fmt.Errorf("SSHSIG version %d; jit reads version %d", v, sigVersion)
	}
	rest = rest[4:]
	var fields [5][]byte
	for i := range fields {
		if fields[i], rest, ok = cutString(rest); !ok {
			return s, errors.New("SSHSIG blob is truncated")
		}
	}
	if len(rest) > 0 {
		return s, fmt.Errorf("SSHSIG blob has %d bytes after the signature", len(rest))
	}
	if s.key, err = ssh.ParsePublicKey(fields[0]); err != nil {
		return s, fmt.Errorf("SSHSIG public key: %w", err)
	}
	s.namespace, s.reserved, s.hash = string(fields[1]), fields[2], string(fields[3])
	s.sig = new(ssh.Signature)
	if err := ssh.Unmarshal(fields[4], s.sig); err != nil || len(s.sig.Rest) > 0 {
		return s, errors.New("SSHSIG signature field is not one SSH signature")
	}
	return s, nil
}

// cutString reads one SSH wire string from the front of b.
func cutString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

// Verify checks that ts ends with a Jit-Signature made by jit over the
// trailers before it, by a key that signers allow for principal jit in
// namespace jit. It returns nil only then; otherwise an error matching
// ErrUnsigned, ErrBadSignature or ErrUnknownKey (errors.Is) says why.
func Verify(ts []Trailer, signers AllowedSigners) error {
	if len(ts) == 0 || ts[len(ts)-1].Key != KeySignature {
		if i := slices.IndexFunc(ts, func(t Trailer) bool { return t.Key == KeySignature }); i >= 0 {
			return fmt.Errorf("%w: trailer %d is a %s but not the last trailer", ErrBadSignature, i+1, KeySignature)
		}
		return fmt.Errorf("%w: the last trailer is not a %s", ErrUnsigned, KeySignature)
	}
	signed := ts[:len(ts)-1]
	if i := slices.IndexFunc(signed, func(t Trailer) bool { return t.Key == KeySignature }); i >= 0 {
		return fmt.Errorf("%w: trailer %d is a second %s", ErrBadSignature, i+1, KeySignature)
	}
	if len(signed) == 0 {
		return fmt.Errorf("%w: it signs no trailers", ErrBadSignature)
	}
	if err := checkTrailers(ts); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	s, err := decodeSSHSIG(ts[len(ts)-1].Value)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	switch {
	case s.namespace != Namespace:
		return fmt.Errorf("%w: signature namespace is %q, not %q", ErrBadSignature, clip(s.namespace), Namespace)
	case len(s.reserved) != 0:
		return fmt.Errorf("%w: SSHSIG reserved field is not empty", ErrBadSignature)
	case s.hash != sigHash:
		return fmt.Errorf("%w: signature hashes with %q; jit signs with %s", ErrBadSignature, clip(s.hash), sigHash)
	case s.key.Type() != ssh.KeyAlgoED25519 || s.sig.Format != ssh.KeyAlgoED25519:
		return fmt.Errorf("%w: a %s signature by a %s key; jit signs with %s", ErrBadSignature, clip(s.sig.Format), s.key.Type(), ssh.KeyAlgoED25519)
	}
	h := sha512.Sum512(Payload(signed))
	if err := s.key.Verify(signedData(Namespace, sigHash, h[:]), s.sig); err != nil {
		return fmt.Errorf("%w: it does not verify over the trailers before it (key %s)", ErrBadSignature, ssh.FingerprintSHA256(s.key))
	}
	return signers.allow(s.key)
}

// Armor returns a Jit-Signature value in the armored form ssh-keygen reads
// (-----BEGIN SSH SIGNATURE-----, the base64 wrapped at 70 columns as
// ssh-keygen writes it, -----END SSH SIGNATURE-----), for checking a commit
// by hand with `ssh-keygen -Y verify -f .github/jit-signers -I jit -n jit -s SIG`.
func Armor(sigValue string) string {
	var b strings.Builder
	b.WriteString("-----BEGIN SSH SIGNATURE-----\n")
	for len(sigValue) > 70 {
		b.WriteString(sigValue[:70])
		b.WriteByte('\n')
		sigValue = sigValue[70:]
	}
	if sigValue != "" {
		b.WriteString(sigValue)
		b.WriteByte('\n')
	}
	b.WriteString("-----END SSH SIGNATURE-----\n")
	return b.String()
}
