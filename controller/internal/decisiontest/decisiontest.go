// Package decisiontest makes controller decisions for tests: an ed25519 key
// the test owns, its allowed_signers line for .github/jit-signers, and merge
// commits whose messages end with a signed Jit-* trailer block, exactly as
// the App writes them. Test-only.
package decisiontest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/internal/gittest"
	"github.com/jitops/jit/controller/trailer"
)

// Key is a controller signing key made for one test.
type Key struct {
	Signer ssh.Signer
	// PEM is the private key as an unencrypted OpenSSH key file, for
	// commands that read --signing-key.
	PEM []byte
}

// NewKey generates a fresh ed25519 key.
func NewKey(t testing.TB) *Key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return &Key{Signer: s, PEM: pem.EncodeToMemory(block)}
}

// AllowedSigners is the .github/jit-signers content that trusts k.
func (k *Key) AllowedSigners() string {
	return fmt.Sprintf("jit namespaces=\"jit\" %s jit-test\n", strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.Signer.PublicKey()))))
}

// Message returns a merge message for pull request d.PullRequest ending with
// d's trailers signed by k.
func (k *Key) Message(t testing.TB, d trailer.Decision) string {
	t.Helper()
	ts, err := d.Trailers()
	if err != nil {
		t.Fatalf("decisiontest: %v", err)
	}
	return k.SignedMessage(t, fmt.Sprintf("Merge pull request #%d", d.PullRequest), ts)
}

// SignedMessage returns subject, a blank line and ts signed by k.
func (k *Key) SignedMessage(t testing.TB, subject string, ts []trailer.Trailer) string {
	t.Helper()
	signed, err := trailer.Sign(ts, k.Signer)
	if err != nil {
		t.Fatalf("decisiontest: signing: %v", err)
	}
	return subject + "\n\n" + trailer.Format(signed)
}

// Merge commits on branch a merge of head (as second parent) whose message
// carries d signed by k; d.Head is set to head. The committer is the App.
func (k *Key) Merge(t testing.TB, g *gittest.Repo, branch string, when time.Time, head plumbing.Hash, d trailer.Decision) plumbing.Hash {
	t.Helper()
	d.Head = head.String()
	return g.Commit(branch, "jit[bot]", k.Message(t, d), when, nil, g.Head(branch), head)
}
