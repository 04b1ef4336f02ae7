package demo

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/internal/syncbuf"
	"github.com/jitops/jit/controller/internal/tftest"
)

// TestMain lets the demo start this test binary as jit (RunJitIfAsked).
func TestMain(m *testing.M) {
	RunJitIfAsked()
	os.Exit(m.Run())
}

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

// TestDemo runs make demo's driver end to end: jit dev with the real
// emulator, terraform and PostgreSQL, every step checked by the driver
// itself. It then checks the narration tells each step in order, and that
// nothing of the sandbox is left behind.
func TestDemo(t *testing.T) {
	tf := tftest.Path(t)
	needPostgres(t)
	t.Setenv("JIT_TERRAFORM", tf)
	tmp := reachableTempDir(t)
	var out syncbuf.Buffer
	start := time.Now()
	// The race detector and a shared machine slow everything down: give
	// every wait three times the demo's patience, and the grant 40s
	// instead of 25 for terraform to apply it and the demo to log in.
	err := Run(context.Background(), Options{Out: &out, Source: ".", Patience: 3, ClockSkew: 20 * time.Second})
	t.Logf("narration (%s):\n%s", time.Since(start).Round(time.Second), out.String())
	if err != nil {
		t.Fatalf("the demo failed: %v", err)
	}
	text := out.String()
	last := -1
	for _, want := range []string{
		"$ jit request --template postgres-role --scope database=orders --scope privileges=read --for 1m --reason 'make demo: read the orders table' --path access/sandbox/orders/alice-demo.yaml --no-prompt",
		"opened http",
		"alice's pull request is #1",
		"requester: alice",
		"> sandbox/orders/alice-demo: needs 1 approval from code owners of access/sandbox/orders/alice-demo.yaml: @acme/dba",
		"(@acme/dba is bob)",
		"Can not approve your own pull request",
		"jit/approval is still pending",
		"bob approved acme/access#1",
		"Jit-Approved-By: bob",
		"$ jit credentials sandbox/orders/alice-demo --identity ",
		"connect:   PGPASSWORD=",
		"$ jit list --mine",
		"sandbox/orders/alice-demo  alice",
		"reads 1 order(s)",
		`"password authentication failed" is how an expired grant looks`,
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
	if left, err := os.ReadDir(tmp); err != nil || len(left) > 0 {
		t.Errorf("the demo left %v behind in its temporary directory (%v)", left, err)
	}
}

// reachableTempDir makes TMPDIR a new directory for the test that the OS
// user postgres can traverse (t.TempDir's parents are private to root,
// and jit dev runs PostgreSQL as postgres when the test runs as root).
func reachableTempDir(t *testing.T) string {
	t.Helper()
	tmp, err := os.MkdirTemp("", "jit-demo-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	return tmp
}

// TestDemoFailsNamingTheStep: when jit dev cannot start (here: the source
// is no git repository), Run fails naming step 0 and jit dev's reason, and
// removes what it made.
func TestDemoFailsNamingTheStep(t *testing.T) {
	// The demo looks for terraform first; only with it does it get as far
	// as starting jit dev.
	t.Setenv("JIT_TERRAFORM", tftest.Path(t))
	notARepository := t.TempDir() // before TMPDIR moves
	tmp := reachableTempDir(t)
	var out syncbuf.Buffer
	err := Run(context.Background(), Options{Out: &out, Source: notARepository})
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
	if left, err := os.ReadDir(tmp); err != nil || len(left) > 0 {
		t.Errorf("the failed demo left %v behind in its temporary directory (%v)", left, err)
	}
}
