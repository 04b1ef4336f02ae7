package demo

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitops/jit/controller/devsandbox"
	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/internal/tftest"
)

// needPostgres skips t without the PostgreSQL server binaries, except
// under CI=true, where that is a failure (the demo must run in CI).
func needPostgres(t *testing.T) {
	t.Helper()
	if _, err := pgtest.FindBinDir(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
}

// syncWriter lets the test read the narration while Run writes it.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestDemo runs make demo's driver end to end: jit dev with the real
// emulator, terraform and PostgreSQL, every step checked by the driver
// itself. It then checks the narration tells each step in order, and that
// nothing of the sandbox is left behind.
func TestDemo(t *testing.T) {
	tf := tftest.Path(t)
	needPostgres(t)
	t.Setenv("JIT_TERRAFORM", tf)
	before := leftovers(t)
	var out syncWriter
	start := time.Now()
	// The race detector and a shared machine slow everything down: give
	// every wait three times the demo's patience.
	err := Run(context.Background(), Options{Out: &out, Source: ".", Patience: 3})
	t.Logf("narration (%s):\n%s", time.Since(start).Round(time.Second), out.String())
	if err != nil {
		t.Fatalf("the demo failed: %v", err)
	}
	text := out.String()
	last := -1
	for _, want := range []string{
		"pull request #1 as alice",
		"one of `@acme/dba`",
		"Can not approve your own pull request",
		"jit/approval is still pending",
		"bob approved acme/access#1",
		"Jit-Approved-By: bob",
		"decrypted with ",
		"reads 1 order(s)",
		"password authentication failed",
		"merged by jit[bot]: access/sandbox/orders/alice-demo.yaml deleted",
		"ended:     expired",
		"jit: revoked sandbox/orders/alice-demo",
		"Done in ",
	} {
		i := strings.Index(text, want)
		if i < 0 {
			t.Errorf("the narration lacks %q", want)
			continue
		}
		if i < last {
			t.Errorf("the narration tells %q out of order", want)
		}
		last = i
	}
	if strings.Contains(text, "anomalies: not") || !strings.Contains(text, "anomalies: -") {
		t.Errorf("jit audit show reports anomalies for the demo's grant")
	}
	if after := leftovers(t); len(after) > len(before) {
		t.Errorf("the demo left %v behind", after)
	}
}

// leftovers lists the demo's and jit dev's temporary directories.
func leftovers(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "jit-demo-") || strings.HasPrefix(e.Name(), "jit-dev-") {
			all = append(all, e.Name())
		}
	}
	return all
}

// TestDemoFailsNamingTheStep: when jit dev cannot start (here: the source
// is no git repository), Run fails naming step 0 and jit dev's reason, and
// removes what it made.
func TestDemoFailsNamingTheStep(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: -short skips the demo")
	}
	var out syncWriter
	err := Run(context.Background(), Options{Out: &out, Source: t.TempDir()})
	if err == nil {
		t.Fatal("the demo succeeded without a jit repository to seed from")
	}
	for _, want := range []string{"step 0 (start jit dev)", "run jit dev inside a clone of the jit repository"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the failure was a timeout, not jit dev's exit: %v", err)
	}
	if _, statErr := os.Stat(devsandbox.InfoFile); statErr == nil {
		t.Errorf("%s was written in the working directory", devsandbox.InfoFile)
	}
}
