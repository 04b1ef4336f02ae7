package audit_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/internal/decisiontest"
)

// TestVerifiedCache reads the same history with and without a verified
// cache, cold, warm and from a damaged cache file: the trail is the same
// every time, a record signed by an unknown key stays untrusted, and only
// the records that verified are kept.
func TestVerifiedCache(t *testing.T) {
	f := newFixture(t)
	at := t0.Add(time.Hour)
	f.lifecycle("prod/alice-inc-1", at)
	f.lifecycle("prod/alice-inc-2", at.Add(6*time.Hour))
	other := decisiontest.NewKey(t)
	ev := revoked("prod/alice-inc-2")
	ev.Parent = f.g.Head("main").String()
	ts, err := ev.Trailers()
	if err != nil {
		t.Fatal(err)
	}
	f.g.Commit("main", "mallory", other.SignedMessage(t, "jit: revoked", ts), at.Add(9*time.Hour), nil)

	opts := audit.Options{Now: at.Add(24 * time.Hour)}
	want := f.read(opts)
	if got := kinds(want); !cmp.Equal(got, []string{"bad-signature prod/alice-inc-2"}) {
		t.Fatalf("anomalies = %v, want the record signed by another key only", got)
	}
	dir := t.TempDir()
	cached := opts
	cached.Cache = dir
	file := filepath.Join(dir, "audit-verified-v1")
	same := func(name string) {
		t.Helper()
		got := f.read(cached)
		if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(audit.Story{})); diff != "" {
			t.Errorf("%s: trail differs from an uncached read (-want +got):\n%s", name, diff)
		}
		info, err := os.Stat(file)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if info.Size() != 8*32 {
			t.Errorf("%s: cache holds %d bytes, want 8 digests (the verified records only)", name, info.Size())
		}
	}
	same("cold")
	same("warm")
	if err := os.WriteFile(file, []byte("not a whole number of digests: 33"), 0o600); err != nil {
		t.Fatal(err)
	}
	same("damaged")
}
