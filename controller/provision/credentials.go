package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/terraform"
)

// The outputs through which a template that takes a password says what the
// requester needs to connect (see the package documentation).
const (
	connectionOutput    = "connection"
	connectionEnvOutput = "connection_env"
)

// issued is a password made for one apply, not yet delivered.
type issued struct {
	password string
	verifier string
	keys     []string // the requester's usable authorized_keys lines
}

// issue makes a new password for req, after making sure the requester has a
// key the credential can be encrypted to (so that no password is ever set
// that nobody could read).
func (m *Manager) issue(ctx context.Context, req grant.Request) (*issued, error) {
	if m.cfg.Sink == nil {
		return nil, fmt.Errorf("grant %s: template %s issues a password, but no credential sink is configured: pass --credentials-dir DIR", req.ID, req.Template)
	}
	var keys []string
	if m.cfg.Keys != nil {
		var err error
		keys, err = m.cfg.Keys.AuthorizedKeys(ctx, req.Requester)
		if err != nil {
			return nil, fmt.Errorf("grant %s: looking up the SSH keys of %s: %w", req.ID, req.Requester, err)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("grant %s: requester %s has no SSH public keys, so nobody could read the password template %s would issue: add a key for %s (--ssh-keys DIR/%s.pub) and run again", req.ID, req.Requester, req.Template, req.Requester, req.Requester)
	}
	if usable, problems := credential.ParseAuthorizedKeys(keys); len(usable) == 0 {
		return nil, fmt.Errorf("grant %s: none of the SSH keys of %s can receive the password: %w", req.ID, req.Requester, &credential.NoUsableKeyError{Problems: problems})
	}
	pw, err := credential.NewPassword()
	if err != nil {
		return nil, fmt.Errorf("grant %s: generating a password: %w", req.ID, err)
	}
	verifier, err := credential.SCRAMVerifier(pw)
	if err != nil {
		return nil, fmt.Errorf("grant %s: computing the password verifier: %w", req.ID, err)
	}
	return &issued{password: pw, verifier: verifier, keys: keys}, nil
}

// deliver sends the requester the credential of a successful apply: the
// password and the connection settings read from the workspace's outputs,
// encrypted to their SSH keys.
func (m *Manager) deliver(ctx context.Context, req grant.Request, meta render.Meta, p *prepared, dd string, env environment, fresh *issued) error {
	st, err := m.tf.State(ctx, m.dir(req.ID, p, dd, env))
	if err != nil {
		return fmt.Errorf("grant %s: reading the connection settings to deliver: %w", req.ID, err)
	}
	conn, err := connection(st, env)
	if err != nil {
		return fmt.Errorf("grant %s: template %s: %w", req.ID, req.Template, err)
	}
	plain, err := credential.Payload{
		Grant: req.ID, Template: req.Template, Requester: req.Requester, ExpiresAt: meta.ExpiresAt,
		Connection: conn, Password: fresh.password,
	}.Marshal()
	if err != nil {
		return fmt.Errorf("grant %s: %w", req.ID, err)
	}
	ciphertext, err := credential.Encrypt(plain, fresh.keys)
	if err != nil {
		return fmt.Errorf("grant %s: encrypting the credentials to the SSH keys of %s: %w", req.ID, req.Requester, err)
	}
	if err := m.cfg.Sink.Deliver(ctx, req.ID, ciphertext); err != nil {
		return fmt.Errorf("grant %s: delivering the encrypted credentials: %w", req.ID, err)
	}
	return nil
}

// envName is what a connection_env value must look like.
var envName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// secretWords mark environment variables a credential must never carry:
// the target's admin password and the like, which terraform also sees.
var secretWords = []string{"PASSWORD", "PASSFILE", "SECRET", "TOKEN", "KEY", "CONN_STR"}

// connection returns the connection settings to deliver: the template's
// connection output, plus for each key of its connection_env output the
// value of the named variable in the environment terraform ran with, env
// (left out when unset or empty). Variables terraform never inherits (the
// backend's credentials, the sources of targets' secrets), TF_* and names
// that look like secrets are refused.
func connection(st terraform.State, env environment) (map[string]string, error) {
	raw, ok := st.Outputs[connectionOutput]
	if !ok {
		return nil, fmt.Errorf("the state holds no output %q after the apply", connectionOutput)
	}
	conn := map[string]string{}
	if err := json.Unmarshal(raw, &conn); err != nil {
		return nil, fmt.Errorf("output %q must be an object of strings: %w", connectionOutput, err)
	}
	raw, ok = st.Outputs[connectionEnvOutput]
	if !ok {
		return conn, nil
	}
	names := map[string]string{}
	if err := json.Unmarshal(raw, &names); err != nil {
		return nil, fmt.Errorf("output %q must be an object of strings: %w", connectionEnvOutput, err)
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := names[k]
		if err := checkEnvName(name, env.hidden, env.settings); err != nil {
			return nil, fmt.Errorf("output %q, key %q: %w", connectionEnvOutput, k, err)
		}
		if _, dup := conn[k]; dup {
			return nil, fmt.Errorf("key %q is in both outputs %q and %q: keep it in one", k, connectionOutput, connectionEnvOutput)
		}
		if v := env.lookup(name); v != "" {
			conn[k] = v
		}
	}
	return conn, nil
}

func checkEnvName(name string, hidden, settings map[string]bool) error {
	if !envName.MatchString(name) {
		return fmt.Errorf("%q is not an environment variable name (A-Z, 0-9, _)", name)
	}
	if hidden[name] && !settings[name] || strings.HasPrefix(name, "TF_") {
		return fmt.Errorf("%s is jit's or terraform's own setting, never delivered", name)
	}
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return fmt.Errorf("%s looks like a secret (it contains %s), never delivered", name, w)
		}
	}
	return nil
}

// deliveredVerifier returns the verifier recorded as delivered in st, or ""
// (none recorded, or the state predates the record).
func deliveredVerifier(st terraform.State) string {
	raw, ok := st.Outputs[render.DeliveredVariable]
	if !ok {
		return ""
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return ""
	}
	return v
}
