package credential

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
	"golang.org/x/crypto/ssh"
)

// MaxPlaintext bounds what Decrypt returns, so a hostile ciphertext cannot
// exhaust memory; credentials are far smaller.
const MaxPlaintext = 1 << 20

// Encrypt encrypts plaintext with age to every usable key in authorizedKeys
// (see ParseAuthorizedKeys) and returns an ASCII-armored age file
// ("-----BEGIN AGE ENCRYPTED FILE-----"). Any one of the matching private
// keys decrypts it, with Decrypt or the age command line. Unusable lines are
// skipped; when no key is usable the error is a *NoUsableKeyError naming every
// line's problem.
func Encrypt(plaintext []byte, authorizedKeys []string) ([]byte, error) {
	keys, problems := ParseAuthorizedKeys(authorizedKeys)
	if len(keys) == 0 {
		return nil, &NoUsableKeyError{Problems: problems}
	}
	recipients := make([]age.Recipient, len(keys))
	for i, k := range keys {
		recipients[i] = k.recipient
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, recipients...)
	if err != nil {
		return nil, fmt.Errorf("encrypting to %d SSH keys: %w", len(keys), err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}
	if err := aw.Close(); err != nil {
		return nil, fmt.Errorf("armoring: %w", err)
	}
	return buf.Bytes(), nil
}

// ErrPassphraseProtected reports a private key Decrypt cannot use because it
// is encrypted with a passphrase.
var ErrPassphraseProtected = errors.New("the SSH private key is passphrase-protected; passphrase-protected keys are not supported yet: decrypt with `age --decrypt -i KEYFILE` instead, which asks for the passphrase")

// ErrNotRecipient reports that a credential was not encrypted to the given
// key: it belongs to someone else, or to another of the requester's keys.
var ErrNotRecipient = errors.New("the credential is not encrypted to this SSH key")

// Decrypt decrypts a credential made by Encrypt (armored or binary age)
// with an SSH private key in OpenSSH or PEM format (ssh-ed25519 or ssh-rsa).
// Its errors wrap ErrPassphraseProtected for encrypted keys and
// ErrNotRecipient when the credential was encrypted to other keys.
func Decrypt(ciphertext, sshPrivateKeyPEM []byte) ([]byte, error) {
	raw, err := ssh.ParseRawPrivateKey(sshPrivateKeyPEM)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, ErrPassphraseProtected
	}
	if err != nil {
		return nil, fmt.Errorf("reading the SSH private key: %w; expected an OpenSSH private key (\"-----BEGIN OPENSSH PRIVATE KEY-----\")", err)
	}
	var id age.Identity
	var pub ssh.PublicKey
	switch k := raw.(type) {
	case *ed25519.PrivateKey:
		id, pub, err = ed25519Identity(*k)
	case ed25519.PrivateKey:
		id, pub, err = ed25519Identity(k)
	case *rsa.PrivateKey:
		var ri *agessh.RSAIdentity
		if ri, err = agessh.NewRSAIdentity(k); err == nil {
			id = ri
			pub, err = ssh.NewPublicKey(&k.PublicKey)
		}
	default:
		return nil, fmt.Errorf("reading the SSH private key: %T keys are not supported; credentials are encrypted to ssh-ed25519 and ssh-rsa keys only", raw)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the SSH private key: %w", err)
	}

	var src io.Reader = bytes.NewReader(ciphertext)
	if bytes.HasPrefix(bytes.TrimLeft(ciphertext, " \t\r\n"), []byte(armor.Header)) {
		src = armor.NewReader(src)
	}
	r, err := age.Decrypt(src, id)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return nil, fmt.Errorf("%w (%s %s); use the private key of one of the requester's SSH keys", ErrNotRecipient, pub.Type(), ssh.FingerprintSHA256(pub))
	}
	if err != nil {
		return nil, fmt.Errorf("decrypting the credential: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(r, MaxPlaintext+1))
	if err != nil {
		return nil, fmt.Errorf("decrypting the credential: %w", err)
	}
	if len(out) > MaxPlaintext {
		return nil, fmt.Errorf("decrypting the credential: plaintext larger than %d bytes; this is not a jit credential", MaxPlaintext)
	}
	return out, nil
}

func ed25519Identity(k ed25519.PrivateKey) (age.Identity, ssh.PublicKey, error) {
	id, err := agessh.NewEd25519Identity(k)
	if err != nil {
		return nil, nil, err
	}
	pub, err := ssh.NewPublicKey(k.Public())
	return id, pub, err
}
