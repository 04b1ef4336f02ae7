package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/cli"
	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/internal/tftest"
)

// TestApprovalToReconcile goes from an approval on GitHub to a PostgreSQL
// role: the App merges with its signed decision, and jit reconcile on a
// clone of the default branch applies exactly that grant.
func TestApprovalToReconcile(t *testing.T) {
	tf := tftest.Path(t)
	c := pgtest.Start(t)
	c.CreateDatabase(t, "orders")
	c.Psql(t, "postgres", "CREATE DATABASE jitstate")
	c.Psql(t, "postgres", `SELECT format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', datname) FROM pg_database WHERE datallowconn \gexec`)
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	r, _ := mergedGrant(t, "access/prod/orders/alice-1.yaml", aliceGrant)
	clone := r.clone("alice")

	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	pub, _ := sshKeyPair(t)
	if err := os.WriteFile(filepath.Join(keys, "alice.pub"), []byte(pub+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := cli.Main(ctx, []string{"reconcile", "--repo", clone, "--state", "pg:" + c.ConnString("jitstate"), "--new-state",
		"--work-dir", filepath.Join(dir, "work"), "--ssh-keys", keys, "--credentials-dir", filepath.Join(dir, "creds"),
		"--terraform", tf}, &stdout, &stderr)
	if code != cli.ExitOK {
		t.Fatalf("reconcile exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "apply   prod/orders/alice-1 (missing)") || !strings.Contains(stdout.String(), "0 anomalies") {
		t.Errorf("reconcile output:\n%s", stdout.String())
	}
	roles := c.Psql(t, "postgres", "SELECT coalesce(string_agg(rolname, ','), '') FROM pg_roles WHERE rolname LIKE 'jit_prod_orders_alice%'")
	if roles == "" {
		t.Fatalf("no role for alice's grant after reconcile:\n%s", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "creds", "prod/orders/alice-1.age")); err != nil {
		t.Errorf("alice's credentials were not delivered: %v", err)
	}
}
