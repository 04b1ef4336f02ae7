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
	if len(rep.Records) != 0 || len(rep.Expiries) != 0 {
		t.Errorf("records %+v, expiries %v, want none from a pass that could not fetch", rep.Records, rep.Expiries)
	}
	if after, _ := r.events(); strings.Join(after, "|") != strings.Join(before, "|") {
		t.Errorf("records went from %q to %q, want none written", before, after)
	}
	if all, _ := r.expiryPRs(id); all != 0 {
		t.Errorf("%d expiry pull requests opened, want none", all)
	}
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
