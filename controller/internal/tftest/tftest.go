// Package tftest finds the real terraform binary for tests. Test-only.
package tftest

import (
	"os"
	"testing"

	"github.com/jitops/jit/controller/terraform"
)

// Path returns the terraform binary tests should use: JIT_TEST_TERRAFORM when
// set (to test another version, such as 1.5.7), otherwise terraform on PATH.
// Without a usable binary the test is skipped, except under CI=true, where
// that is a failure: CI must exercise the real thing. With -short (make
// test-short) the test is always skipped.
func Path(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping: -short skips tests that run real terraform")
	}
	path, _, err := terraform.Find(os.Getenv("JIT_TEST_TERRAFORM"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	return path
}
