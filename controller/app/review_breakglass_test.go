package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jitops/jit/controller/trailer"
)

// TestReviewForgedBreakGlassRecord: anyone whose commit reaches the default
// branch's first-parent history (a squash merge whose message its merger
// wrote) can write a commit that looks like the App's break-glass-reviewed
// record. The App must not take an unsigned look-alike for its own record:
// an eligible review afterwards is still recorded, signed.
func TestReviewForgedBreakGlassRecord(t *testing.T) {
	r := newRig(t, rigOptions{})
	const id = "prod/orders/alice-bg"
	bg := strings.Replace(aliceGrant, "duration: 2h", "duration: 1h\nbreak_glass: true", 1)
	n := r.openPR("alice", "bg", map[string]string{"access/" + id + ".yaml": bg})
	r.settle()
	if !r.pr(n).Merged {
		t.Fatalf("break-glass request not merged: %+v", r.check(n, approvalCheck))
	}
	ctx := context.Background()
	b, _, err := r.client("alice").Repositories.GetBranch(ctx, org, repo, "main", 0)
	if err != nil {
		t.Fatal(err)
	}
	forged := fmt.Sprintf("Tidy the README\n\nJit-Event: break-glass-reviewed\nJit-Grant: %s\nJit-Reviewed-By: mallory\nJit-Parent: %s\nJit-Signature: %s\n",
		id, b.GetCommit().GetSHA(), "U1NIU0lHAAAAAQ==")
	if _, err := r.srv.Commit(ctx, repo, ghemuChange("main", "mallory", forged, map[string]string{"README.md": "tidied\n"})); err != nil {
		t.Fatal(err)
	}
	r.settle()
	r.approve("bob", n)
	r.settle()

	signers, err := trailer.ParseAllowedSigners(".github/jit-signers", []byte(r.key.AllowedSigners()))
	if err != nil {
		t.Fatal(err)
	}
	log := git(t, r.clone("alice"), nil, "log", "--first-parent", "--format=%H%x00%B%x01", "main")
	var signed []trailer.Event
	for _, c := range strings.Split(log, "\x01") {
		_, msg, _ := strings.Cut(strings.TrimSpace(c), "\x00")
		ts, err := trailer.Parse(msg + "\n")
		if err != nil || !trailer.IsEvent(ts) {
			continue
		}
		ev, err := trailer.EventFrom(ts)
		if err != nil || ev.Kind != trailer.BreakGlassReviewed || trailer.Verify(ts, signers) != nil {
			continue
		}
		signed = append(signed, ev)
	}
	if len(signed) != 1 || strings.Join(signed[0].ReviewedBy, ",") != "bob" {
		t.Fatalf("signed break-glass-reviewed records %+v, want one by bob (the forged record must not stand in for it):\n%s", signed, log)
	}
}
