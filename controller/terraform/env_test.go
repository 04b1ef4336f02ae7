package terraform_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jitops/jit/controller/internal/tftest"
	"github.com/jitops/jit/controller/terraform"
)

// TestProvisionerEnvironment checks what a template's provisioner sees:
// jit's environment filtered by Dir.Inherit, never TF_* variables, plus
// Dir.Env.
func TestProvisionerEnvironment(t *testing.T) {
	r := terraform.NewRunner(terraformPath(t), nil)
	t.Setenv("JIT_TEST_KEEP", "kept")
	t.Setenv("JIT_TEST_DROP", "dropped")
	t.Setenv("TF_VAR_out", "/nowhere")
	dir := t.TempDir()
	src, err := os.ReadFile("../provision/testdata/repo/templates/envdump/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), src, 0o600); err != nil {
		t.Fatal(err)
	}
	d := terraform.Dir{Work: dir, Data: filepath.Join(dir, "data"),
		Inherit: func(name string) bool { return name != "JIT_TEST_DROP" },
		Env:     map[string]string{"JIT_TEST_ADDED": "added"}}
	ctx := context.Background()
	if err := r.Init(ctx, d); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "env.txt")
	if _, err := r.Apply(ctx, d, varFile(t, dir, `{"out": "`+out+`"}`)); err != nil {
		t.Fatal(err)
	}
	env := tftest.ReadEnv(t, out)
	for name, want := range map[string]string{"JIT_TEST_KEEP": "kept", "JIT_TEST_ADDED": "added", "JIT_TEST_DROP": "", "TF_VAR_out": ""} {
		if got := env[name]; got != want {
			t.Errorf("provisioner saw %s=%q, want %q", name, got, want)
		}
	}
}
