// Package app is the GitHub App's pull-request side (jit serve): it takes
// verified webhooks off a bounded queue, evaluates each grant pull request
// against the trusted core (package validate over a local mirror of the
// access repository, grant.Decide over evidence gathered from GitHub), shows
// the outcome as the jit/validate and jit/approval check runs and one sticky
// comment, and merges an approved pull request with a signed decision in the
// merge commit's trailers.
//
// What it guarantees:
//   - Nothing is read from a working tree, and nothing a pull request
//     changes judges it: the governing files, the grant ids that ever
//     existed and the signing key all come from the default branch of the
//     mirror.
//   - A head nobody approved is never merged: the merge passes the evaluated
//     head SHA, GitHub refuses it when the head moved (409), and the approval
//     rules are checked again, with team membership and permissions asked
//     afresh, just before merging.
//   - Every action is idempotent: check runs and the comment are edited in
//     place, a merge of a merged pull request is refused by GitHub, and a
//     break-glass review is recorded once. A redelivered or duplicated
//     webhook is harmless, and a missed one is healed by the periodic resync.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/appmetrics"
	"github.com/jitops/jit/controller/coord"
	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/lifecycle"
	"github.com/jitops/jit/controller/mirror"
	"github.com/jitops/jit/controller/trailer"
	"github.com/jitops/jit/controller/webhook"
	"github.com/jitops/jit/controller/workqueue"
)

// BreakGlassLabel marks a pull request merged as break-glass, for people;
// what the App relies on is the merge's signed Jit-Break-Glass trailer.
const BreakGlassLabel = "jit/break-glass"

// Config wires the App to its outside systems.
type Config struct {
	GitHub *ghapi.Client
	Mirror *mirror.Mirror
	// Signer signs the decision trailers (ed25519; its public key is in
	// .github/jit-signers on the default branch).
	Signer ssh.Signer
	// WebhookSecret verifies X-Hub-Signature-256.
	WebhookSecret []byte
	// DefaultBranch is the access repository's default branch ("main").
	DefaultBranch string
	// QueueSize bounds the pending work items; Workers evaluate in parallel.
	QueueSize, Workers int
	// Resync is how often every open pull request is evaluated again.
	Resync time.Duration
	// CacheFor is how long team membership and permissions are reused for
	// explaining a pull request; anything that may lead to a merge asks
	// GitHub afresh. 0 means one minute.
	CacheFor time.Duration
	Metrics  *appmetrics.Metrics
	Logger   *slog.Logger
	Now      func() time.Time

	// Lifecycle, when set, runs the default-branch side: a pass at start-up
	// (overdue grants destroyed first), on every push to the default
	// branch, at each grant's expiry and retry time, and every Reconcile;
	// a drift pass every Drift. Nil leaves the default branch to jit expire
	// (the Actions deployment).
	Lifecycle *lifecycle.Engine
	// Reconcile and Drift are the periods of the timed passes (defaults 2m
	// and 30m).
	Reconcile, Drift time.Duration
	// Leases, when set, elects one holder of the expiry timer among the
	// replicas sharing a state backend: only it runs the timed and drift
	// passes; the others run passes for the pushes they receive and take
	// the lease over when its holder is gone. Nil: this process holds it.
	Leases Leaser
}

// Leaser grants the one lease of a name among controllers
// (coord.Coordinator).
type Leaser interface {
	TryLead(ctx context.Context, name string) (coord.Lease, bool, error)
}

// ExpiryTimerLease names the lease of the expiry timer.
const ExpiryTimerLease = "expiry-timer"

// App is one running jit serve.
type App struct {
	cfg   Config
	gh    *ghapi.Client
	log   *slog.Logger
	m     *appmetrics.Metrics
	queue *workqueue.Queue[work]
	hook  *webhook.Handler
	ready atomic.Bool
	// busy counts work queued or running, and merge retries waiting.
	busy atomic.Int64

	mu sync.Mutex
	// merges counts refused merge attempts per head, so a pull request
	// GitHub keeps refusing is not retried in a loop.
	refused map[string]int

	// rearm carries the time the next pass is due, from each pass to Run's
	// timer.
	rearm chan time.Time
}

// work is one reason to look at a key of the queue again.
type work struct {
	trigger  string // "pull_request.opened", "resync", "governance", ...
	delivery string
	received time.Time
	// arrived is when a push was delivered, by the local clock (a fetch
	// that started later holds it); zero for anything else.
	arrived time.Time
	// pr is the pull request as the event showed it; nil means ask GitHub.
	pr *ghapi.PullRequest
	// review is set for pull_request_review events.
	review bool
	// push is set for pushes to the default branch.
	push *pushInfo
	// at is the default branch's commit a pass is asked for (a push's
	// head, the App's own merge); "" for any other reason.
	at string
}

type pushInfo struct{ before, after string }

// Queue keys: one per pull request, and one each for default-branch pushes
// and full resyncs, so that each runs in order and coalesces.
const (
	keyPush   = "push"
	keyResync = "resync"
	keyPass   = "pass"
)

func prKey(n int) string { return fmt.Sprintf("pr:%d", n) }

// New checks cfg and builds the App; Run starts it.
func New(cfg Config) (*App, error) {
	switch {
	case cfg.GitHub == nil:
		return nil, errors.New("app: no GitHub client")
	case cfg.Mirror == nil:
		return nil, errors.New("app: no mirror")
	case cfg.Signer == nil:
		return nil, errors.New("app: no signing key")
	case len(cfg.WebhookSecret) == 0:
		return nil, errors.New("app: no webhook secret")
	case cfg.DefaultBranch == "":
		return nil, errors.New("app: no default branch")
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1000
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Resync <= 0 {
		cfg.Resync = 10 * time.Minute
	}
	if cfg.CacheFor <= 0 {
		cfg.CacheFor = time.Minute
	}
	if cfg.Metrics == nil {
		cfg.Metrics = appmetrics.New()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Reconcile <= 0 {
		cfg.Reconcile = 2 * time.Minute
	}
	if cfg.Drift <= 0 {
		cfg.Drift = 30 * time.Minute
	}
	a := &App{cfg: cfg, gh: cfg.GitHub, log: cfg.Logger, m: cfg.Metrics, refused: map[string]int{}, rearm: make(chan time.Time, 1)}
	a.queue = workqueue.New(cfg.QueueSize, cfg.Workers, a.handle)
	a.queue.OnDepth(func(n int) { a.m.QueueDepth.Set(float64(n)) })
	a.hook = &webhook.Handler{Secret: cfg.WebhookSecret, Accept: a.accept, Logger: cfg.Logger,
		Observe: func(event, action, result string) { a.m.Events.WithLabelValues(event, action, result).Inc() }, Now: cfg.Now}
	return a, nil
}

// Handler serves POST /webhook, GET /metrics, /healthz and /readyz.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/webhook", a.hook)
	mux.Handle("GET /metrics", a.m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.ready.Load() {
			http.Error(w, "not ready: the first sync with GitHub has not completed", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}

// Ready reports whether the first full sync has completed.
func (a *App) Ready() bool { return a.ready.Load() }

// Run starts the workers, evaluates every open pull request, then again
// every Resync, until ctx ends; it then lets queued work finish for up to
// drain and logs anything left.
func (a *App) Run(ctx context.Context, drain time.Duration) error {
	a.queue.Start(ctx)
	a.enqueue(keyResync, work{trigger: "startup", received: a.cfg.Now()})
	t := time.NewTicker(a.cfg.Resync)
	defer t.Stop()
	// The default-branch side's timers: the next pass (an expiry, a
	// retry, or the reconcile period) and the drift pass.
	passAt := time.NewTimer(a.cfg.Reconcile)
	defer passAt.Stop()
	drift := time.NewTicker(a.cfg.Drift)
	defer drift.Stop()
	if a.cfg.Lifecycle == nil {
		passAt.Stop()
		drift.Stop()
	} else {
		a.enqueue(keyPass, work{trigger: "startup", received: a.cfg.Now()})
	}
	timer := &timerLease{a: a}
	defer timer.release()
	for {
		select {
		case at := <-a.rearm:
			d := at.Sub(a.cfg.Now())
			if at.IsZero() || d > a.cfg.Reconcile {
				d = a.cfg.Reconcile
			}
			passAt.Reset(max(d, 0))
		case <-passAt.C:
			if timer.held(ctx) {
				a.enqueue(keyPass, work{trigger: "timer", received: a.cfg.Now()})
			} else {
				// Another replica holds the timer: try for it again soon,
				// so a dead holder is replaced quickly.
				passAt.Reset(min(a.cfg.Reconcile, 15*time.Second))
			}
		case <-drift.C:
			if timer.held(ctx) {
				a.enqueue(keyPass, work{trigger: "drift", received: a.cfg.Now()})
			}
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), drain)
			left := a.queue.Stop(sctx)
			cancel()
			if left > 0 {
				a.log.Warn("stopping with work left in the queue; the next start evaluates every open pull request again", "items", left)
			}
			return nil
		case <-t.C:
			a.enqueue(keyResync, work{trigger: "timer", received: a.cfg.Now()})
		}
	}
}

// add queues w under key, counting it as busy until handled.
func (a *App) add(key string, w work) error {
	a.busy.Add(1)
	if err := a.queue.Add(key, w); err != nil {
		a.busy.Add(-1)
		return err
	}
	return nil
}

// Idle reports whether no work is queued, running or waiting to retry.
func (a *App) Idle() bool { return a.busy.Load() == 0 }

// Resync queues an evaluation of every open pull request, as the timer does.
func (a *App) Resync() { a.enqueue(keyResync, work{trigger: "resync", received: a.cfg.Now()}) }

// enqueue adds internal work; a full queue is logged and counted, and the
// next resync heals it.
func (a *App) enqueue(key string, w work) {
	if err := a.add(key, w); err != nil {
		a.m.Errors.WithLabelValues("enqueue").Inc()
		a.log.Warn("work not queued; the next resync picks it up", "key", key, "trigger", w.trigger, "err", err)
	}
}

// handle runs one coalesced batch of work for a key.
func (a *App) handle(ctx context.Context, key string, items []work) {
	defer a.busy.Add(-int64(len(items)))
	var err error
	switch {
	case key == keyResync:
		err = a.resync(ctx, items[len(items)-1].trigger)
	case key == keyPush:
		err = a.pushed(ctx, items)
	case key == keyPass:
		err = a.pass(ctx, items)
	case strings.HasPrefix(key, "pr:"):
		err = a.pullRequest(ctx, key, items)
	}
	if err != nil && ctx.Err() == nil {
		a.m.Errors.WithLabelValues("evaluate").Inc()
		a.log.Error("work failed; it is tried again on the next event or resync", "key", key, "trigger", items[len(items)-1].trigger,
			"delivery", items[len(items)-1].delivery, "err", err)
	}
}

// resync fetches the mirror and queues every open pull request.
func (a *App) resync(ctx context.Context, trigger string) error {
	if err := a.cfg.Mirror.Fetch(ctx); err != nil {
		return fmt.Errorf("fetching the access repository: %w", err)
	}
	if trigger == "startup" {
		a.warnUntrustedKey(ctx)
	}
	prs, err := a.gh.OpenPullRequests(ctx)
	if err != nil {
		return fmt.Errorf("listing open pull requests: %w", err)
	}
	now := a.cfg.Now()
	for i := range prs {
		a.enqueue(prKey(prs[i].Number), work{trigger: trigger, received: now, pr: &prs[i]})
	}
	a.ready.Store(true)
	a.log.Info("resync", "trigger", trigger, "open_pull_requests", len(prs))
	return nil
}

// warnUntrustedKey tells the operator at start-up when the default branch's
// .github/jit-signers does not trust the App's signing key: nothing can be
// merged until it does (each approved pull request says so too).
func (a *App) warnUntrustedKey(ctx context.Context) {
	err := a.cfg.Mirror.Read(ctx, func(r *history.Repo) error {
		tip, err := r.Resolve("refs/heads/" + a.cfg.DefaultBranch)
		if err != nil {
			return err
		}
		probe, err := a.keyProbe(tip)
		if err != nil {
			return err
		}
		return verifyKeyAt(r, tip, probe)
	})
	if err != nil {
		a.m.Errors.WithLabelValues("signing-key").Inc()
		a.log.Error("the default branch's .github/jit-signers does not trust this signing key: jit will not merge anything until it does; add the key's public half (ssh-keygen -y -f KEY) as 'jit namespaces=\"jit\" ssh-ed25519 ...' through a reviewed pull request, or start jit serve with the key it lists",
			"branch", a.cfg.DefaultBranch, "err", err)
	}
}

// keyProbe signs a one-trailer block naming commit with the App's key, to
// check the key against a revision's .github/jit-signers.
func (a *App) keyProbe(commit string) ([]trailer.Trailer, error) {
	probe, err := trailer.Sign([]trailer.Trailer{{Key: trailer.KeyParent, Value: commit}}, a.cfg.Signer)
	if err != nil {
		return nil, fmt.Errorf("signing with jit's key: %w", err)
	}
	return probe, nil
}

// verifyKeyAt checks probe against the .github/jit-signers that commit
// holds: nil when that file trusts the key that signed it.
func verifyKeyAt(r *history.Repo, commit string, probe []trailer.Trailer) error {
	signers, err := signersAt(r, commit)
	if err != nil {
		return err
	}
	return trailer.Verify(probe, signers)
}
