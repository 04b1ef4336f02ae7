package localdir_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/localdir"
)

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "alice.pub"), []byte("# laptop\nssh-ed25519 AAAA one\n\n  ssh-ed25519 BBBB two  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret.pub"), []byte("ssh-ed25519 CCCC not-a-login-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := localdir.Keys(dir).AuthorizedKeys(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"ssh-ed25519 AAAA one", "ssh-ed25519 BBBB two"}, got); d != "" {
		t.Errorf("keys (-want +got):\n%s", d)
	}
	if got, err := localdir.Keys(dir).AuthorizedKeys(ctx, "bob"); err != nil || got != nil {
		t.Errorf("a login without a file: %v, %v; want no keys and no error", got, err)
	}
	for _, bad := range []string{"../secret", "a/b", "", "-alice", "x" + strings.Repeat("y", 39)} {
		if _, err := localdir.Keys(dir).AuthorizedKeys(ctx, bad); err == nil || !strings.Contains(err.Error(), "is not a GitHub login") {
			t.Errorf("login %q: err = %v, want one saying it is not a GitHub login", bad, err)
		}
	}
}

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	sink := localdir.Credentials(dir)
	ctx := context.Background()
	for _, body := range []string{"first", "second"} {
		if err := sink.Deliver(ctx, "prod/db/alice-1", []byte(body)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(localdir.File(dir, "prod/db/alice-1"))
		if err != nil || string(got) != body {
			t.Errorf("file holds %q (%v), want %q", got, err, body)
		}
	}
	info, err := os.Stat(filepath.Join(dir, "prod", "db", "alice-1.age"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("credential file: %v, mode %v; want mode 0600", err, info.Mode().Perm())
	}
	// Ids a/b and a__b never share a file.
	if localdir.File(dir, "a/b") == localdir.File(dir, "a__b") {
		t.Error("ids a/b and a__b share a file")
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "prod", "db"))
	if len(entries) != 1 {
		t.Errorf("left behind: %v, want only the credential file", entries)
	}
}
