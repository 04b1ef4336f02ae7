package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/lifecycle"
	"github.com/jitops/jit/controller/reconcile"
)

// losesLock is a copy of the access repository whose fetch first ends the
// state database's session that holds the pass lock, as a failover or an
// operator's pg_terminate_backend would while a pass runs.
type losesLock struct {
	lifecycle.Repository
	lose func()
}

func (l losesLock) Fetch(ctx context.Context) error {
	l.lose()
	return l.Repository.Fetch(ctx)
}

// TestPassLockLostWritesNothing: a pass whose lock is lost while it runs
// (its session to the pg state backend ended, so another controller may
// hold the lock now) still destroys what is due, which is always safe,
// but opens no expiry pull request and writes no record, and says why; the
// next pass, under the lock again, finishes the story once.
func TestPassLockLostWritesNothing(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/orders/alice-1"
	_, cred := r.liveGrant(id, aliceGrant)
	role := cred.Connection["role"]
	ctx := context.Background()
	eng, m := r.replica(ctx)
	r.stop()
	before, _ := r.events()

	terminated := ""
	lose := func() {
		terminated = r.pg.Psql(t, "postgres", `SELECT string_agg(pg_terminate_backend(pid)::text || ':' || pid, ',')
FROM pg_locks WHERE locktype = 'advisory' AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = 'jitstate')`)
	}
	r.advance(2*time.Hour + time.Minute)
	rep, err := eng.Pass(ctx, losesLock{m, lose}, reconcile.Options{})
	if !strings.HasPrefix(terminated, "true:") || strings.Contains(terminated, ",") {
		t.Fatalf("terminated %q, want exactly the pass lock's session", terminated)
	}
	if err != nil {
		t.Fatalf("the pass: %v", err)
	}
	lost := false
	for _, e := range rep.Errors {
		lost = lost || strings.Contains(e.Error(), `the pass lock was lost; this pass writes nothing more and the next one finishes its work: the lock "pass" was lost`)
	}
	if !lost {
		t.Errorf("errors %v, want the lost lock reported", rep.Errors)
	}
	r.wantNothingWritten(rep, before, id, "a pass that lost its lock")
	if err := r.pg.TryLogin("orders", role, cred.Password); err == nil {
		t.Error("the expired grant still logs in: the destroy must not wait for the lock's fate")
	}

	// The next passes hold the lock again and finish the story, once.
	for i := 0; i < 3; i++ {
		if _, err := eng.Pass(ctx, m, reconcile.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	r.wantStory("decision "+id, "activated "+id, "expire "+id, "revoked "+id)
}
