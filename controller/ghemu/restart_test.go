package ghemu_test

import (
	"context"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/jitops/jit/controller/ghemu"
)

// TestRestartKeepsRepositories starts the emulator, commits, stops it and
// starts it again on the same data directory: seeding must keep the
// existing repository (it used to fail with "cannot lock ref ...
// reference already exists") and the commit is still the branch tip.
func TestRestartKeepsRepositories(t *testing.T) {
	requireGit(t)
	ctx := context.Background()
	data := t.TempDir()
	cfg := ghemu.Config{DataDir: data, Seed: testSeed("")}
	first, err := ghemu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	sha, err := first.Commit(ctx, "access", ghemu.Change{Message: "before restart", Files: map[string]string{"kept.txt": "kept\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := ghemu.New(cfg)
	if err != nil {
		t.Fatalf("restart on the same data directory: %v", err)
	}
	if err := second.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	br := must[*github.Branch](t, "branch after restart")(client(t, second, "alice").Repositories.GetBranch(ctx, "acme", "access", "main", 0))
	if br.GetCommit().GetSHA() != sha {
		t.Errorf("main after restart = %s, want the commit made before it, %s", br.GetCommit().GetSHA(), sha)
	}
}
