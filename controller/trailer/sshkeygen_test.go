package trailer_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/trailer"
)

// keygen is a key pair written by the real ssh-keygen into a temporary
// directory, with an allowed_signers file listing it for principal jit.
type keygen struct {
	bin, dir, key, signers string
}

func newKeygen(t *testing.T) keygen {
	t.Helper()
	k := keygen{bin: requireTool(t, "ssh-keygen"), dir: t.TempDir()}
	k.key = filepath.Join(k.dir, "jit_ed25519")
	k.run(t, nil, "-q", "-t", "ed25519", "-N", "", "-C", "jit controller", "-f", k.key)
	pub, err := os.ReadFile(k.key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	k.signers = filepath.Join(k.dir, "jit-signers")
	if err := os.WriteFile(k.signers, append([]byte(`jit namespaces="jit" `), pub...), 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

// run runs ssh-keygen with args and stdin, failing t when it fails.
func (k keygen) run(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	out, err := k.try(stdin, args...)
	if err != nil {
		t.Fatalf("ssh-keygen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (k keygen) try(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(k.bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return append(out, stderr.Bytes()...), err
	}
	return out, nil
}

// signer loads the key ssh-keygen wrote with LoadSigner.
func (k keygen) signer(t *testing.T) ssh.Signer {
	t.Helper()
	pem, err := os.ReadFile(k.key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := trailer.LoadSigner(pem)
	if err != nil {
		t.Fatalf("LoadSigner of ssh-keygen's key: %v", err)
	}
	return s
}

// signDecision returns decisionForKeygen's trailers, unsigned and signed by
// Sign with the key ssh-keygen wrote.
func (k keygen) signDecision(t *testing.T) (ts, signed []trailer.Trailer) {
	t.Helper()
	ts, err := decisionForKeygen.Trailers()
	if err != nil {
		t.Fatal(err)
	}
	signed, err = trailer.Sign(ts, k.signer(t))
	if err != nil {
		t.Fatal(err)
	}
	return ts, signed
}

// verifyByHand follows the auditor's procedure of the design: the payload in
// a file, the signature armored by Armor into SIG, then
// ssh-keygen -Y verify -f SIGNERS -I jit -n jit -s SIG < PAYLOAD.
func (k keygen) verifyByHand(t *testing.T, ts []trailer.Trailer) ([]byte, error) {
	t.Helper()
	return k.verifyWith(t, k.signers, ts)
}

// verifyWith is verifyByHand with another allowed_signers file.
func (k keygen) verifyWith(t *testing.T, signers string, ts []trailer.Trailer) ([]byte, error) {
	t.Helper()
	sig := filepath.Join(t.TempDir(), "SIG")
	if err := os.WriteFile(sig, []byte(trailer.Armor(ts[len(ts)-1].Value)), 0o600); err != nil {
		t.Fatal(err)
	}
	return k.try(trailer.Payload(ts), "-Y", "verify", "-f", signers, "-I", "jit", "-n", "jit", "-s", sig)
}

var decisionForKeygen = trailer.Decision{
	Grants:      []string{"prod/db/alice-inc-1234"},
	RequestedBy: []string{"alice"},
	ApprovedBy:  []string{"bob"},
	EligibleVia: []trailer.Via{{Login: "bob", Owner: "@acme/dba"}},
	Policies:    []string{"prod-db"},
	Duration:    2 * time.Hour,
	ExpiresAt:   fixedNow.Add(2 * time.Hour),
	PullRequest: 12,
	Head:        sha1,
}

// TestSSHKeygenVerifiesSign: a signature made by Sign is accepted by the
// real ssh-keygen exactly as the design tells auditors to check it, and
// rejected once any one trailer changes.
func TestSSHKeygenVerifiesSign(t *testing.T) {
	k := newKeygen(t)
	_, signed := k.signDecision(t)
	out, err := k.verifyByHand(t, signed)
	if err != nil {
		t.Fatalf("ssh-keygen rejected Sign's signature: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `Good "jit" signature for jit`) {
		t.Errorf("ssh-keygen said %q", out)
	}
	for i := range len(signed) - 1 {
		tampered := append([]trailer.Trailer(nil), signed...)
		tampered[i].Value += "x"
		if out, err := k.verifyByHand(t, tampered); err == nil {
			t.Errorf("ssh-keygen accepted the signature after %s changed:\n%s", signed[i].Key, out)
		}
	}
	// And the signature as stored in a commit message reads back for the same check.
	parsed, err := trailer.Parse("Merge pull request #12 from alice/db\n\n" + trailer.Format(signed))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := k.verifyByHand(t, parsed); err != nil {
		t.Fatalf("ssh-keygen rejected the parsed signature: %v\n%s", err, out)
	}
}

// TestVerifyAcceptsSSHKeygenSignature: a signature made by ssh-keygen -Y sign
// over a payload, with its armor removed, is accepted by Verify; over another
// payload, or in another namespace, it is not.
func TestVerifyAcceptsSSHKeygenSignature(t *testing.T) {
	k := newKeygen(t)
	signersText, err := os.ReadFile(k.signers)
	if err != nil {
		t.Fatal(err)
	}
	signers := mustSigners(t, string(signersText))
	ts, ours := k.signDecision(t)
	sign := func(namespace string) string {
		armored := k.run(t, trailer.Payload(ts), "-Y", "sign", "-f", k.key, "-n", namespace)
		return unarmor(t, string(armored))
	}
	signed := append(append([]trailer.Trailer(nil), ts...), trailer.Trailer{Key: "Jit-Signature", Value: sign("jit")})
	if err := trailer.Verify(signed, signers); err != nil {
		t.Fatalf("Verify rejected ssh-keygen's signature: %v", err)
	}
	// The value is the same one Sign makes with that key (ed25519 is deterministic).
	if got, want := ours[len(ours)-1].Value, signed[len(signed)-1].Value; got != want {
		t.Errorf("Sign and ssh-keygen -Y sign differ:\n%s\n%s", got, want)
	}

	tampered := append([]trailer.Trailer(nil), signed...)
	tampered[0].Value = "prod/db/mallory"
	if err := trailer.Verify(tampered, signers); !errors.Is(err, trailer.ErrBadSignature) {
		t.Errorf("Verify of a changed trailer = %v, want ErrBadSignature", err)
	}
	otherNS := append(append([]trailer.Trailer(nil), ts...), trailer.Trailer{Key: "Jit-Signature", Value: sign("git")})
	if err := trailer.Verify(otherNS, signers); !errors.Is(err, trailer.ErrBadSignature) {
		t.Errorf("Verify of a git-namespace signature = %v, want ErrBadSignature", err)
	}
}

// TestSSHKeygenAgreesOnAllowedSigners: ssh-keygen and Verify agree on which
// allowed_signers lines let the key sign for jit.
func TestSSHKeygenAgreesOnAllowedSigners(t *testing.T) {
	k := newKeygen(t)
	pub, err := os.ReadFile(k.key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	_, signed := k.signDecision(t)
	for _, tc := range []struct {
		name, text string // KEY stands for the public key
		ok         bool
	}{
		{"plain", "jit KEY", true},
		{"quoted principal", `"jit" KEY`, true},
		{"pattern", "j?t,alice KEY", true},
		{"star", "* KEY", true},
		{"negated", "*,!jit KEY", false},
		{"other principal", "alice KEY", false},
		{"namespaces allow", `jit namespaces="git,j*" KEY`, true},
		{"namespaces deny", `jit namespaces="git" KEY`, false},
		{"namespaces deny, then a line allowing", "jit namespaces=\"git\" KEY\njit KEY", true},
		{"option name in capitals", `jit NAMESPACES="jit" KEY`, true},
		{"comment and blank lines", "# signers\n\n  jit KEY", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			text := strings.ReplaceAll(tc.text, "KEY", strings.TrimSpace(string(pub)))
			file := filepath.Join(t.TempDir(), "jit-signers")
			if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			out, keygenErr := k.verifyWith(t, file, signed)
			if (keygenErr == nil) != tc.ok {
				t.Fatalf("ssh-keygen: %v\n%s", keygenErr, out)
			}
			err := trailer.Verify(signed, mustSigners(t, text))
			if (err == nil) != tc.ok {
				t.Fatalf("Verify = %v, ssh-keygen accepted: %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, trailer.ErrUnknownKey) {
				t.Errorf("Verify = %v, want ErrUnknownKey", err)
			}
		})
	}
}

// unarmor removes the armor lines and line breaks of an ssh-keygen signature.
func unarmor(t *testing.T, armored string) string {
	t.Helper()
	body, ok := strings.CutPrefix(armored, "-----BEGIN SSH SIGNATURE-----\n")
	body, ok2 := strings.CutSuffix(body, "-----END SSH SIGNATURE-----\n")
	if !ok || !ok2 {
		t.Fatalf("not an armored signature: %q", armored)
	}
	return strings.ReplaceAll(body, "\n", "")
}
