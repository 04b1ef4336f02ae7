package provision_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jitops/jit/controller/render"
)

// The warm-apply benchmarks apply one grant whose value changes every
// iteration (so terraform really updates a resource), in a workspace that
// already exists: BenchmarkApplyWarm through the Manager,
// BenchmarkBareTerraformApply with plain `terraform apply -auto-approve` on
// the same configuration, data directory and state. Run both in one go:
//
//	go test ./controller/provision -run '^$' -bench 'ApplyWarm|BareTerraformApply' -benchtime 40x

func BenchmarkApplyWarm(b *testing.B) {
	e := newEnv(b)
	m := e.manager()
	ctx := context.Background()
	req := dataGrant("bench/warm", "v", "")
	if _, err := m.Apply(ctx, req, expiry); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		req.Scope["value"] = fmt.Sprint(i)
		if _, err := m.Apply(ctx, req, expiry); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareTerraformApply(b *testing.B) {
	dd, vars, run := bareTerraform(b, "bench/bare")
	varFile := filepath.Join(dd, render.VarsFileName)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// The same change as BenchmarkApplyWarm: a new value in the vars file.
		body := []byte(fmt.Sprintf(`{"value": %q, "grant_id": "bench/bare", "expires_at": "2030-01-02T03:04:05Z", "marker_dir": "", "jit_grant": %q}`, fmt.Sprint(i), string(vars)))
		if err := os.WriteFile(varFile, body, 0o600); err != nil {
			b.Fatal(err)
		}
		run("apply", "-auto-approve", "-input=false", "-no-color", "-var-file="+varFile)
	}
}

// bareTerraform applies grant id through a Manager, and returns its data
// directory, the variables file the Manager wrote, and a function running
// plain terraform in the same configuration and data directory.
func bareTerraform(b *testing.B, id string) (dd string, vars []byte, run func(args ...string)) {
	b.Helper()
	e := newEnv(b)
	if _, err := e.manager().Apply(context.Background(), dataGrant(id, "v", ""), expiry); err != nil {
		b.Fatal(err)
	}
	dataDirs, _ := filepath.Glob(filepath.Join(e.work, "*", "data-*", "grants", render.WorkspaceName(id)))
	if len(dataDirs) != 1 {
		b.Fatalf("found data directories %v", dataDirs)
	}
	dd = dataDirs[0]
	config := filepath.Join(filepath.Dir(filepath.Dir(dd)), "config")
	vars, err := os.ReadFile(filepath.Join(dd, render.VarsFileName))
	if err != nil {
		b.Fatal(err)
	}
	rc := filepath.Join(b.TempDir(), "terraformrc")
	if err := os.WriteFile(rc, []byte("disable_checkpoint = true\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	tf := terraformPath(b)
	return dd, vars, func(args ...string) {
		cmd := exec.Command(tf, args...)
		cmd.Dir = config
		cmd.Env = append(os.Environ(), "TF_DATA_DIR="+dd, "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("terraform %s: %v\n%s", args[0], err, out)
		}
	}
}

// The new-apply benchmarks apply one new grant per iteration (what an
// approval costs before the role logs in): BenchmarkApplyNew through the
// Manager, BenchmarkBareTerraformApplyNew with plain `terraform workspace
// new` and `terraform apply -auto-approve` on the same configuration:
//
//	go test ./controller/provision -run '^$' -bench 'ApplyNew' -benchtime 20x
func BenchmarkApplyNew(b *testing.B) {
	e := newEnv(b)
	m := e.manager()
	ctx := context.Background()
	if _, err := m.Apply(ctx, dataGrant("bench/new/init", "v", ""), expiry); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := m.Apply(ctx, dataGrant(fmt.Sprintf("bench/new/g%04d", i), "v", ""), expiry); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareTerraformApplyNew(b *testing.B) {
	_, vars, run := bareTerraform(b, "bench/barenew")
	varFile := filepath.Join(b.TempDir(), "vars.tfvars.json")
	if err := os.WriteFile(varFile, vars, 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		run("workspace", "new", "-no-color", fmt.Sprintf("bare-%04d", i))
		run("apply", "-auto-approve", "-input=false", "-no-color", "-var-file="+varFile)
	}
}

// BenchmarkApply100 applies 100 new grants, serially and with concurrency 4
// (each iteration in a fresh state):
//
//	go test ./controller/provision -run '^$' -bench Apply100 -benchtime 1x
func BenchmarkApply100(b *testing.B) {
	for _, conc := range []int{1, 4} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			e := newEnv(b)
			e.conc = conc
			m := e.manager()
			ctx := context.Background()
			// Initialise the template outside the measurement.
			if _, err := m.Apply(ctx, dataGrant("bench/init", "v", ""), expiry); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for n := 0; b.Loop(); n++ {
				var wg sync.WaitGroup
				errs := make([]error, 100)
				for i := range 100 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[i] = m.Apply(ctx, dataGrant(fmt.Sprintf("bench/%d/g%03d", n, i), "v", ""), expiry)
					}()
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
