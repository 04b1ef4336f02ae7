package templatetest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/internal/tftest"
	"github.com/jitops/jit/controller/terraform"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// templateDir is the shipped template under test.
const templateDir = "../../templates/postgres-role"

// runner returns a terraform Runner for the real terraform (see tftest.Path).
func runner(t testing.TB) *terraform.Runner {
	t.Helper()
	return terraform.NewRunner(tftest.Path(t), nil, terraform.WithTimeout(2*time.Minute))
}

// workspace is one grant's terraform working directory: a copy of the
// template with local state, run against a pgtest cluster.
type workspace struct {
	tf  *terraform.Runner
	dir terraform.Dir
}

func newWorkspace(t testing.TB, c *pgtest.Cluster) *workspace {
	t.Helper()
	closePublicConnect(t, c)
	tf := runner(t)
	root := t.TempDir()
	work := filepath.Join(root, "work")
	if err := os.CopyFS(work, os.DirFS(templateDir)); err != nil {
		t.Fatalf("copying the template: %v", err)
	}
	env := map[string]string{}
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	w := &workspace{tf: tf, dir: terraform.Dir{Grant: t.Name(), Work: work, Data: filepath.Join(root, "data"), Env: env}}
	if err := tf.Init(context.Background(), w.dir); err != nil {
		t.Fatalf("terraform init: %v", err)
	}
	return w
}

func (w *workspace) writeVars(t testing.TB, vars map[string]any) string {
	t.Helper()
	b, err := json.Marshal(vars)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(filepath.Dir(w.dir.Work), "vars.tfvars.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// apply runs terraform apply with vars and returns its error.
func (w *workspace) apply(t testing.TB, vars map[string]any) error {
	t.Helper()
	_, err := w.tf.Apply(context.Background(), w.dir, w.writeVars(t, vars))
	return err
}

// destroy runs terraform destroy with vars and returns its error.
func (w *workspace) destroy(t testing.TB, vars map[string]any) error {
	t.Helper()
	_, err := w.tf.Destroy(context.Background(), w.dir, w.writeVars(t, vars))
	return err
}

func (w *workspace) mustApply(t testing.TB, vars map[string]any) {
	t.Helper()
	if err := w.apply(t, vars); err != nil {
		t.Fatalf("terraform apply: %v", err)
	}
}

func (w *workspace) mustDestroy(t testing.TB, vars map[string]any) {
	t.Helper()
	if err := w.destroy(t, vars); err != nil {
		t.Fatalf("terraform destroy: %v", err)
	}
}

// output returns a string output of the workspace's state.
func (w *workspace) output(t testing.TB, name string) string {
	t.Helper()
	outs, err := w.tf.Outputs(context.Background(), w.dir)
	if err != nil {
		t.Fatalf("terraform output: %v", err)
	}
	var s string
	if err := json.Unmarshal(outs[name], &s); err != nil {
		t.Fatalf("output %s = %s: %v", name, outs[name], err)
	}
	return s
}

// grant is one grant's inputs plus its plaintext password.
type grant struct {
	vars     map[string]any
	password string
}

// newGrant returns valid inputs for a grant on db expiring at expires,
// with a fresh password whose verifier goes into the variables.
func newGrant(t testing.TB, db, id string, expires time.Time) grant {
	t.Helper()
	pw, err := credential.NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	v, err := credential.SCRAMVerifier(pw)
	if err != nil {
		t.Fatal(err)
	}
	return grant{password: pw, vars: map[string]any{
		"database":          db,
		"privileges":        "read",
		"grant_id":          id,
		"requester":         "alice",
		"expires_at":        expires.UTC().Format(time.RFC3339),
		"password_verifier": v,
	}}
}

// closePublicConnect is the operator's set-up step the template's README
// prescribes: no database of c may be connected to through PUBLIC, so a
// grant's role reaches only its own database (through its group role).
func closePublicConnect(t testing.TB, c *pgtest.Cluster) {
	t.Helper()
	c.Psql(t, "postgres", `SELECT format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', datname) FROM pg_database WHERE datallowconn \gexec`)
}

// roleName is the template's naming rule, restated: "jit_" + slug of the
// grant id (≤ 26 bytes of [a-z0-9_]) + "_" + 32 hex digits (128 bits) of its
// sha256. grantID must be in Unicode NFC, as terraform normalises it.
func roleName(grantID string) string {
	slug := regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(grantID), "_")
	slug = strings.Trim(slug, "_")
	if len(slug) > 26 {
		slug = slug[:26]
	}
	slug = strings.Trim(slug, "_")
	sum := sha256.Sum256([]byte(grantID))
	parts := []string{"jit"}
	if slug != "" {
		parts = append(parts, slug)
	}
	return strings.Join(append(parts, hex.EncodeToString(sum[:16])), "_")
}

// roleComment returns the comment on role, byte for byte (NULL reads as "").
func roleComment(t testing.TB, c *pgtest.Cluster, role string) string {
	t.Helper()
	hexed := c.Psql(t, "postgres", `SELECT encode(convert_to(coalesce(shobj_description(oid, 'pg_authid'), ''), 'UTF8'), 'hex') FROM pg_roles WHERE rolname = :'r';`, "r="+role)
	b, err := hex.DecodeString(hexed)
	if err != nil {
		t.Fatalf("comment of %s: %v", role, err)
	}
	return string(b)
}

func roleExists(t testing.TB, c *pgtest.Cluster, role string) bool {
	t.Helper()
	return c.Psql(t, "postgres", `SELECT count(*) FROM pg_roles WHERE rolname = :'r';`, "r="+role) == "1"
}
