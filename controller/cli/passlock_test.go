package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/cli"
	"github.com/jitops/jit/controller/coord"
)

// TestCommandsRefusedWhileAControllerHoldsLocalState: with local state only
// one jit process may act; jit apply, reconcile and destroy are refused
// (nothing applied) while another holds the state directory, and work once
// it is released.
func TestCommandsRefusedWhileAControllerHoldsLocalState(t *testing.T) {
	provNeedTerraform(t)
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	now := "--now=" + t0.Add(30*time.Minute).Format(time.RFC3339)
	repo, _ := passRepo(t, t0)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	common := []string{"--repo", repo.Dir, "--state", "local:" + state, "--work-dir", filepath.Join(dir, "work")}
	if code, out, errOut := provRun(t, append([]string{"apply", "--new-state", now}, common...)...); code != cli.ExitOK {
		t.Fatalf("first apply: exit %d\n%s%s", code, out, errOut)
	}
	held, err := coord.OpenLocal(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"apply", now},
		{"reconcile", now},
		{"destroy", "--grant", "dev/a"},
	} {
		code, out, errOut := provRun(t, append(args, common...)...)
		if code != cli.ExitProblems || !strings.Contains(errOut, "the local state directory is in use") || !strings.Contains(errOut, "only one jit process may run") {
			t.Errorf("jit %s while the state is held: exit %d\nstdout:\n%s\nstderr:\n%s", args[0], code, out, errOut)
		}
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := provRun(t, append([]string{"destroy", "--grant", "dev/a"}, common...)...); code != cli.ExitOK {
		t.Errorf("destroy after the release: exit %d\n%s%s", code, out, errOut)
	}
}
