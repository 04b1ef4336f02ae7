package credential_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/credential"
)

// person is someone with an SSH key pair, generated for the test.
type person struct {
	authorized string // authorized_keys line
	private    []byte // OpenSSH private key
	pub        ssh.PublicKey
}

func newPerson(t testing.TB, key any, comment string) person {
	t.Helper()
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(key, comment)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " " + comment
	return person{authorized: line, private: pem.EncodeToMemory(block), pub: signer.PublicKey()}
}

func ed25519Person(t testing.TB, comment string) person {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return newPerson(t, priv, comment)
}

var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func rsaPerson(t testing.TB, comment string) person {
	k, err := rsaKey()
	if err != nil {
		t.Fatal(err)
	}
	return newPerson(t, k, comment)
}

func ecdsaLine(t testing.TB) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	alice := ed25519Person(t, "alice@laptop")
	aliceRSA := rsaPerson(t, "alice@old-laptop")
	secret := []byte("s3cr3t-password")

	ct, err := credential.Encrypt(secret, []string{alice.authorized, aliceRSA.authorized})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(ct, []byte("-----BEGIN AGE ENCRYPTED FILE-----\n")) || !bytes.HasSuffix(ct, []byte("-----END AGE ENCRYPTED FILE-----\n")) {
		t.Errorf("ciphertext is not ASCII-armored age:\n%s", ct)
	}
	if bytes.Contains(ct, secret) {
		t.Error("ciphertext contains the plaintext")
	}
	for name, p := range map[string]person{"ssh-ed25519": alice, "ssh-rsa": aliceRSA} {
		got, err := credential.Decrypt(ct, p.private)
		if err != nil {
			t.Errorf("%s: Decrypt: %v", name, err)
		} else if !bytes.Equal(got, secret) {
			t.Errorf("%s: Decrypt = %q, want %q", name, got, secret)
		}
	}
}

func TestEncryptIsFreshEachTime(t *testing.T) {
	alice := ed25519Person(t, "alice")
	a, err := credential.Encrypt([]byte("x"), []string{alice.authorized})
	if err != nil {
		t.Fatal(err)
	}
	b, err := credential.Encrypt([]byte("x"), []string{alice.authorized})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("two encryptions of the same plaintext are identical")
	}
}

func TestDecryptWithSomeoneElsesKey(t *testing.T) {
	alice := ed25519Person(t, "alice")
	mallory := ed25519Person(t, "mallory")
	malloryRSA := rsaPerson(t, "mallory-rsa")
	ct, err := credential.Encrypt([]byte("for alice only"), []string{alice.authorized})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []person{mallory, malloryRSA} {
		got, err := credential.Decrypt(ct, m.private)
		if !errors.Is(err, credential.ErrNotRecipient) {
			t.Fatalf("Decrypt with a third person's %s key = %q, %v; want ErrNotRecipient", m.pub.Type(), got, err)
		}
		want := "the credential is not encrypted to this SSH key (" + m.pub.Type() + " " + ssh.FingerprintSHA256(m.pub) + "); use the private key of one of the requester's SSH keys"
		if err.Error() != want {
			t.Errorf("error = %q\nwant    %q", err, want)
		}
	}
}

func TestDecryptRejects(t *testing.T) {
	alice := ed25519Person(t, "alice")
	ct, err := credential.Encrypt([]byte("secret"), []string{alice.authorized})
	if err != nil {
		t.Fatal(err)
	}
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	protected, err := ssh.MarshalPrivateKeyWithPassphrase(edPriv, "", []byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecBlock, err := ssh.MarshalPrivateKey(ecKey, "")
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(ct, []byte("\n"), []byte("\nAAAA"), 3)

	tests := map[string]struct {
		ct, key []byte
		is      error
		want    string
	}{
		"passphrase-protected key": {ct, pem.EncodeToMemory(protected), credential.ErrPassphraseProtected, "passphrase-protected keys are not supported yet"},
		"not a key":                {ct, []byte("hello"), nil, "reading the SSH private key: ssh: no key found; expected an OpenSSH private key"},
		"public key instead":       {ct, []byte(alice.authorized), nil, "reading the SSH private key: ssh: no key found"},
		"ecdsa key":                {ct, pem.EncodeToMemory(ecBlock), nil, "*ecdsa.PrivateKey keys are not supported; credentials are encrypted to ssh-ed25519 and ssh-rsa keys only"},
		"tampered ciphertext":      {tampered, alice.private, nil, "decrypting the credential:"},
		"not age at all":           {[]byte("plain text"), alice.private, nil, "decrypting the credential:"},
		"empty ciphertext":         {nil, alice.private, nil, "decrypting the credential:"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := credential.Decrypt(tc.ct, tc.key)
			if err == nil {
				t.Fatalf("Decrypt = %q, want an error", got)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestDecryptBinaryAge(t *testing.T) {
	// Decrypt also takes the unarmored form (for example from `age -e` without -a).
	alice := ed25519Person(t, "alice")
	ct, err := credential.Encrypt([]byte("secret"), []string{alice.authorized})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(ct)
	if block == nil {
		t.Fatal("armored ciphertext is not PEM")
	}
	got, err := credential.Decrypt(block.Bytes, alice.private)
	if err != nil || string(got) != "secret" {
		t.Errorf("Decrypt(binary) = %q, %v", got, err)
	}
}

func TestEncryptSkipsUnusableKeys(t *testing.T) {
	alice := ed25519Person(t, "alice")
	keys := []string{
		"# alice's keys from GitHub\n" + ecdsaLine(t) + "\n\n" + alice.authorized + "\n",
		"garbage",
	}
	ct, err := credential.Encrypt([]byte("secret"), keys)
	if err != nil {
		t.Fatalf("Encrypt with one usable key among others: %v", err)
	}
	if got, err := credential.Decrypt(ct, alice.private); err != nil || string(got) != "secret" {
		t.Errorf("Decrypt = %q, %v", got, err)
	}
}

func TestEncryptWithoutUsableKey(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallPub, _ := ssh.NewPublicKey(&small.PublicKey)
	smallLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(smallPub)))
	ec := ecdsaLine(t)
	ecPub, _, _, _, _ := ssh.ParseAuthorizedKey([]byte(ec))

	tests := map[string]struct {
		keys []string
		want string
	}{
		"none":          {nil, "no SSH public key given; the requester needs an ssh-ed25519 or ssh-rsa key on their GitHub account"},
		"only comments": {[]string{"# nothing\n\n"}, "no SSH public key given"},
		"ecdsa": {[]string{ec}, "no usable SSH public key; the requester needs an ssh-ed25519 or ssh-rsa key on their GitHub account to receive credentials: line 1: ecdsa-sha2-nistp256 key " +
			ssh.FingerprintSHA256(ecPub) + " is not supported; credentials are encrypted to ssh-ed25519 or ssh-rsa keys only, so add one of those to your GitHub account"},
		"rsa 1024": {[]string{smallLine}, "line 1: ssh-rsa key " + ssh.FingerprintSHA256(smallPub) + " cannot be used: RSA key size is too small; use an ssh-ed25519 key or an ssh-rsa key of at least 2048 bits"},
		"garbage":  {[]string{"# c\nssh-ed25519 !!!notbase64"}, "line 2: not an SSH public key (ssh: no key found"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ct, err := credential.Encrypt([]byte("secret"), tc.keys)
			var nu *credential.NoUsableKeyError
			if !errors.As(err, &nu) {
				t.Fatalf("Encrypt = %q, %v; want a *NoUsableKeyError", ct, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseAuthorizedKeys(t *testing.T) {
	alice := ed25519Person(t, "alice@laptop")
	bob := rsaPerson(t, "")
	keys, problems := credential.ParseAuthorizedKeys([]string{
		alice.authorized + "\n" + "  \n" + ecdsaLine(t),
		strings.TrimSpace(bob.authorized),
	})
	if len(keys) != 2 {
		t.Fatalf("keys = %+v, want alice's and bob's", keys)
	}
	if keys[0].Type != "ssh-ed25519" || keys[0].Fingerprint != ssh.FingerprintSHA256(alice.pub) || keys[0].Comment != "alice@laptop" {
		t.Errorf("first key = %+v", keys[0])
	}
	if keys[1].Type != "ssh-rsa" || keys[1].Fingerprint != ssh.FingerprintSHA256(bob.pub) || keys[1].Comment != "" {
		t.Errorf("second key = %+v", keys[1])
	}
	if len(problems) != 1 || problems[0].Line != 3 || !strings.Contains(problems[0].Msg, "ecdsa-sha2-nistp256 key") {
		t.Errorf("problems = %+v, want one for line 3 (the ecdsa key)", problems)
	}
}
