package app

import (
	"context"
	"slices"
	"time"

	"github.com/jitops/jit/controller/coord"
	"github.com/jitops/jit/controller/reconcile"
)

// pass runs the default-branch side once for a coalesced batch of
// triggers: at start-up a destroy-only pass first (overdue grants go before
// anything is applied), a drift pass when the drift timer asked for one, a
// full pass otherwise. The next pass is scheduled for the next expiry or
// retry.
//
// A commit the last pass has settled (the merge it applied, its own
// records) needs no other: a batch asking only for such commits is
// skipped, so one merge makes one pass, whichever of the App's merge and
// the push webhooks comes first.
func (a *App) pass(ctx context.Context, items []work) error {
	if !slices.ContainsFunc(items, func(it work) bool { return it.at == "" || !a.cfg.Lifecycle.Settled(it.at) }) {
		return nil
	}
	opts := reconcile.Options{}
	startup := false
	for _, it := range items {
		switch it.trigger {
		case "drift":
			opts.Drift = true
		case "startup":
			startup = true
		}
	}
	trigger := items[len(items)-1].trigger
	if startup {
		if _, err := a.runPass(ctx, "startup", reconcile.Options{NoApply: true}); err != nil {
			return err
		}
	}
	if opts.Drift {
		trigger = "drift"
	}
	_, err := a.runPass(ctx, trigger, opts)
	return err
}

// runPass runs one pass, logs and counts it, and rearms the timer.
func (a *App) runPass(ctx context.Context, trigger string, opts reconcile.Options) (time.Time, error) {
	start := time.Now()
	rep, err := a.cfg.Lifecycle.Pass(ctx, a.cfg.Mirror, opts)
	a.m.PassSeconds.Observe(time.Since(start).Seconds())
	next := rep.NextAt
	if err != nil {
		a.m.Passes.WithLabelValues(trigger, "error").Inc()
		a.m.Errors.WithLabelValues("pass").Inc()
		// Try again soon: a pass that could not run must not wait for the
		// reconcile period when a grant may be due.
		next = a.cfg.Now().Add(10 * time.Second)
	} else {
		a.m.Passes.WithLabelValues(trigger, "ok").Inc()
		failed := len(rep.Result.Failed()) + len(rep.Errors)
		a.log.Info("pass", "trigger", trigger, "rev", rep.Rev, "actions", len(rep.Result.Outcomes), "records", len(rep.Records),
			"expiries", len(rep.Expiries), "anomalies", len(rep.Anomalies), "failed", failed, "next", next)
	}
	select {
	case a.rearm <- next:
	default:
		// A newer time is already waiting; the timer fires at most one
		// reconcile period late, and every pass rearms it.
		select {
		case <-a.rearm:
		default:
		}
		select {
		case a.rearm <- next:
		default:
		}
	}
	return next, err
}

// Reconcile queues a pass of the default-branch side now, as the timer
// does (on demand; nothing without a Lifecycle).
func (a *App) Reconcile() {
	if a.cfg.Lifecycle != nil {
		a.enqueue(keyPass, work{trigger: "manual", received: a.cfg.Now()})
	}
}

// timerLease tracks whether this replica holds the expiry timer.
type timerLease struct {
	a     *App
	lease coord.Lease
}

// held reports whether this replica holds the expiry timer, trying to take
// it when nobody does.
func (t *timerLease) held(ctx context.Context) bool {
	if t.a.cfg.Leases == nil {
		return true
	}
	if t.lease != nil {
		select {
		case <-t.lease.Lost():
			t.lease = nil
			t.a.log.Warn("lost the expiry timer; another replica takes it over, or this one again when it can")
		default:
			return true
		}
	}
	l, ok, err := t.a.cfg.Leases.TryLead(ctx, ExpiryTimerLease)
	if err != nil {
		t.a.m.Errors.WithLabelValues("lease").Inc()
		t.a.log.Error("asking for the expiry timer failed; timed passes wait", "err", err)
		return false
	}
	if !ok {
		return false
	}
	t.lease = l
	t.a.log.Info("holding the expiry timer: this replica runs the timed passes")
	return true
}

func (t *timerLease) release() {
	if t.lease != nil {
		t.lease.Release()
	}
}
