package terraform_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jitops/jit/controller/internal/tftest"
	"github.com/jitops/jit/controller/terraform"
)

func terraformPath(t testing.TB) string {
	t.Helper()
	return tftest.Path(t)
}

func TestFindMissing(t *testing.T) {
	_, _, err := terraform.Find(filepath.Join(t.TempDir(), "terraform"))
	if !errors.Is(err, terraform.ErrNotFound) {
		t.Fatalf("Find = %v, want ErrNotFound", err)
	}
	if !strings.HasPrefix(err.Error(), "terraform not found: install terraform ≥ 1.5 or pass --terraform PATH") {
		t.Errorf("message %q", err)
	}
	t.Setenv("PATH", t.TempDir())
	_, _, err = terraform.Find("")
	if !errors.Is(err, terraform.ErrNotFound) || !strings.Contains(err.Error(), "not on PATH") {
		t.Errorf("Find with an empty PATH = %v", err)
	}
}

func TestFindTooOld(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "terraform")
	// A stand-in that answers `version -json` like terraform 1.4 does.
	if err := os.WriteFile(old, []byte("#!/bin/sh\necho '{\"terraform_version\":\"1.4.6\"}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err := terraform.Find(old)
	want := old + " is terraform 1.4.6, but jit needs ≥ 1.5.0: install a newer terraform or pass --terraform PATH"
	if err == nil || err.Error() != want {
		t.Errorf("Find = %v, want %q", err, want)
	}
	notTF := filepath.Join(dir, "nottf")
	if err := os.WriteFile(notTF, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err = terraform.Find(notTF)
	if err == nil || !strings.Contains(err.Error(), `not terraform ≥ 1.5 (got "hello")`) {
		t.Errorf("Find(non-terraform) = %v", err)
	}
}

func TestFindReal(t *testing.T) {
	path := terraformPath(t)
	_, v, err := terraform.Find(path)
	if err != nil || v == "" {
		t.Fatalf("Find(%s) = %q, %v", path, v, err)
	}
}

// module copies testdata/module into a fresh directory and returns a Dir for
// it with a local state.
func module(t *testing.T, grant string) terraform.Dir {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/module/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), src, 0o600); err != nil {
		t.Fatal(err)
	}
	return terraform.Dir{Grant: grant, Work: dir, Data: filepath.Join(dir, "data")}
}

func varFile(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "vars.tfvars.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunnerLifecycle(t *testing.T) {
	r := terraform.NewRunner(terraformPath(t), nil)
	// The environment may point at a missing CLI configuration and carry
	// variables that must not leak into runs.
	t.Setenv("TF_CLI_CONFIG_FILE", filepath.Join(t.TempDir(), "missing.tfrc"))
	t.Setenv("TF_VAR_value", "from the environment")
	t.Setenv("TF_WORKSPACE", "elsewhere")
	ctx := context.Background()
	d := module(t, "dev/x")
	if err := r.Init(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := r.WorkspaceNew(ctx, d, "w1"); err != nil {
		t.Fatal(err)
	}
	if err := r.WorkspaceNew(ctx, d, "w1"); !errors.Is(err, terraform.ErrWorkspaceExists) {
		t.Errorf("second WorkspaceNew = %v, want ErrWorkspaceExists", err)
	}
	if err := r.WorkspaceSelect(ctx, d, "nope"); !errors.Is(err, terraform.ErrWorkspaceMissing) {
		t.Errorf("WorkspaceSelect(nope) = %v, want ErrWorkspaceMissing", err)
	}
	ws, err := r.Workspaces(ctx, d)
	if err != nil || !cmp.Equal(ws, []string{"default", "w1"}) {
		t.Errorf("Workspaces = %v, %v", ws, err)
	}
	vf := varFile(t, d.Work, `{"value": "v1"}`)
	created, err := r.Apply(ctx, d, vf)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"terraform_data.a", "terraform_data.b[0]", "terraform_data.b[1]"}; !cmp.Equal(sorted(created), want) {
		t.Errorf("Apply created %v, want %v", created, want)
	}
	st, err := r.State(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(st.Outputs["value"]); got != `"v1"` {
		t.Errorf("output value = %s, want \"v1\" (TF_VAR_ from the environment must not apply)", got)
	}
	if len(st.Resources) != 2 || st.Resources[0].Tainted {
		t.Errorf("State resources = %+v", st.Resources)
	}
	// Nothing changed: a plain apply touches nothing, one with replace
	// re-creates exactly the named instance.
	if again, err := r.Apply(ctx, d, vf); err != nil || len(again) != 0 {
		t.Errorf("second Apply = %v, %v; want no changes", again, err)
	}
	if replaced, err := r.Apply(ctx, d, vf, "terraform_data.b[1]"); err != nil || !cmp.Equal(replaced, []string{"terraform_data.b[1]"}) {
		t.Errorf("Apply with replace = %v, %v; want [terraform_data.b[1]]", replaced, err)
	}
	destroyed, err := r.Destroy(ctx, d, vf)
	if err != nil || len(destroyed) != 3 {
		t.Errorf("Destroy = %v, %v", destroyed, err)
	}
	if err := r.WorkspaceSelect(ctx, d, "default"); err != nil {
		t.Fatal(err)
	}
	if err := r.WorkspaceDelete(ctx, d, "w1"); err != nil {
		t.Fatal(err)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestRunnerErrorsNameGrantAndStep(t *testing.T) {
	r := terraform.NewRunner(terraformPath(t), nil)
	ctx := context.Background()
	d := module(t, "prod/db/alice")
	if err := r.Init(ctx, d); err != nil {
		t.Fatal(err)
	}
	_, err := r.Apply(ctx, d, varFile(t, d.Work, `{"value": "v", "sleep": "soon"}`))
	var te *terraform.Error
	if !errors.As(err, &te) || te.Grant != "prod/db/alice" || te.Step != "apply" {
		t.Fatalf("Apply = %v, want a *terraform.Error for the grant's apply", err)
	}
	if !strings.HasPrefix(err.Error(), "grant prod/db/alice: terraform apply: ") || !strings.Contains(err.Error(), "sleep") {
		t.Errorf("message %q", err)
	}
}

func TestRunnerTimeout(t *testing.T) {
	r := terraform.NewRunner(terraformPath(t), nil, terraform.WithTimeout(2*time.Second), terraform.WithKillGrace(500*time.Millisecond))
	ctx := context.Background()
	d := module(t, "dev/slow")
	// init without the short timeout: on a loaded machine it alone can
	// take 2 s, and only the apply's timeout is under test.
	if err := terraform.NewRunner(terraformPath(t), nil).Init(ctx, d); err != nil {
		t.Fatal(err)
	}
	_, err := r.Apply(ctx, d, varFile(t, d.Work, `{"value": "v", "sleep": 30}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Apply = %v, want DeadlineExceeded", err)
	}
	if !strings.HasPrefix(err.Error(), "grant dev/slow: terraform apply: timed out after 2s") {
		t.Errorf("message %q", err)
	}
}

// holdLock starts an apply in a fresh module whose provisioner sleeps for
// sleep seconds while holding the state lock, and returns once it holds it,
// with a second data directory on the same configuration and state.
func holdLock(t *testing.T, r *terraform.Runner, sleep int) (other terraform.Dir, done chan error) {
	t.Helper()
	ctx := context.Background()
	holder := module(t, "dev/holder")
	if err := r.Init(ctx, holder); err != nil {
		t.Fatal(err)
	}
	other = holder
	other.Grant = "dev/other"
	other.Data = filepath.Join(holder.Work, "data2")
	if err := r.Init(ctx, other); err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(t.TempDir(), "pid")
	hold := filepath.Join(t.TempDir(), "hold.json")
	if err := os.WriteFile(hold, []byte(fmt.Sprintf(`{"value": "v", "sleep": %d, "pidfile": %q}`, sleep, pidfile)), 0o600); err != nil {
		t.Fatal(err)
	}
	done = make(chan error, 1)
	go func() {
		_, err := r.Apply(ctx, holder, hold)
		done <- err
	}()
	for range 600 {
		if b, err := os.ReadFile(pidfile); err == nil && len(b) > 0 {
			return other, done
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the holder's provisioner never started")
	return
}

func TestRunnerLockConflictIsRetriedThenReported(t *testing.T) {
	path := terraformPath(t)
	ctx := context.Background()
	r := terraform.NewRunner(path, nil)

	other, done := holdLock(t, r, 4)
	quick := terraform.NewRunner(path, nil, terraform.WithLockTimeout(0), terraform.WithLockRetry(2, 50*time.Millisecond))
	_, err := quick.Apply(ctx, other, varFile(t, other.Work, `{"value": "v"}`))
	if !errors.Is(err, terraform.ErrLocked) || !terraform.IsLocked(err) {
		t.Fatalf("Apply while locked = %v, want ErrLocked", err)
	}
	if !strings.HasPrefix(err.Error(), "grant dev/other: terraform apply: state is locked by another terraform process after 2 tries") {
		t.Errorf("message %q", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// With enough retries it waits for the lock and succeeds.
	other, done = holdLock(t, r, 2)
	patient := terraform.NewRunner(path, nil, terraform.WithLockTimeout(0), terraform.WithLockRetry(20, 100*time.Millisecond))
	if _, err := patient.Apply(ctx, other, varFile(t, other.Work, `{"value": "w"}`)); err != nil {
		t.Errorf("patient Apply = %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z'
}

func TestKilledRunLeavesNoProcesses(t *testing.T) {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("no /proc")
	}
	r := terraform.NewRunner(terraformPath(t), nil, terraform.WithKillGrace(10*time.Millisecond))
	d := module(t, "dev/orphan")
	if err := r.Init(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.Apply(ctx, d, varFile(t, d.Work, fmt.Sprintf(`{"value": "v", "sleep": 60, "pidfile": %q}`, pidfile)))
		done <- err
	}()
	var pid int
	for range 200 {
		if b, err := os.ReadFile(pidfile); err == nil && len(b) > 0 {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			if pid > 0 {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("the provisioner never started")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply = %v, want cancelled", err)
	}
	for range 40 {
		if !alive(pid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("the provisioner's process %d outlived the killed terraform run", pid)
}

// TestStateIsNeverLogged: reading a state (or its outputs) logs nothing of
// its content, even at debug level, since states hold sensitive values.
func TestStateIsNeverLogged(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := terraform.NewRunner(terraformPath(t), log)
	ctx := context.Background()
	d := module(t, "dev/quiet")
	if err := r.Init(ctx, d); err != nil {
		t.Fatal(err)
	}
	const marker = "value-that-must-not-be-logged"
	if _, err := r.Apply(ctx, d, varFile(t, d.Work, `{"value": "`+marker+`"}`)); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	st, err := r.State(ctx, d)
	if err != nil || string(st.Outputs["value"]) != `"`+marker+`"` {
		t.Fatalf("State = %+v, %v", st, err)
	}
	outs, err := r.Outputs(ctx, d)
	if err != nil || string(outs["value"]) != `"`+marker+`"` {
		t.Fatalf("Outputs = %v, %v", outs, err)
	}
	if strings.Contains(logs.String(), marker) {
		t.Errorf("reading the state logged its content:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "state pull") {
		t.Errorf("the state pull itself is not logged at all:\n%s", logs.String())
	}
}
