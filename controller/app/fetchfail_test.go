package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/lifecycle"
	"github.com/jitops/jit/controller/reconcile"
)

// unreachable is a copy of the access repository whose fetch fails, as
// when GitHub is out of reach: reads see what was fetched last.
type unreachable struct{ lifecycle.Repository }

func (unreachable) Fetch(context.Context) error {
	return errors.New("dial tcp: connect: connection refused")
}

// TestPassFetchFailsDestroysOnly: a pass that cannot fetch destroys what
// is due as of the copy fetched last, applies nothing and records
// nothing (its copy may miss another controller's records); the next pass
// that fetches records the revocation, once, and opens the expiry.
func TestPassFetchFailsDestroysOnly(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/orders/alice-1"
	_, cred := r.liveGrant(id, aliceGrant)
	role := cred.Connection["role"]
	ctx := context.Background()
	eng, m := r.replica(ctx)
	if err := m.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	r.stop()
	before, _ := r.events()

	r.advance(2*time.Hour + time.Minute)
	rep, err := eng.Pass(ctx, unreachable{m}, reconcile.Options{})
	if err == nil || !strings.Contains(err.Error(), "fetching the access repository: dial tcp: connect: connection refused") {
		t.Fatalf("the pass = %v, want the fetch's error", err)
	}
	var destroyed []string
	for _, o := range rep.Result.Outcomes {
		if o.Err != nil || o.Action != reconcile.Destroy {
			t.Errorf("outcome %+v, want only a successful destroy", o)
		}
		destroyed = append(destroyed, o.Grant)
	}
	if strings.Join(destroyed, ",") != id {
		t.Errorf("destroyed %q, want %s", destroyed, id)
	}
	if strings.Contains(r.roles(), role) {
		t.Errorf("role %s still exists after the destroy-only pass", role)
	}
	if err := r.pg.TryLogin("orders", role, cred.Password); err == nil {
		t.Error("the expired grant still logs in")
	}
	r.wantNothingWritten(rep, before, id, "a pass that could not fetch")
	if rep.NextAt.IsZero() {
		t.Error("no next pass scheduled after a pass that could not fetch")
	}

	// GitHub is back: the next pass records what the last one did.
	rep, err = eng.Pass(ctx, m, reconcile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 0 || rep.Expiries[id] == 0 {
		t.Fatalf("the pass after: errors %v, expiries %v, want the expiry opened", rep.Errors, rep.Expiries)
	}
	if _, err := eng.Pass(ctx, m, reconcile.Options{}); err != nil {
		t.Fatal(err)
	}
	r.wantStory("decision "+id, "activated "+id, "expire "+id, "revoked "+id)
}

// wantNothingWritten checks that a pass (why) wrote nothing to GitHub: no
// record and no expiry pull request of grant id, and the signed records on
// main are still before.
func (r *rig) wantNothingWritten(rep lifecycle.Report, before []string, id, why string) {
	r.t.Helper()
	if len(rep.Records) != 0 || len(rep.Expiries) != 0 {
		r.t.Errorf("records %+v, expiries %v, want none from %s", rep.Records, rep.Expiries, why)
	}
	if after, _ := r.events(); strings.Join(after, "|") != strings.Join(before, "|") {
		r.t.Errorf("records went from %q to %q after %s, want none written", before, after, why)
	}
	if all, _ := r.expiryPRs(id); all != 0 {
		r.t.Errorf("%d expiry pull requests opened by %s, want none", all, why)
	}
}

// TestPassBehindAnotherController: a copy fetched before another
// controller applied a newer grant still destroys what is due when it
// cannot fetch (the newer grant's workspace is left alone, not taken for
// another deployment's state, which used to stop the whole pass), and the
// revoked record the next pass writes names the destroyed resources.
func TestPassBehindAnotherController(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	ctx := context.Background()
	const due, newer = "prod/orders/alice-1", "prod/orders/alice-2"
	_, dueCred := r.liveGrant(due, aliceGrant)
	eng, m := r.replica(ctx)
	if _, err := eng.Pass(ctx, m, reconcile.Options{}); err != nil {
		t.Fatal(err)
	}
	_, newerCred := r.liveGrant(newer, strings.Replace(aliceGrant, "duration: 2h", "duration: 4h", 1))
	r.stop()
	r.advance(2*time.Hour + time.Minute)

	rep, err := eng.Pass(ctx, unreachable{m}, reconcile.Options{})
	if err == nil || !strings.Contains(err.Error(), "fetching the access repository") {
		t.Fatalf("the pass = %v, want the fetch's error", err)
	}
	if strings.Join(rep.Unseen, ",") != newer {
		t.Errorf("unseen %q, want %s left alone", rep.Unseen, newer)
	}
	if err := r.pg.TryLogin("orders", dueCred.Connection["role"], dueCred.Password); err == nil {
		t.Errorf("grant %s is past its expiry and still logs in after a pass that could not fetch", due)
	}
	if err := r.pg.TryLogin("orders", newerCred.Connection["role"], newerCred.Password); err != nil {
		t.Errorf("grant %s, unseen by the stale copy, no longer logs in: %v", newer, err)
	}

	for i := 0; i < 3; i++ {
		if _, err := eng.Pass(ctx, m, reconcile.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	_, trail := r.events()
	found := false
	for _, st := range trail.Story(due).Steps {
		if st.What == "revoked" {
			found = true
			if !strings.Contains(st.Detail, "resources [terraform_data.login terraform_data.role]") {
				t.Errorf("the revoked record of %s says %q, want the destroyed resources named", due, st.Detail)
			}
		}
	}
	if !found {
		t.Errorf("no revoked record of %s", due)
	}
}
