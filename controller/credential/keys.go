package credential

import (
	"fmt"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// PublicKey is one SSH public key usable as an age recipient.
type PublicKey struct {
	// Type is "ssh-ed25519" or "ssh-rsa".
	Type string
	// Fingerprint is the key's SHA256 fingerprint as ssh-keygen -l prints it.
	Fingerprint string
	// Comment is the text after the key on its line, if any.
	Comment string

	recipient age.Recipient
}

// KeyProblem says why one line of authorized_keys text was not used.
type KeyProblem struct {
	// Line is the 1-based number of the line, counting the lines of all
	// inputs one after another.
	Line int
	// Msg says what is wrong with it and what to do.
	Msg string
}

// String renders the problem as "line N: message".
func (p KeyProblem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

// ParseAuthorizedKeys reads SSH public keys in authorized_keys format (as
// GitHub serves them at https://github.com/LOGIN.keys). Each input may hold
// several lines; blank lines and lines starting with # are ignored. It
// returns the keys usable as age recipients (ssh-ed25519, and ssh-rsa of at
// least 2048 bits) in input order, and a problem for every other line.
func ParseAuthorizedKeys(authorizedKeys []string) ([]PublicKey, []KeyProblem) {
	var keys []PublicKey
	var problems []KeyProblem
	n := 0
	for _, text := range authorizedKeys {
		for line := range strings.Lines(text) {
			n++
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, err := parseKeyLine(line)
			if err != nil {
				problems = append(problems, KeyProblem{Line: n, Msg: err.Error()})
				continue
			}
			keys = append(keys, k)
		}
	}
	return keys, problems
}

func parseKeyLine(line string) (PublicKey, error) {
	pk, comment, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return PublicKey{}, fmt.Errorf("not an SSH public key (%v); expected \"ssh-ed25519 AAAA… comment\"", err)
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return PublicKey{}, fmt.Errorf("one key per line expected, found more after the key")
	}
	k := PublicKey{Type: pk.Type(), Fingerprint: ssh.FingerprintSHA256(pk), Comment: comment}
	switch pk.Type() {
	case ssh.KeyAlgoED25519:
		k.recipient, err = agessh.NewEd25519Recipient(pk)
	case ssh.KeyAlgoRSA:
		k.recipient, err = agessh.NewRSARecipient(pk)
	default:
		return PublicKey{}, fmt.Errorf("%s key %s is not supported; credentials are encrypted to ssh-ed25519 or ssh-rsa keys only, so add one of those to your GitHub account", pk.Type(), k.Fingerprint)
	}
	if err != nil {
		return PublicKey{}, fmt.Errorf("%s key %s cannot be used: %v; use an ssh-ed25519 key or an ssh-rsa key of at least 2048 bits", pk.Type(), k.Fingerprint, err)
	}
	return k, nil
}

// NoUsableKeyError reports that none of the given SSH keys can receive a
// credential; Problems says why for each line.
type NoUsableKeyError struct {
	Problems []KeyProblem
}

// Error names every line's problem, or says that no key was given at all.
func (e *NoUsableKeyError) Error() string {
	if len(e.Problems) == 0 {
		return "no SSH public key given; the requester needs an ssh-ed25519 or ssh-rsa key on their GitHub account to receive credentials"
	}
	var b strings.Builder
	b.WriteString("no usable SSH public key; the requester needs an ssh-ed25519 or ssh-rsa key on their GitHub account to receive credentials: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}
