package audit_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/history"
)

// peakRSS is the process's peak resident memory in MB (ru_maxrss, in KiB on
// Linux).
func peakRSS() (float64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return float64(ru.Maxrss) / 1024, true
}

// childEnv names the repository TestAuditChild reads, in a process of its
// own started by childRSS.
const childEnv = "JIT_AUDIT_BENCH_REPO"

// TestAuditChild is one jit audit verify in a process of its own, so that
// its peak memory can be measured; it does nothing unless childRSS runs it.
func TestAuditChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("run by BenchmarkAuditAtScale only")
	}
	// As jit audit runs it.
	defer debug.SetGCPercent(debug.SetGCPercent(audit.GCPercent))
	h, err := history.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	tr, err := audit.Read(context.Background(), h, "HEAD", audit.Options{Cache: os.Getenv(childEnv + "_CACHE")})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Sorted()) != 0 {
		t.Fatalf("%d anomalies", len(tr.Anomalies))
	}
	// VmHWM is this process's own peak (ru_maxrss would include the
	// parent's, which a forked child inherits).
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Printf("peak %s\n", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")))
		}
	}
}

// childRSS runs TestAuditChild on dir (with the verified cache in cache,
// when not empty) and returns its peak resident memory in MB.
func childRSS(b *testing.B, dir, cache string) (float64, bool) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestAuditChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childEnv+"_CACHE="+cache)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("audit in a child process: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(line, "peak "); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(v))
			return float64(kb) / 1024, err == nil
		}
	}
	return 0, false
}
