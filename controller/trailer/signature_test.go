package trailer_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/trailer"
)

// testSigner returns a fixed ed25519 signer made from seed byte b.
func testSigner(t testing.TB, b byte) ssh.Signer {
	t.Helper()
	s, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ecdsaKey returns a fresh P-256 key and its ssh.Signer: a key type jit
// refuses to sign with.
func ecdsaKey(t testing.TB) (*ecdsa.PrivateKey, ssh.Signer) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, s
}

// signersLine returns an allowed_signers line listing s for principals.
func signersLine(principals, options string, s ssh.Signer) string {
	if options != "" {
		options += " "
	}
	return principals + " " + options + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey()))) + " controller\n"
}

func mustSigners(t testing.TB, text string) trailer.AllowedSigners {
	t.Helper()
	as, err := trailer.ParseAllowedSigners(".github/jit-signers", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return as
}

var unsigned = tr(
	"Jit-Grant", "prod/db/alice",
	"Jit-Requested-By", "alice",
	"Jit-Approved-By", "bob",
	"Jit-Head", sha1,
)

func TestSignVerify(t *testing.T) {
	s := testSigner(t, 1)
	signed, err := trailer.Sign(unsigned, s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(unsigned, signed[:len(signed)-1]); diff != "" {
		t.Errorf("Sign changed the trailers (-want +got):\n%s", diff)
	}
	last := signed[len(signed)-1]
	if last.Key != "Jit-Signature" || strings.ContainsAny(last.Value, "\n ") {
		t.Fatalf("last trailer %q is not a one-line Jit-Signature", last)
	}
	if err := trailer.Verify(signed, mustSigners(t, signersLine("jit", "", s))); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// The signed block survives a trip through a commit message.
	parsed, err := trailer.Parse("Merge pull request #7\n\n" + trailer.Format(signed))
	if err != nil {
		t.Fatal(err)
	}
	if err := trailer.Verify(parsed, mustSigners(t, signersLine("jit", "", s))); err != nil {
		t.Fatalf("Verify after Parse: %v", err)
	}
	if len(unsigned) != 4 {
		t.Fatalf("Sign modified its input")
	}
}

// TestSSHSIGLayout decodes a signature by hand, following PROTOCOL.sshsig,
// so that the blob's layout does not only agree with this package's reader.
func TestSSHSIGLayout(t *testing.T) {
	s := testSigner(t, 1)
	signed, err := trailer.Sign(unsigned, s)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := base64.StdEncoding.DecodeString(signed[len(signed)-1].Value)
	if err != nil {
		t.Fatal(err)
	}
	if string(blob[:6]) != "SSHSIG" || binary.BigEndian.Uint32(blob[6:]) != 1 {
		t.Fatalf("blob starts %q", blob[:10])
	}
	rest := blob[10:]
	next := func() []byte {
		n := binary.BigEndian.Uint32(rest)
		f := rest[4 : 4+n]
		rest = rest[4+n:]
		return f
	}
	pub, ns, reserved, hash, sigField := next(), next(), next(), next(), next()
	if len(rest) != 0 {
		t.Fatalf("%d bytes after the signature", len(rest))
	}
	if !bytes.Equal(pub, s.PublicKey().Marshal()) || string(ns) != "jit" || len(reserved) != 0 || string(hash) != "sha512" {
		t.Fatalf("fields: key ok %v, namespace %q, reserved %q, hash %q", bytes.Equal(pub, s.PublicKey().Marshal()), ns, reserved, hash)
	}
	var sig ssh.Signature
	if err := ssh.Unmarshal(sigField, &sig); err != nil || sig.Format != "ssh-ed25519" {
		t.Fatalf("signature field: %v %q", err, sig.Format)
	}
	h := sha512.Sum512(trailer.Payload(unsigned))
	var data []byte
	data = append(data, "SSHSIG"...)
	for _, f := range [][]byte{[]byte("jit"), nil, []byte("sha512"), h[:]} {
		data = binary.BigEndian.AppendUint32(data, uint32(len(f)))
		data = append(data, f...)
	}
	raw := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	if !ed25519.Verify(raw, data, sig.Blob) {
		t.Fatal("raw ed25519 verification of the signed data failed")
	}
}

func TestVerifyRejects(t *testing.T) {
	s, other := testSigner(t, 1), testSigner(t, 2)
	signed, err := trailer.Sign(unsigned, s)
	if err != nil {
		t.Fatal(err)
	}
	allowed := mustSigners(t, signersLine("jit", "", s))
	sigValue := signed[len(signed)-1].Value
	withSig := func(ts []trailer.Trailer, v string) []trailer.Trailer {
		return append(append([]trailer.Trailer(nil), ts...), trailer.Trailer{Key: "Jit-Signature", Value: v})
	}
	edit := func(f func(ts []trailer.Trailer) []trailer.Trailer) []trailer.Trailer {
		return f(append([]trailer.Trailer(nil), signed...))
	}
	// reblob re-encodes the signature with one field replaced.
	reblob := func(namespace, hash string, reserved []byte) string {
		h := sha512.Sum512(trailer.Payload(unsigned))
		if hash == "sha256" {
			h2 := sha256.Sum256(trailer.Payload(unsigned))
			return rawSSHSIG(t, s, namespace, hash, reserved, h2[:])
		}
		return rawSSHSIG(t, s, namespace, hash, reserved, h[:])
	}
	otherSigned, err := trailer.Sign(unsigned, other)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		ts      []trailer.Trailer
		signers trailer.AllowedSigners
		want    error
		substr  string
	}{
		{"no trailers", nil, allowed, trailer.ErrUnsigned, "last trailer is not a Jit-Signature"},
		{"unsigned", unsigned, allowed, trailer.ErrUnsigned, ""},
		{"signature not last", edit(func(ts []trailer.Trailer) []trailer.Trailer {
			return append(ts, trailer.Trailer{Key: "Jit-Grant", Value: "x"})
		}), allowed, trailer.ErrBadSignature, "not the last trailer"},
		{"two signatures", withSig(signed, sigValue), allowed, trailer.ErrBadSignature, "second Jit-Signature"},
		{"signature alone", withSig(nil, sigValue), allowed, trailer.ErrBadSignature, "signs no trailers"},
		{"changed value", edit(func(ts []trailer.Trailer) []trailer.Trailer {
			ts[0].Value = "prod/db/mallory"
			return ts
		}), allowed, trailer.ErrBadSignature, "does not verify"},
		{"changed key", edit(func(ts []trailer.Trailer) []trailer.Trailer {
			ts[2].Key = "Jit-Requested-By"
			return ts
		}), allowed, trailer.ErrBadSignature, "does not verify"},
		{"reordered", edit(func(ts []trailer.Trailer) []trailer.Trailer {
			ts[1], ts[2] = ts[2], ts[1]
			return ts
		}), allowed, trailer.ErrBadSignature, "does not verify"},
		{"line added", edit(func(ts []trailer.Trailer) []trailer.Trailer {
			return append(ts[:2:2], append([]trailer.Trailer{{Key: "Jit-Approved-By", Value: "carol"}}, ts[2:]...)...)
		}), allowed, trailer.ErrBadSignature, "does not verify"},
		{"line removed", edit(func(ts []trailer.Trailer) []trailer.Trailer {
			return append(ts[:2:2], ts[3:]...)
		}), allowed, trailer.ErrBadSignature, "does not verify"},
		{"value with a newline", edit(func(ts []trailer.Trailer) []trailer.Trailer {
			ts[0].Value = "prod/db/alice\nJit-Requested-By: alice"
			ts = append(ts[:1], ts[2:]...)
			return ts
		}), allowed, trailer.ErrBadSignature, "control or formatting character U+000A"},
		{"another key", otherSigned, allowed, trailer.ErrUnknownKey, "is not listed for principal jit"},
		{"another principal", signed, mustSigners(t, signersLine("alice@example.com", "", s)), trailer.ErrUnknownKey, "not listed"},
		{"principal negated", signed, mustSigners(t, signersLine("*,!jit", "", s)), trailer.ErrUnknownKey, "not listed"},
		{"namespace not allowed", signed, mustSigners(t, signersLine("jit", `namespaces="git"`, s)), trailer.ErrUnknownKey, `namespaces that exclude "jit" (lines [1])`},
		{"no signers", signed, nil, trailer.ErrUnknownKey, ""},
		{"wrong namespace in blob", withSig(unsigned, reblob("git", "sha512", nil)), allowed, trailer.ErrBadSignature, `namespace is "git"`},
		{"sha256", withSig(unsigned, reblob("jit", "sha256", nil)), allowed, trailer.ErrBadSignature, `hashes with "sha256"`},
		{"reserved set", withSig(unsigned, reblob("jit", "sha512", []byte("x"))), allowed, trailer.ErrBadSignature, "reserved field"},
		{"truncated base64", withSig(unsigned, sigValue[:len(sigValue)-8]), allowed, trailer.ErrBadSignature, ""},
		{"truncated blob", withSig(unsigned, base64.StdEncoding.EncodeToString(mustDecode(t, sigValue)[:60])), allowed, trailer.ErrBadSignature, "truncated"},
		{"bytes after the blob", withSig(unsigned, base64.StdEncoding.EncodeToString(append(mustDecode(t, sigValue), 0))), allowed, trailer.ErrBadSignature, "bytes after the signature"},
		{"garbage", withSig(unsigned, "!!!!"), allowed, trailer.ErrBadSignature, "base64"},
		{"unpadded base64", withSig(unsigned, strings.TrimRight(sigValue, "=")), allowed, trailer.ErrBadSignature, "base64"},
		{"not SSHSIG", withSig(unsigned, base64.StdEncoding.EncodeToString([]byte("SSHSAG\x00\x00\x00\x01"))), allowed, trailer.ErrBadSignature, "magic"},
		{"version 2", withSig(unsigned, base64.StdEncoding.EncodeToString(append([]byte("SSHSIG\x00\x00\x00\x02"), mustDecode(t, sigValue)[10:]...))), allowed, trailer.ErrBadSignature, "version 2"},
		{"ecdsa key", withSig(unsigned, ecdsaSSHSIG(t)), allowed, trailer.ErrBadSignature, "ecdsa-sha2-nistp256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := trailer.Verify(tc.ts, tc.signers)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %q does not contain %q", err, tc.substr)
			}
		})
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawSSHSIG builds an SSHSIG blob by hand with the given fields, signed
// correctly over them, to test that Verify refuses what jit never writes.
func rawSSHSIG(t *testing.T, s ssh.Signer, namespace, hash string, reserved, digest []byte) string {
	t.Helper()
	str := func(b []byte, f []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		return append(b, f...)
	}
	data := []byte("SSHSIG")
	for _, f := range [][]byte{[]byte(namespace), reserved, []byte(hash), digest} {
		data = str(data, f)
	}
	sig, err := s.Sign(rand.Reader, data)
	if err != nil {
		t.Fatal(err)
	}
	blob := binary.BigEndian.AppendUint32([]byte("SSHSIG"), 1)
	for _, f := range [][]byte{s.PublicKey().Marshal(), []byte(namespace), reserved, []byte(hash), ssh.Marshal(sig)} {
		blob = str(blob, f)
	}
	return base64.StdEncoding.EncodeToString(blob)
}

// ecdsaSSHSIG is a valid SSHSIG over unsigned by an ECDSA key: well formed,
// but not jit's kind of signature.
func ecdsaSSHSIG(t *testing.T) string {
	_, s := ecdsaKey(t)
	h := sha512.Sum512(trailer.Payload(unsigned))
	return rawSSHSIG(t, s, "jit", "sha512", nil, h[:])
}

func TestSignRejects(t *testing.T) {
	_, ecdsaSigner := ecdsaKey(t)
	for _, tc := range []struct {
		name   string
		ts     []trailer.Trailer
		signer ssh.Signer
		substr string
	}{
		{"nothing to sign", nil, testSigner(t, 1), "there are none"},
		{"already signed", tr("Jit-Grant", "a", "Jit-Signature", "x"), testSigner(t, 1), "trailer 2 is already a Jit-Signature"},
		{"unknown key", tr("Jit-Grant", "a", "Signed-off-by", "b"), testSigner(t, 1), `trailer 2: unknown trailer key "Signed-off-by"`},
		{"newline in value", tr("Jit-Grant", "a\nb"), testSigner(t, 1), "trailer 1: Jit-Grant: control or formatting character U+000A"},
		{"ecdsa key", tr("Jit-Grant", "a"), ecdsaSigner, "signing key is ecdsa-sha2-nistp256; jit signs with ssh-ed25519 keys only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := trailer.Sign(tc.ts, tc.signer)
			if err == nil {
				t.Fatalf("Sign accepted: %v", got)
			}
			if !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %q does not contain %q", err, tc.substr)
			}
		})
	}
}

func TestLoadSigner(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "controller")
	if err != nil {
		t.Fatal(err)
	}
	s, err := trailer.LoadSigner(pem.EncodeToMemory(block))
	if err != nil {
		t.Fatalf("LoadSigner: %v", err)
	}
	if s.PublicKey().Type() != "ssh-ed25519" {
		t.Fatalf("type %s", s.PublicKey().Type())
	}
	encBlock, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "controller", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := ecdsaKey(t)
	ecBlock, err := ssh.MarshalPrivateKey(ek, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		pem    []byte
		substr string
	}{
		{"encrypted", pem.EncodeToMemory(encBlock), "encrypted with a passphrase"},
		{"ecdsa", pem.EncodeToMemory(ecBlock), "signing key is ecdsa-sha2-nistp256"},
		{"garbage", []byte("not a key"), "reading signing key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := trailer.LoadSigner(tc.pem); err == nil || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("LoadSigner error %v, want one containing %q", err, tc.substr)
			}
		})
	}
}

func TestArmor(t *testing.T) {
	for _, n := range []int{0, 1, 69, 70, 71, 140, 141} {
		v := strings.Repeat("A", n)
		got := trailer.Armor(v)
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if lines[0] != "-----BEGIN SSH SIGNATURE-----" || lines[len(lines)-1] != "-----END SSH SIGNATURE-----" {
			t.Fatalf("Armor(%d chars) = %q", n, got)
		}
		body := lines[1 : len(lines)-1]
		for i, l := range body {
			if len(l) > 70 || (i < len(body)-1 && len(l) != 70) || l == "" {
				t.Errorf("Armor(%d chars) line %d has %d chars", n, i+1, len(l))
			}
		}
		if strings.Join(body, "") != v {
			t.Errorf("Armor(%d chars) body does not join back to the value", n)
		}
	}
}

func ExampleSign() {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	signer, _ := ssh.NewSignerFromKey(key)
	ts, _ := trailer.Event{Kind: trailer.Revoked, Grants: []string{"prod/db/alice"}, Parent: sha1}.Trailers()
	signed, _ := trailer.Sign(ts, signer)
	fmt.Print(string(trailer.Payload(signed)))
	signers, _ := trailer.ParseAllowedSigners(".github/jit-signers",
		append([]byte("jit namespaces=\"jit\" "), ssh.MarshalAuthorizedKey(signer.PublicKey())...))
	fmt.Println("verified:", trailer.Verify(signed, signers) == nil)
	// Output:
	// Jit-Event: revoked
	// Jit-Grant: prod/db/alice
	// Jit-Parent: 0123456789abcdef0123456789abcdef01234567
	// verified: true
}
