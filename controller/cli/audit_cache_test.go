package cli_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// verifiedCacheFile is where jit audit keeps verified records by default.
func verifiedCacheFile(dir string) string {
	return filepath.Join(dir, ".git", "jit", "audit-verified-v1")
}

func TestAuditVerifyKeepsVerifiedCacheInGitDir(t *testing.T) {
	repo, _, at := auditHistory(t)
	now := at.Add(4 * time.Hour).Format(time.RFC3339)
	args := []string{"audit", "verify", "--repo", repo.Dir, "--now", now, "--format", "json"}
	code, first, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("first verify: code %d\nstdout %s\nstderr %s", code, first, errOut)
	}
	file := verifiedCacheFile(repo.Dir)
	info, err := os.Stat(file)
	if err != nil {
		t.Fatalf("first verify left no verified cache: %v", err)
	}
	// Every signed record of the history verified: one 32-byte digest each.
	if info.Size() == 0 || info.Size()%32 != 0 {
		t.Fatalf("verified cache is %d bytes, want a positive multiple of 32", info.Size())
	}
	if info.Mode().Perm()&0o077 != 0 {
		t.Errorf("verified cache mode %v, want no access for group or others", info.Mode().Perm())
	}
	code, second, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("second verify: code %d\nstdout %s\nstderr %s", code, second, errOut)
	}
	if second != first {
		t.Errorf("second verify (cached) printed\n%s\nfirst printed\n%s", second, first)
	}
	// The second run found every record in the cache, so it added nothing.
	again, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if again.Size() != info.Size() {
		t.Errorf("verified cache grew from %d to %d bytes on a second run over the same history", info.Size(), again.Size())
	}
}

func TestAuditNoCacheNeitherReadsNorWritesCache(t *testing.T) {
	repo, _, at := auditHistory(t)
	now := at.Add(4 * time.Hour).Format(time.RFC3339)
	code, out, errOut := run(t, "audit", "verify", "--no-cache", "--repo", repo.Dir, "--now", now)
	if code != 0 {
		t.Fatalf("verify --no-cache: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if _, err := os.Stat(verifiedCacheFile(repo.Dir)); !os.IsNotExist(err) {
		t.Fatalf("verify --no-cache: verified cache stat error %v, want not exist", err)
	}
}
