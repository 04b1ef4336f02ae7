package app_test

import (
	"context"
	"testing"
)

// TestOneApplyPassPerMerge: the App applies its own merge at once, and the
// push webhooks of that merge and of the activation record find the
// branch settled: one pass in all. A push by anyone else still makes one.
func TestOneApplyPassPerMerge(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/orders/alice-1"
	before := testutilCount(r, "jit_passes_total")
	r.liveGrant(id, aliceGrant)
	r.settle()
	if got := testutilCount(r, "jit_passes_total") - before; got != 1 {
		t.Errorf("%v passes for one merge and its activation, want 1", got)
	}
	r.wantStory("decision "+id, "activated "+id)

	before = testutilCount(r, "jit_passes_total")
	if _, err := r.srv.Commit(context.Background(), repo, ghemuChange("main", "sec", "docs", map[string]string{"access/README.md": "Grant files, one per request.\n"})); err != nil {
		t.Fatal(err)
	}
	r.settle()
	if got := testutilCount(r, "jit_passes_total") - before; got != 1 {
		t.Errorf("%v passes for someone else's push, want 1", got)
	}
}
