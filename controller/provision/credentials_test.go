package provision_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/google/go-cmp/cmp"
	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/render"
)

// person is a requester with an SSH key pair.
type person struct {
	authorized string
	private    []byte
}

func newPerson(t testing.TB) person {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return person{authorized: string(ssh.MarshalAuthorizedKey(sp)), private: pem.EncodeToMemory(block)}
}

// open decrypts and parses a delivered credential.
func (p person) open(t testing.TB, ciphertext []byte) credential.Payload {
	t.Helper()
	plain, err := credential.Decrypt(ciphertext, p.private)
	if err != nil {
		t.Fatalf("decrypting the credential: %v", err)
	}
	pl, err := credential.ParsePayload(plain)
	if err != nil {
		t.Fatalf("reading the credential: %v\n%s", err, plain)
	}
	return pl
}

// recordingKeys is a KeySource that counts look-ups.
type recordingKeys struct {
	mu    sync.Mutex
	keys  map[string][]string
	asked int
}

func (k *recordingKeys) AuthorizedKeys(_ context.Context, login string) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.asked++
	return k.keys[login], nil
}

// failingSink refuses deliveries while fail is set, else records them.
type failingSink struct {
	memSink
	fail bool
}

func (s *failingSink) Deliver(ctx context.Context, id string, ct []byte) error {
	if s.fail {
		return errors.New("the mailbox is full")
	}
	return s.memSink.Deliver(ctx, id, ct)
}

// verifies reports whether verifier (SCRAM-SHA-256$iter:salt$stored:server)
// is the verifier of password.
func verifies(t testing.TB, password, verifier string) bool {
	t.Helper()
	rest, ok := strings.CutPrefix(verifier, "SCRAM-SHA-256$")
	iterS, rest, ok2 := strings.Cut(rest, ":")
	saltB64, _, ok3 := strings.Cut(rest, "$")
	iter, err := strconv.Atoi(iterS)
	salt, err2 := base64.StdEncoding.DecodeString(saltB64)
	if !ok || !ok2 || !ok3 || err != nil || err2 != nil {
		t.Fatalf("not a SCRAM verifier: %q", verifier)
	}
	return credential.SCRAMVerifierWithSalt(password, salt, iter) == verifier
}

// stateVerifier returns the verifier the password template recorded in the
// local state of workspace ws.
func (e *env) stateVerifier(t testing.TB, ws string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.backend.Dir, ws, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Resources []struct {
			Name      string `json:"name"`
			Instances []struct {
				Attributes struct {
					Input struct {
						Value struct {
							Verifier string `json:"verifier"`
						} `json:"value"`
					} `json:"input"`
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Resources {
		if r.Name == "login" && len(r.Instances) == 1 {
			return r.Instances[0].Attributes.Input.Value.Verifier
		}
	}
	t.Fatalf("no terraform_data.login in the state of %s", ws)
	return ""
}

func passwordGrant(id string) grant.Request {
	return grant.Request{ID: id, File: "access/" + id + ".yaml", Template: "password", Requester: "alice", Duration: time.Hour,
		Scope: map[string]any{"value": "v"}}
}

// TestCredentialDeliveredOnceAfterApply: the first apply delivers one
// credential (after terraform succeeded) holding the password whose
// verifier the target got and the template's connection settings; applying
// again (an extension, or a drift pass) keeps that password and delivers
// nothing.
func TestCredentialDeliveredOnceAfterApply(t *testing.T) {
	e := newEnv(t)
	alice := newPerson(t)
	keys := &recordingKeys{keys: map[string][]string{"alice": {alice.authorized}}}
	sink := &memSink{}
	e.keys, e.sink = keys, sink
	t.Setenv("DBTEST_HOST", "db.example.internal")
	m := e.manager()
	req := passwordGrant("prod/db/alice-1")
	req.Scope["connection_env"] = map[string]any{"host": "DBTEST_HOST", "port": "DBTEST_UNSET_PORT"}

	a, err := m.Apply(ctxFor(t), req, expiry)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Delivered || len(sink.got) != 1 {
		t.Fatalf("first apply: Delivered %v, %d credentials; want one delivered", a.Delivered, len(sink.got))
	}
	first := sink.got[req.ID]
	pl := alice.open(t, first)
	want := credential.Payload{
		Version: 1, Grant: req.ID, Template: "password", Requester: "alice", ExpiresAt: "2030-01-02T03:04:05Z",
		Connection: map[string]string{"user": "user-of-prod/db/alice-1", "value": "v", "host": "db.example.internal"},
		Password:   pl.Password,
	}
	if d := cmp.Diff(want, pl); d != "" {
		t.Errorf("credential (-want +got):\n%s", d)
	}
	if v := e.stateVerifier(t, a.Workspace); !verifies(t, pl.Password, v) {
		t.Errorf("the delivered password does not match the verifier terraform got (%s)", v)
	}
	ws, err := m.Workspaces(ctxFor(t))
	if err != nil || len(ws) != 1 || !ws[0].Complete {
		t.Fatalf("Workspaces = %+v, %v; want one complete", ws, err)
	}

	for _, step := range []struct {
		name string
		run  func() error
	}{
		{"extension", func() error { _, err := m.Apply(ctxFor(t), req, expiry.Add(time.Hour)); return err }},
		{"plain re-apply", func() error { _, err := m.Apply(ctxFor(t), req, expiry.Add(time.Hour)); return err }},
		{"reassert", func() error {
			a, err := m.Reassert(ctxFor(t), req, expiry.Add(time.Hour))
			if err == nil && strings.Join(a.Resources, ",") != "terraform_data.login" {
				t.Errorf("reassert re-created %v, want terraform_data.login", a.Resources)
			}
			return err
		}},
		{"a later run", func() error { _, err := e.manager().Apply(ctxFor(t), req, expiry.Add(time.Hour)); return err }},
	} {
		if err := step.run(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if !bytes.Equal(sink.got[req.ID], first) || len(sink.got) != 1 {
			t.Errorf("%s delivered a credential again", step.name)
		}
		if v := e.stateVerifier(t, a.Workspace); !verifies(t, pl.Password, v) {
			t.Errorf("%s changed the password: the verifier terraform got is no longer the delivered password's", step.name)
		}
	}
	if keys.asked != 1 {
		t.Errorf("the requester's keys were looked up %d times, want once (only when a password is issued)", keys.asked)
	}
}

// TestCredentialNotDeliveredWhenApplyFails: a failed apply delivers
// nothing and leaves the grant incomplete; the next, successful attempt
// delivers a fresh password, the one the target has.
func TestCredentialNotDeliveredWhenApplyFails(t *testing.T) {
	e := newEnv(t)
	alice := newPerson(t)
	sink := &memSink{}
	e.keys, e.sink = memKeys{"alice": {alice.authorized}}, sink
	m := e.manager()
	req := passwordGrant("prod/db/fails-first")
	req.Scope["fail"] = true
	_, err := m.Apply(ctxFor(t), req, expiry)
	if err == nil || !strings.Contains(err.Error(), "grant prod/db/fails-first: terraform apply:") {
		t.Fatalf("failing apply: %v", err)
	}
	if len(sink.got) != 0 {
		t.Fatal("a credential was delivered although the apply failed")
	}
	ws := render.WorkspaceName(req.ID)
	failedVerifier := e.stateVerifier(t, ws)
	if got, err := m.Workspaces(ctxFor(t)); err != nil || len(got) != 1 || got[0].Complete {
		t.Fatalf("Workspaces = %+v, %v; want one incomplete", got, err)
	}

	req.Scope["fail"] = false
	a, err := m.Apply(ctxFor(t), req, expiry)
	if err != nil || !a.Delivered {
		t.Fatalf("second attempt: %+v, %v; want a delivered credential", a, err)
	}
	pl := alice.open(t, sink.got[req.ID])
	v := e.stateVerifier(t, ws)
	if !verifies(t, pl.Password, v) {
		t.Error("the delivered password is not the one the target got")
	}
	if v == failedVerifier {
		t.Error("the second attempt reused the password issued for the failed one")
	}
}

// TestCredentialDeliveryFailure: when the delivery itself fails, the grant
// stays incomplete (so reconcile applies it again) and the next attempt
// issues and delivers a new password rather than keeping one nobody got.
func TestCredentialDeliveryFailure(t *testing.T) {
	e := newEnv(t)
	alice := newPerson(t)
	sink := &failingSink{fail: true}
	e.keys, e.sink = memKeys{"alice": {alice.authorized}}, sink
	m := e.manager()
	req := passwordGrant("prod/db/mailbox")
	_, err := m.Apply(ctxFor(t), req, expiry)
	if err == nil || err.Error() != "grant prod/db/mailbox: delivering the encrypted credentials: the mailbox is full" {
		t.Fatalf("apply with a failing sink: %v", err)
	}
	ws := render.WorkspaceName(req.ID)
	undelivered := e.stateVerifier(t, ws)
	if got, err := m.Workspaces(ctxFor(t)); err != nil || len(got) != 1 || got[0].Complete {
		t.Fatalf("Workspaces = %+v, %v; want one incomplete (the password was never delivered)", got, err)
	}
	sink.fail = false
	a, err := m.Apply(ctxFor(t), req, expiry)
	if err != nil || !a.Delivered {
		t.Fatalf("next attempt: %+v, %v", a, err)
	}
	pl := alice.open(t, sink.got[req.ID])
	if v := e.stateVerifier(t, ws); v == undelivered || !verifies(t, pl.Password, v) {
		t.Error("the next attempt did not set and deliver a new password")
	}
	if got, err := m.Workspaces(ctxFor(t)); err != nil || len(got) != 1 || !got[0].Complete {
		t.Fatalf("Workspaces = %+v, %v; want one complete", got, err)
	}
}

// TestCredentialRefusals: what must stop an apply before anything exists.
func TestCredentialRefusals(t *testing.T) {
	alice := newPerson(t)
	tests := map[string]struct {
		keys    provision.KeySource
		noSink  bool
		connEnv map[string]any
		want    string
		created bool // the workspace exists after the refusal
	}{
		"no sink":        {keys: memKeys{"alice": {alice.authorized}}, noSink: true, want: "grant dev/c: template password issues a password, but no credential sink is configured: pass --credentials-dir DIR"},
		"no keys":        {keys: memKeys{}, want: "grant dev/c: requester alice has no SSH public keys, so nobody could read the password template password would issue: add a key for alice (--ssh-keys DIR/alice.pub) and run again"},
		"no usable keys": {keys: memKeys{"alice": {"ecdsa-sha2-nistp256 AAAA x"}}, want: "grant dev/c: none of the SSH keys of alice can receive the password: no usable SSH public key"},
		"a secret in connection_env": {keys: memKeys{"alice": {alice.authorized}}, connEnv: map[string]any{"password": "PGPASSWORD"}, created: true,
			want: `grant dev/c: template password: output "connection_env", key "password": PGPASSWORD looks like a secret (it contains PASSWORD), never delivered`},
		"jit's own setting": {keys: memKeys{"alice": {alice.authorized}}, connEnv: map[string]any{"x": "TF_LOG"}, created: true,
			want: `grant dev/c: template password: output "connection_env", key "x": TF_LOG is jit's or terraform's own setting, never delivered`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			sink := &memSink{}
			e.keys = tc.keys
			if !tc.noSink {
				e.sink = sink
			}
			m := e.manager()
			req := passwordGrant("dev/c")
			if tc.connEnv != nil {
				req.Scope["connection_env"] = tc.connEnv
			}
			_, err := m.Apply(ctxFor(t), req, expiry)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant prefix %q", err, tc.want)
			}
			if len(sink.got) != 0 {
				t.Error("a credential was delivered")
			}
			ws, err := m.Workspaces(ctxFor(t))
			if err != nil || (len(ws) == 1) != tc.created || (tc.created && ws[0].Complete) {
				t.Errorf("Workspaces = %+v, %v; want created %v and never complete", ws, err, tc.created)
			}
		})
	}
}

// TestPasswordTemplateNeedsConnectionOutput: a template that takes a
// password but does not say how to connect is refused before anything is
// created or issued.
func TestPasswordTemplateNeedsConnectionOutput(t *testing.T) {
	e := newEnv(t)
	e.templates = fstest.MapFS{"templates/mute/main.tf": {Data: []byte(`variable "password_verifier" {
  type      = string
  sensitive = true
}
resource "terraform_data" "x" {
  input = sha256(var.password_verifier)
}
`)}}
	keys := &recordingKeys{keys: map[string][]string{"alice": {newPerson(t).authorized}}}
	e.keys, e.sink = keys, &memSink{}
	m := e.manager()
	req := grant.Request{ID: "dev/mute", File: "access/dev/mute.yaml", Template: "mute", Requester: "alice", Scope: map[string]any{}}
	_, err := m.Apply(ctxFor(t), req, expiry)
	want := `grant dev/mute: template mute takes a password_verifier but declares no output "connection": declare the connection settings the requester needs`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error = %v\nwant prefix %q", err, want)
	}
	if used, err := m.Used(ctxFor(t)); err != nil || used || keys.asked != 0 {
		t.Errorf("Used = %v, %v, keys asked %d times; want nothing done", used, err, keys.asked)
	}
}
