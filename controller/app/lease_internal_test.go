package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jitops/jit/controller/appmetrics"
	"github.com/jitops/jit/controller/coord"
	"github.com/jitops/jit/controller/internal/pgtest"
)

// TestExpiryTimerHasOneHolder: of two replicas on one state database, one
// holds the expiry timer; when it stops, the other takes it over.
func TestExpiryTimerHasOneHolder(t *testing.T) {
	c := pgtest.Start(t)
	c.Psql(t, "postgres", "CREATE DATABASE jitstate")
	ctx := context.Background()
	replica := func() (*timerLease, coord.Coordinator) {
		co, err := coord.OpenPostgres(ctx, c.ConnString("jitstate"), "jit_state", slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { co.Close() })
		return &timerLease{a: &App{cfg: Config{Leases: co}, log: slog.New(slog.DiscardHandler), m: appmetrics.New()}}, co
	}
	first, firstCo := replica()
	second, _ := replica()
	if !first.held(ctx) {
		t.Fatal("the first replica does not get the free timer")
	}
	if second.held(ctx) {
		t.Fatal("both replicas hold the timer")
	}
	if !first.held(ctx) {
		t.Fatal("the holder lost the timer while alive")
	}
	firstCo.Close() // the holder stops
	deadline := time.Now().Add(20 * time.Second)
	for !second.held(ctx) {
		if time.Now().After(deadline) {
			t.Fatal("the second replica never took the timer over")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if first.held(ctx) {
		t.Error("the stopped replica still holds the timer")
	}
	var nobody *timerLease = &timerLease{a: &App{cfg: Config{}, log: slog.New(slog.DiscardHandler), m: appmetrics.New()}}
	if !nobody.held(ctx) {
		t.Error("without leases a replica must hold its own timer")
	}
}
