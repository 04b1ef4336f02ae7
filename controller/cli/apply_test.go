package cli_test

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
)

// TestReconcileAfterKilledApply interrupts a pass while terraform is in the
// middle of creating a role (the slowrole template sleeps after CREATE
// ROLE), then runs another pass: it converges, and after the grant is
// removed no role is left behind.
func TestReconcileAfterKilledApply(t *testing.T) {
	provNeedTerraform(t)
	c := pgtest.Start(t)
	c.Psql(t, "postgres", "CREATE DATABASE jitstate")
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	repo, key := provAccessRepoWith(t, t0.Add(-time.Minute), "../provision/testdata/repo/templates/slowrole", "slowrole")
	provMerge(t, repo, key, t0, "access/prod/db/carol-1.yaml", "template: slowrole\nrequester: carol\nduration: 1h\nreason: test\nscope:\n  sleep: 6\n")
	repo.Checkout("main")
	dir := t.TempDir()
	args := []string{"reconcile", "--repo", repo.Dir, "--state", "pg:" + c.ConnString("jitstate"), "--work-dir", filepath.Join(dir, "work")}
	if tf := os.Getenv("JIT_TEST_TERRAFORM"); tf != "" {
		args = append(args, "--terraform", tf)
	}
	roles := func() string {
		return c.Psql(t, "postgres", "SELECT coalesce(string_agg(rolname, ','), '') FROM pg_roles WHERE rolname LIKE 'jit_test_%'")
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for range 600 {
			if roles() != "" {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel() // the role exists, terraform is still in the provisioner
	}()
	var stdout, stderr bytes.Buffer
	if code := cli.Main(ctx, append(args, "--new-state"), &stdout, &stderr); code != cli.ExitProblems || !strings.Contains(stdout.String(), "apply   prod/db/carol-1 (missing): FAILED: grant prod/db/carol-1: terraform apply: was cancelled") {
		t.Fatalf("interrupted pass exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}

	code, out, errOut := provRun(t, args...)
	if code != cli.ExitOK || !strings.HasPrefix(out, "apply   prod/db/carol-1 (incomplete)") {
		t.Fatalf("next pass exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if r := roles(); strings.Count(r, "jit_test_") != 1 {
		t.Errorf("roles after convergence: %q, want one", r)
	}
	code, out, _ = provRun(t, args...)
	if code != cli.ExitOK || out != "reconciled: 1 desired, 1 existed, 0 actions, 0 failed, 0 anomalies\n" {
		t.Errorf("third pass exit %d:\n%s", code, out)
	}

	repo.Commit("main", "carol", "revoke", t0.Add(time.Second), map[string]string{"access/prod/db/carol-1.yaml": ""})
	repo.Checkout("main")
	code, out, errOut = provRun(t, args...)
	if code != cli.ExitOK || !strings.HasPrefix(out, "destroy prod/db/carol-1 (removed)") {
		t.Fatalf("removal pass exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if r := roles(); r != "" {
		t.Errorf("orphaned roles: %s", r)
	}
}
