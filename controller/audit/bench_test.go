package audit_test

import (
	"context"
	"io"
	"os/exec"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/history"
)

// TestGeneratedHistory keeps the benchmark's generator honest: 100 clean
// grant lifecycles read back as 100 grants, none active at the end, and no
// anomaly.
func TestGeneratedHistory(t *testing.T) {
	needGit(t)
	dir := t.TempDir()
	tip := genHistory(t, dir, 100)
	tr := readDir(t, dir, audit.Options{})
	if tr.Rev != tip {
		t.Errorf("Rev = %s, want the generated tip %s", tr.Rev, tip)
	}
	if len(tr.Stories) != 100 {
		t.Errorf("read %d grants, want 100", len(tr.Stories))
	}
	if len(tr.Anomalies) != 0 {
		t.Errorf("anomalies on a generated clean history (first %d): %v", min(3, len(tr.Anomalies)), tr.Anomalies[:min(3, len(tr.Anomalies))])
	}
	mid := genStart.Add(50*genSpacing + time.Hour)
	if got := tr.Active(mid); len(got) != 1 || got[0].Grant.ID != "prod/user0-inc-50" {
		t.Errorf("Active(%s) = %v, want only prod/user0-inc-50", mid, got)
	}
	for _, s := range tr.Stories {
		if !s.Approved || s.Ending != audit.Expired || s.Cleanup != audit.CleanupRevoked {
			t.Errorf("%s: approved %t, ending %q, cleanup %q; want an approved grant expired and revoked", s.ID, s.Approved, s.Ending, s.Cleanup)
		}
	}
}

// needGit fails t without the git binary (which the generator streams its
// pack into), or skips it under -short.
func needGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if testing.Short() {
			t.Skip("no git binary")
		}
		t.Fatalf("the git binary is needed to generate a history: %v", err)
	}
}

// benchGrants is the size of the benchmark's history: 20,000 grants, 6
// commits each (120,001 commits, 80,001 of them on the first-parent line).
const benchGrants = 20000

// BenchmarkAuditAtScale compares jit audit active and jit audit verify with
// git log --format=%B over the same generated history, in the same run, and
// reports the ratios (target: each at most 2) and the peak resident memory
// of one read in a process of its own (target: at most 300 MB). "cold" reads verify every
// signature; "warm" reads keep Options.Cache, primed by one read before the
// clock starts, as a second audit of the same repository would.
func BenchmarkAuditAtScale(b *testing.B) {
	needGit(b)
	// Timed as jit audit runs: with its garbage collector target.
	defer debug.SetGCPercent(debug.SetGCPercent(audit.GCPercent))
	dir, tip := cachedHistory(b, benchGrants)
	at := genStart.Add(benchGrants/2*genSpacing + time.Hour)
	warm := audit.Options{Cache: b.TempDir()}
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	tr := readAt(b, dir, warm)
	runtime.ReadMemStats(&ms1)
	peakHeap := float64(ms1.HeapSys-ms0.HeapReleased) / (1 << 20)
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	trailHeap := float64(ms1.HeapAlloc-ms0.HeapAlloc) / (1 << 20)
	runtime.KeepAlive(tr)
	var gitlog, active, verify, activeWarm, verifyWarm time.Duration
	timed := func(d *time.Duration, f func()) {
		start := time.Now()
		f()
		*d += time.Since(start)
	}
	b.ResetTimer()
	for range b.N {
		timed(&gitlog, func() {
			cmd := exec.Command("git", "log", "--format=%B", tip)
			cmd.Dir, cmd.Stdout = dir, io.Discard
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		})
		for _, o := range []struct {
			opts           audit.Options
			active, verify *time.Duration
		}{{audit.Options{}, &active, &verify}, {warm, &activeWarm, &verifyWarm}} {
			timed(o.active, func() {
				if got := len(readAt(b, dir, o.opts).Active(at)); got != 1 {
					b.Fatalf("%d grants active at %s, want 1", got, at)
				}
			})
			timed(o.verify, func() {
				tr := readAt(b, dir, o.opts)
				if got := len(tr.Sorted()); got != 0 || len(tr.Stories) != benchGrants {
					b.Fatalf("%d anomalies and %d grants, want none and %d", got, len(tr.Stories), benchGrants)
				}
			})
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(ms(gitlog), "gitlog-ms")
	for _, m := range []struct {
		name string
		d    time.Duration
	}{{"active-cold", active}, {"verify-cold", verify}, {"active-warm", activeWarm}, {"verify-warm", verifyWarm}} {
		b.ReportMetric(ms(m.d), m.name+"-ms")
		b.ReportMetric(m.d.Seconds()/gitlog.Seconds(), m.name+"/gitlog")
	}
	b.ReportMetric(trailHeap, "trail-heap-MB")
	b.ReportMetric(peakHeap, "read-heapsys-MB")
	if mb, ok := peakRSS(); ok {
		b.ReportMetric(mb, "bench-rss-MB") // the whole benchmark: every read above
	}
	if mb, ok := childRSS(b, dir, ""); ok {
		b.ReportMetric(mb, "cold-rss-MB") // one cold read in a process of its own
	}
	if mb, ok := childRSS(b, dir, warm.Cache); ok {
		b.ReportMetric(mb, "warm-rss-MB")
	}
}

// readAt opens dir and reads its whole audit trail, as jit audit does.
func readAt(b *testing.B, dir string, opts audit.Options) *audit.Trail {
	h, err := history.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	tr, err := audit.Read(context.Background(), h, "HEAD", opts)
	if err != nil {
		b.Fatal(err)
	}
	return tr
}
