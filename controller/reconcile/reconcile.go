package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/render"
)

// Log attribute keys.
const (
	LogKeyGrant  = "grant"
	LogKeyAction = "action"
	LogKeyReason = "reason"
)

// Desired is a grant that should exist until ExpiresAt.
type Desired struct {
	Request   grant.Request
	ExpiresAt time.Time
}

// Source says which grants should exist. It may return grants that have
// already expired; the Reconciler compares expiry with its own clock.
type Source interface {
	Desired(ctx context.Context) ([]Desired, error)
}

// Actual is a grant workspace that exists in the state backend.
type Actual struct {
	Workspace string
	// Grant is the grant the workspace records; empty when it records none
	// (an apply that never got far).
	Grant string
	// Complete reports that the workspace's last apply finished.
	Complete bool
	// ExpiresAt is the expiry the workspace was applied with (zero when
	// unknown); a desired grant whose expiry differs (an extension) is
	// applied again.
	ExpiresAt time.Time
}

// Provisioner applies and destroys grants and lists what exists.
type Provisioner interface {
	Actual(ctx context.Context) ([]Actual, error)
	// Apply makes d's resources exist and returns the addresses it created
	// or changed.
	Apply(ctx context.Context, d Desired) ([]string, error)
	// Destroy removes a's resources and workspace; it succeeds when there is
	// nothing left to remove.
	Destroy(ctx context.Context, a Actual) ([]string, error)
	// Reassert applies d again so that the target converges to it: what
	// was removed by hand is created, what was changed is reset. It issues
	// no new credentials.
	Reassert(ctx context.Context, d Desired) ([]string, error)
}

// Action is what a pass did for one grant.
type Action string

// Actions.
const (
	Apply    Action = "apply"
	Destroy  Action = "destroy"
	Reassert Action = "reassert"
)

// Reasons for an action.
const (
	ReasonMissing    = "missing"    // desired, no workspace
	ReasonIncomplete = "incomplete" // desired, last apply did not finish
	ReasonExtended   = "extended"   // desired with another expiry than applied
	ReasonExpired    = "expired"    // the grant's expiry has passed
	ReasonRemoved    = "removed"    // the grant's file is gone
	ReasonUnknown    = "unrecorded" // a jit workspace recording no grant, not desired
	ReasonDrift      = "drift"      // live and complete: re-asserted by a drift pass
)

// Options narrow or widen one pass. The zero value is a full pass: every
// grant, apply and destroy, no drift re-assertion.
type Options struct {
	// Grants, when not empty, limits the pass to these grant ids (a
	// workspace recording no grant is then left alone).
	Grants []string
	// NoApply leaves missing, incomplete and extended grants alone (and
	// skips drift re-assertion); NoDestroy leaves expired and removed ones.
	NoApply, NoDestroy bool
	// Drift re-asserts every live grant whose workspace is complete, so that
	// the target converges to the grants in git.
	Drift bool
}

// Outcome is one action of a pass and how it went.
type Outcome struct {
	Grant     string
	Workspace string
	Action    Action
	Reason    string
	// Resources are the terraform addresses created, changed or destroyed.
	Resources []string
	// Err is nil when the action succeeded.
	Err error
}

// Result is what a pass did.
type Result struct {
	// Desired counts the grants that should exist (unexpired), Actual the
	// workspaces found.
	Desired, Actual int
	// Outcomes lists every action, ordered by grant and workspace.
	Outcomes []Outcome
}

// Failed returns the outcomes whose action failed.
func (r Result) Failed() []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if o.Err != nil {
			out = append(out, o)
		}
	}
	return out
}

// Err joins the errors of the failed actions, or is nil.
func (r Result) Err() error {
	var errs []error
	for _, o := range r.Failed() {
		errs = append(errs, o.Err)
	}
	return errors.Join(errs...)
}

// Reconciler runs reconcile passes.
type Reconciler struct {
	src  Source
	prov Provisioner
	log  *slog.Logger
	// Now is the clock that decides expiry; it defaults to time.Now.
	Now func() time.Time
	// Concurrency bounds the actions run at once (default 4).
	Concurrency int
	// DestroyAttempts is how often a pass tries a failing destroy (default
	// 3), pausing DestroyBackoff (default 2s, doubled each time) in between;
	// revocation must not wait for the next pass when a retry can do it.
	DestroyAttempts int
	DestroyBackoff  time.Duration
}

// New returns a Reconciler; a nil logger discards.
func New(src Source, prov Provisioner, log *slog.Logger) *Reconciler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reconciler{src: src, prov: prov, log: log, Now: time.Now, Concurrency: 4, DestroyAttempts: 3, DestroyBackoff: 2 * time.Second}
}

type task struct {
	out     Outcome
	desired Desired
	actual  Actual
}

// Plan compares desired and actual at now and returns the actions a pass
// with opts takes, ordered by grant and workspace. It is pure.
func Plan(desired []Desired, actual []Actual, now time.Time, opts Options) []Outcome {
	ts := plan(desired, actual, now, opts)
	out := make([]Outcome, len(ts))
	for i, t := range ts {
		out[i] = t.out
	}
	return out
}

func plan(desired []Desired, actual []Actual, now time.Time, opts Options) []task {
	want := map[string]Desired{}
	expired := map[string]bool{}
	gone := map[string]Desired{}
	for _, d := range desired {
		if now.Before(d.ExpiresAt) {
			want[d.Request.ID] = d
		} else {
			expired[d.Request.ID] = true
			gone[d.Request.ID] = d
		}
	}
	have := map[string]Actual{}
	var tasks []task
	for _, a := range actual {
		if a.Grant == "" {
			// No record: a desired grant whose first apply stopped early is
			// found by workspace name below; anything else is destroyed.
			if d, ok := findByWorkspace(want, a.Workspace); ok {
				have[d.Request.ID] = a
				continue
			}
			// An expired grant's workspace that lost its record (a destroy
			// that failed halfway) is still that grant's, to destroy.
			if d, ok := findByWorkspace(gone, a.Workspace); ok {
				tasks = append(tasks, task{out: Outcome{Grant: d.Request.ID, Workspace: a.Workspace, Action: Destroy, Reason: ReasonExpired}, actual: a})
				continue
			}
			tasks = append(tasks, task{out: Outcome{Workspace: a.Workspace, Action: Destroy, Reason: ReasonUnknown}, actual: a})
			continue
		}
		have[a.Grant] = a
		if _, ok := want[a.Grant]; ok {
			continue
		}
		reason := ReasonRemoved
		if expired[a.Grant] {
			reason = ReasonExpired
		}
		tasks = append(tasks, task{out: Outcome{Grant: a.Grant, Workspace: a.Workspace, Action: Destroy, Reason: reason}, actual: a})
	}
	for id, d := range want {
		a, ok := have[id]
		switch {
		case !ok:
			tasks = append(tasks, task{out: Outcome{Grant: id, Action: Apply, Reason: ReasonMissing}, desired: d})
		case !a.Complete || a.Grant == "":
			tasks = append(tasks, task{out: Outcome{Grant: id, Workspace: a.Workspace, Action: Apply, Reason: ReasonIncomplete}, desired: d})
		case !a.ExpiresAt.IsZero() && !a.ExpiresAt.Equal(d.ExpiresAt.Truncate(time.Second)):
			tasks = append(tasks, task{out: Outcome{Grant: id, Workspace: a.Workspace, Action: Apply, Reason: ReasonExtended}, desired: d})
		case opts.Drift:
			tasks = append(tasks, task{out: Outcome{Grant: id, Workspace: a.Workspace, Action: Reassert, Reason: ReasonDrift}, desired: d})
		}
	}
	tasks = opts.keep(tasks)
	sort.Slice(tasks, func(i, j int) bool {
		a, b := tasks[i].out, tasks[j].out
		if a.Grant != b.Grant {
			return a.Grant < b.Grant
		}
		return a.Workspace < b.Workspace
	})
	return tasks
}

// keep returns the tasks opts allows.
func (o Options) keep(tasks []task) []task {
	only := map[string]bool{}
	for _, id := range o.Grants {
		only[id] = true
	}
	out := tasks[:0]
	for _, t := range tasks {
		switch {
		case len(only) > 0 && !only[t.out.Grant]:
		case o.NoApply && (t.out.Action == Apply || t.out.Action == Reassert):
		case o.NoDestroy && t.out.Action == Destroy:
		default:
			out = append(out, t)
		}
	}
	return out
}

func findByWorkspace(want map[string]Desired, ws string) (Desired, bool) {
	for id, d := range want {
		if render.IsWorkspaceOf(ws, id) {
			return d, true
		}
	}
	return Desired{}, false
}

// Run performs one full pass. The error is non-nil only when desired or
// actual state could not be read (then nothing was done); failures of single
// grants are in the Result.
func (r *Reconciler) Run(ctx context.Context) (Result, error) {
	return r.RunWith(ctx, Options{})
}

// RunWith performs one pass narrowed or widened by opts: jit apply is a pass
// that only applies, jit destroy one that only destroys named grants, and
// jit reconcile --drift one that also re-asserts every live grant.
func (r *Reconciler) RunWith(ctx context.Context, opts Options) (Result, error) {
	desired, err := r.src.Desired(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("reading the desired grants: %w", err)
	}
	actual, err := r.prov.Actual(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("reading the grants that exist: %w", err)
	}
	now := r.Now()
	tasks := plan(desired, actual, now, opts)
	res := Result{Actual: len(actual)}
	for _, d := range desired {
		if now.Before(d.ExpiresAt) {
			res.Desired++
		}
	}
	n := r.Concurrency
	if n < 1 {
		n = 1
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range tasks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.act(ctx, &tasks[i])
		}()
	}
	wg.Wait()
	for _, t := range tasks {
		res.Outcomes = append(res.Outcomes, t.out)
	}
	r.log.Info("reconciled", "desired", res.Desired, "actual", res.Actual, "actions", len(res.Outcomes), "failed", len(res.Failed()))
	return res, nil
}

func (r *Reconciler) act(ctx context.Context, t *task) {
	log := r.log.With(LogKeyGrant, t.out.Grant, LogKeyAction, t.out.Action, LogKeyReason, t.out.Reason)
	if t.out.Grant == "" {
		log = log.With("workspace", t.out.Workspace)
	}
	switch t.out.Action {
	case Apply:
		t.out.Resources, t.out.Err = r.prov.Apply(ctx, t.desired)
	case Reassert:
		t.out.Resources, t.out.Err = r.prov.Reassert(ctx, t.desired)
	case Destroy:
		pause := r.DestroyBackoff
		for attempt := 1; ; attempt++ {
			t.out.Resources, t.out.Err = r.prov.Destroy(ctx, t.actual)
			if t.out.Err == nil || attempt >= r.DestroyAttempts || ctx.Err() != nil {
				break
			}
			log.Warn("destroy failed, retrying", "attempt", attempt, "error", t.out.Err)
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
			pause *= 2
		}
	}
	if t.out.Err != nil {
		log.Error("grant action failed, the next pass retries it", "error", t.out.Err)
		return
	}
	log.Info("grant action done", "resources", t.out.Resources)
}
