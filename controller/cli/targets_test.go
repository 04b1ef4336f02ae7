package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestApplyTargets runs jit apply on a grant whose policy allows one
// target: the template's provisioner sees that target's settings and
// secret, from the file --targets (or JIT_TARGETS) names, and none of the
// controller's PG* variables; a targets file with a problem stops the
// command, naming the file, line and column.
func TestApplyTargets(t *testing.T) {
	provNeedTerraform(t)
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	repo, key := provAccessRepoWith(t, t0.Add(-2*time.Minute), "../provision/testdata/repo/templates/envdump", "envdump")
	repo.Commit("main", "admin", "targets", t0.Add(-time.Minute), map[string]string{"policies/all.hcl": "policy \"all\" {\n  paths        = [\"access/**\"]\n  templates    = [\"envdump\"]\n  max_duration = \"24h\"\n  approvals    = 1\n  targets      = [\"prod\"]\n}\n"})
	dir := t.TempDir()
	out := filepath.Join(dir, "env.txt")
	provMerge(t, repo, key, t0, "access/prod/carol-1.yaml", "template: envdump\nrequester: carol\nduration: 1h\nreason: test\nscope:\n  out: "+out+"\n")
	repo.Checkout("main")

	targets := filepath.Join(dir, "targets.hcl")
	writeTargets := func(src string) {
		if err := os.WriteFile(targets, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PGPORT", "5999")
	t.Setenv("PROD_PW", "prod-secret")
	args := []string{"apply", "--repo", repo.Dir, "--state", "local:" + filepath.Join(dir, "state"), "--work-dir", filepath.Join(dir, "work"), "--new-state"}
	if tf := os.Getenv("JIT_TEST_TERRAFORM"); tf != "" {
		args = append(args, "--terraform", tf)
	}

	writeTargets("target \"prod\" {\n  env = { PGHOST = \"prod.invalid\", PGPASSWORD = \"written-out\" }\n}\n")
	code, _, stderr := run(t, append(args, "--targets", targets)...)
	if want := "jit apply: --targets (JIT_TARGETS): " + targets + ":2:36: PGPASSWORD looks like a secret"; code == 0 || !strings.HasPrefix(stderr, want) {
		t.Fatalf("apply with a bad targets file: exit %d, stderr %q; want it to start with %q", code, stderr, want)
	}

	// Without targets the grant, bound to prod by its policy, is not applied.
	code, stdout, stderr := run(t, args...)
	if code == 0 || !strings.Contains(stdout+stderr, "target prod is not configured on this controller (none is configured)") {
		t.Fatalf("apply without targets: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the template ran although its target is not configured")
	}

	writeTargets("target \"prod\" {\n  env        = { PGHOST = \"prod.invalid\" }\n  secret_env = { PGPASSWORD = \"env:PROD_PW\" }\n}\n")
	t.Setenv("JIT_TARGETS", targets)
	if code, stdout, stderr := run(t, args...); code != 0 {
		t.Fatalf("apply with JIT_TARGETS: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	env := "\n" + string(b)
	for _, want := range []string{"\nPGHOST=prod.invalid\n", "\nPGPASSWORD=prod-secret\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("the provisioner's environment lacks %q", strings.TrimSpace(want))
		}
	}
	for _, never := range []string{"\nPGPORT=", "\nPROD_PW="} {
		if strings.Contains(env, never) {
			t.Errorf("the provisioner saw %s", strings.TrimSpace(never))
		}
	}
}
