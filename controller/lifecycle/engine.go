package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/pass"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/reconcile"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/trailer"
)

// Locker serialises passes across every controller sharing one state
// backend (controller/coord: a PostgreSQL advisory lock, or the local state
// directory's lock).
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
	// Holds returns nil while this process still holds the lock key, and
	// an error once it lost it (its session to the state backend ended,
	// which frees it for another controller).
	Holds(ctx context.Context, key string) error
}

// PassLock is the name of the lock every pass holds from its fetch to its
// last record, so that no two passes (replicas, jit expire, jit apply) act
// on the same grants at once.
const PassLock = "pass"

// Repository is the access repository as a pass reads it: a local copy that
// Fetch brings up to date with GitHub (controller/mirror).
type Repository interface {
	Fetch(ctx context.Context) error
	Read(ctx context.Context, fn func(*history.Repo) error) error
}

// GitHub is what a pass needs of GitHub (controller/ghapi through
// NewGitHub).
type GitHub interface {
	// AuthorizedKeys returns login's public SSH keys, to which their
	// credentials are encrypted.
	AuthorizedKeys(ctx context.Context, login string) ([]string, error)
	// Comment posts a new comment on pull request number.
	Comment(ctx context.Context, number int, body string) error
	// Record writes an empty controller commit on the default branch with
	// the message message returns for its parent. at, when set, is what the
	// caller believes the branch's tip and its tree are (saving their
	// reads); a wrong belief costs a retry, never a wrong record.
	Record(ctx context.Context, at Tip, message func(parent string) (string, error)) (string, error)
	// Flag marks commit sha as bringing in a grant that is never applied.
	Flag(ctx context.Context, sha, description string) error
	// Merged checks that commit is the merge of pull request number on
	// GitHub (not a look-alike pushed to the branch with a replayed or
	// forged decision).
	Merged(ctx context.Context, number int, commit string) error
	// Expire opens (or finds) the pull request deleting an expired grant's
	// file and has GitHub merge it with the message r.Message signs for its
	// head; it returns the pull request's number.
	Expire(ctx context.Context, r ExpiryRequest) (int, error)
}

// Tip is a commit of the default branch and its tree.
type Tip struct{ Commit, Tree string }

// ExpiryRequest asks for the expiry pull request of one grant.
type ExpiryRequest struct {
	Grant, Path string
	// Base is the default branch's commit the deletion is made on, and
	// BaseTree its tree when known ("": asked of GitHub).
	Base, BaseTree string
	Title, Body    string
	// Message returns the merge's headline and body (the signed expire
	// event last) for the pull request's head.
	Message func(head string) (headline, body string, err error)
}

// Config configures an Engine.
type Config struct {
	// Branch is the default branch.
	Branch string
	// Signer signs every record.
	Signer ssh.Signer
	GitHub GitHub
	// Lock serialises passes; required (a pass without it could apply or
	// record twice).
	Lock Locker
	// Provision configures the workspace manager (Templates, Keys and Sink
	// are set by each pass).
	Provision provision.Config
	// NewState acknowledges a state backend jit never used (see pass.Config).
	NewState bool
	// Now is the controller's clock (default time.Now).
	Now func() time.Time
	// Logger receives what the engine does; nil discards.
	Logger *slog.Logger
	// Metrics observes revocations and failures; nil observes nothing.
	Metrics Metrics
	// Concurrency bounds the grant actions of a pass (default 4).
	Concurrency int
	// Lookback is how far ReadLedger reads past the live grants (default
	// DefaultLookback).
	Lookback int
	// RetryBase and RetryMax bound the backoff of a failing grant (defaults
	// 5s and 5m: a destroy is never parked, and never retried more than five
	// minutes apart).
	RetryBase, RetryMax time.Duration
}

// Metrics is what the engine reports for dashboards and alerts.
type Metrics interface {
	// Revoked observes how late a destroy came after the grant's expiry.
	Revoked(lateness time.Duration)
	// PastExpiry sets how many grants past their expiry still exist.
	PastExpiry(n int)
	// Recorded counts a record written (kind) or failed to write.
	Recorded(kind trailer.EventKind, err error)
	// Anomaly counts a grant file that is never applied.
	Anomaly(kind desired.Kind)
}

// Engine runs passes: the apply-record-expire-revoke cycle of the default
// branch. It is safe for concurrent use; passes run one at a time.
type Engine struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	failing map[string]*failure // grant → its current failure streak
	// failedNow marks the grants something failed for in the running pass.
	failedNow map[string]bool
	// expiring holds when each grant's expiry pull request was last opened
	// or found open with auto-merge on: GitHub merges it when its checks
	// pass, so a pass asks again only after RetryMax.
	expiring map[string]time.Time
	flagged  map[string]bool // commits already flagged by this process
	// unrecorded holds the revocations whose record waits for the merge of
	// their expiry pull request (see revoked), with the resources destroyed.
	unrecorded map[string]unrecorded
	// live are the grants whose resources existed after the last pass, and
	// their expiry: a pass finding one of them due destroys it before
	// anything else (see Pass).
	live map[string]time.Time
	// settled are the revision the last pass read and its own records on
	// it, when it left nothing to do (else none).
	settled  []string
	passOnce sync.Mutex
}

// unrecorded is a revocation done whose record is yet to be written.
type unrecorded struct {
	resources []string
	since     time.Time
}

// failure is a grant whose last action failed, and when to try again.
type failure struct {
	attempts int
	next     time.Time
}

// New returns an Engine for cfg.
func New(cfg Config) (*Engine, error) {
	switch {
	case cfg.Branch == "":
		return nil, errors.New("lifecycle: the default branch is required")
	case cfg.Signer == nil:
		return nil, errors.New("lifecycle: a signing key is required")
	case cfg.GitHub == nil:
		return nil, errors.New("lifecycle: a GitHub client is required")
	case cfg.Lock == nil:
		return nil, errors.New("lifecycle: a lock is required: passes of two controllers must not overlap")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = DefaultLookback
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 5 * time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 5 * time.Minute
	}
	return &Engine{cfg: cfg, log: cfg.Logger, failing: map[string]*failure{}, failedNow: map[string]bool{}, expiring: map[string]time.Time{},
		flagged: map[string]bool{}, unrecorded: map[string]unrecorded{}, live: map[string]time.Time{}}, nil
}

// Settled reports whether commit is the revision the last pass read, or
// one of the records it wrote on it, when that pass left nothing to do:
// every record written, nothing failed, the branch moved only by its own
// records. A push of such a commit (the merge the pass applied, the
// webhook of its own record) needs no pass.
func (e *Engine) Settled(commit string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return commit != "" && slices.Contains(e.settled, commit)
}

// KnownMerge tells the engine that pull request number was just merged as
// commit (the App made that merge), sparing GitHub the question before
// the grant is applied.
func (e *Engine) KnownMerge(number int, commit string) {
	if k, ok := e.cfg.GitHub.(interface{ KnownMerge(int, string) }); ok {
		k.KnownMerge(number, commit)
	}
}

// Report is what one pass found and did.
type Report struct {
	pass.Report
	// Records are the records written, by kind and grant.
	Records []Written
	// Expiries are the expiry pull requests opened or found, by grant.
	Expiries map[string]int
	// Errors are the failures of bookkeeping (records, comments, expiry
	// pull requests), each naming its grant; the next pass retries them.
	Errors []error
	// NextAt is when the next pass should run: the next expiry or retry
	// (zero when nothing is scheduled).
	NextAt time.Time
	// PastExpiry counts grants past their expiry whose resources still
	// exist after the pass.
	PastExpiry int
}

// Written is one record a pass wrote.
type Written struct {
	Kind   trailer.EventKind
	Grant  string
	Commit string
}

// Pass runs one pass: under the pass lock it brings repo up to date, lets
// package pass apply and destroy what differs at the default branch's tip,
// and then records on the branch what happened and what an earlier pass
// left unrecorded: activations, failures, revocations, and the expiry pull
// requests of expired grants. opts narrows the pass as for jit reconcile.
//
// When a grant the last pass left live is due, its destroy comes first,
// from the copy of the branch fetched last: nothing on GitHub, not even
// the fetch, stands between an expiry and its destroy (destroying what is
// due is always safe; at worst an extension merged since the last fetch
// is applied again, with new credentials, by the same pass).
func (e *Engine) Pass(ctx context.Context, repo Repository, opts reconcile.Options) (Report, error) {
	e.passOnce.Lock()
	defer e.passOnce.Unlock()
	unlock, err := e.cfg.Lock.Lock(ctx, PassLock)
	if err != nil {
		e.overdue(ctx, repo)
		return Report{}, fmt.Errorf("waiting for the pass lock: %w", err)
	}
	defer unlock()
	e.mu.Lock()
	e.settled = nil
	e.mu.Unlock()
	var early []reconcile.Outcome
	if !opts.NoApply && e.due(e.cfg.Now()) {
		early = e.destroyDue(ctx, repo, opts)
	}
	var fetchErr error
	if err := repo.Fetch(ctx); err != nil {
		// GitHub out of reach: destroying what is due is always safe, from
		// the revision last fetched; nothing is applied until it is back.
		fetchErr = fmt.Errorf("fetching the access repository: %w", err)
		e.log.Error("fetching failed; destroying what is due as of the last fetched revision, applying nothing", "error", err)
		opts.NoApply = true
	}
	now := e.cfg.Now()
	rep := Report{Expiries: map[string]int{}}
	var ledger *Ledger
	var tip Tip
	prs := &prIndex{}
	err = repo.Read(ctx, func(r *history.Repo) error {
		var err error
		pc := e.passConfig(now, prs)
		// Without a fetch the copy may be behind grants another controller
		// applied meanwhile: those are left alone, not refused as another
		// deployment's, so what is due is still destroyed.
		pc.Behind = fetchErr != nil
		rep.Report, err = pass.RunRepo(ctx, r, pc, opts)
		rep.Result.Outcomes = append(e.stillDue(early, rep.Grants, now), rep.Result.Outcomes...)
		if err != nil {
			return err
		}
		ledger, err = ReadLedger(ctx, r, rep.Rev, rep.Grants, e.cfg.Lookback)
		if err != nil {
			return err
		}
		c, err := r.CommitInfo(rep.Rev)
		if err != nil {
			return err
		}
		tip = Tip{Commit: c.Hash, Tree: c.Tree}
		return nil
	})
	e.mu.Lock()
	for _, o := range rep.Result.Outcomes {
		if o.Action == reconcile.Destroy && o.Err == nil {
			delete(e.live, o.Grant)
		}
	}
	e.mu.Unlock()
	if err != nil {
		return rep, err
	}
	if fetchErr != nil {
		// What was destroyed is recorded by the next pass that can fetch,
		// naming its resources.
		e.mu.Lock()
		for _, o := range rep.Result.Outcomes {
			if _, waiting := e.unrecorded[o.Grant]; o.Action == reconcile.Destroy && o.Err == nil && !waiting {
				e.unrecorded[o.Grant] = unrecorded{resources: o.Resources, since: now}
			}
		}
		e.mu.Unlock()
		// The copy may miss records another controller wrote since the last
		// fetch: writing any now could write one twice. The next pass that
		// can fetch records what this one destroyed: it is due at
		// RetryBase, as a retry.
		rep.NextAt = e.next(rep, now)
		if soon := now.Add(e.cfg.RetryBase); len(rep.Result.Outcomes) > 0 && (rep.NextAt.IsZero() || soon.Before(rep.NextAt)) {
			rep.NextAt = soon
		}
		e.overdue(ctx, repo)
		return rep, fetchErr
	}
	b := &books{rep: &rep, l: ledger, tip: tip, chain: []string{tip.Commit}}
	e.bookkeep(ctx, b, now)
	rep.NextAt = e.next(rep, now)
	if soon := now.Add(e.cfg.RetryBase); b.lost != nil && (rep.NextAt.IsZero() || soon.Before(rep.NextAt)) {
		rep.NextAt = soon // the next pass writes what this one could not
	}
	e.cfg.Metrics.PastExpiry(rep.PastExpiry)
	if rep.PastExpiry > 0 {
		e.log.Warn("grants past their expiry still exist; destroys are being retried", "count", rep.PastExpiry)
	}
	e.mu.Lock()
	if b.tip.Commit != "" && len(rep.Errors) == 0 && len(rep.Result.Failed()) == 0 && len(e.unrecorded) == 0 && len(e.failing) == 0 {
		e.settled = b.chain
	}
	e.mu.Unlock()
	return rep, nil
}

// passConfig is the configuration of one run of package pass at now, whose
// credentials go to the pull requests prs learns.
func (e *Engine) passConfig(now time.Time, prs *prIndex) pass.Config {
	pc := pass.Config{
		Branch:      e.cfg.Branch,
		Provision:   e.cfg.Provision,
		NewState:    e.cfg.NewState,
		Now:         func() time.Time { return now },
		Logger:      e.log,
		Concurrency: e.cfg.Concurrency,
		OnDesired:   prs.set,
		Activated: func(ctx context.Context, r *history.Repo, st desired.State) (string, error) {
			l, err := ReadLedger(ctx, r, st.Rev, st.Grants, e.cfg.Lookback)
			if err != nil {
				return "", err
			}
			for _, g := range st.Grants {
				if en, ok := l.Activation(g.Request.ID, g.ExpiresAt); ok && en.Kind == trailer.Activated {
					return g.Request.ID, nil
				}
			}
			return "", nil
		},
		Vet: func(ctx context.Context, g desired.Grant) error {
			return e.cfg.GitHub.Merged(ctx, g.PullRequest, g.Decision)
		},
	}
	pc.Provision.Keys = keySource{e.cfg.GitHub}
	pc.Provision.Sink = &commentSink{gh: e.cfg.GitHub, prs: prs}
	return pc
}

// due reports whether a grant the last pass left live has expired by now.
func (e *Engine) due(now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, at := range e.live {
		if !now.Before(at) {
			return true
		}
	}
	return false
}

// stillDue returns the destroys of early whose grants the fetched branch
// still has expired by now. One it extended meanwhile is not revoked: this
// pass applies it again (with new credentials), and only says so here.
func (e *Engine) stillDue(early []reconcile.Outcome, grants []desired.Grant, now time.Time) []reconcile.Outcome {
	var out []reconcile.Outcome
	for _, o := range early {
		i := slices.IndexFunc(grants, func(g desired.Grant) bool { return g.Request.ID == o.Grant })
		if i >= 0 && now.Before(grants[i].ExpiresAt) {
			e.log.Warn("a grant destroyed at its expiry was extended meanwhile; it is applied again, with new credentials", "grant", o.Grant,
				"expires_at", grants[i].ExpiresAt)
			continue
		}
		out = append(out, o)
	}
	return out
}

// destroyDue destroys what is due as of the copy of the branch fetched
// last (applying nothing), and returns the destroys that succeeded: the
// pass that follows records them. A failed one is left to that pass,
// which tries it again at once.
func (e *Engine) destroyDue(ctx context.Context, repo Repository, opts reconcile.Options) []reconcile.Outcome {
	var done []reconcile.Outcome
	err := repo.Read(ctx, func(r *history.Repo) error {
		pc := e.passConfig(e.cfg.Now(), &prIndex{})
		pc.Behind = true // another controller may have applied grants merged since
		rep, err := pass.RunRepo(ctx, r, pc, reconcile.Options{NoApply: true, Grants: opts.Grants})
		for _, o := range rep.Result.Outcomes {
			if o.Action == reconcile.Destroy && o.Err == nil {
				done = append(done, o)
			}
		}
		return err
	})
	if err != nil {
		e.log.Error("destroying what is due before fetching failed; the pass goes on and tries again", "error", err)
	}
	return done
}

// overdue makes a pass that could not run (its lock or GitHub out of
// reach) still visible: from the local copy of the branch alone it counts
// the verified grants past their expiry whose revocation is not recorded,
// sets the gauge and warns. (Their targets refuse them anyway once their own
// expiry passes.)
func (e *Engine) overdue(ctx context.Context, repo Repository) {
	now := e.cfg.Now()
	var late []string
	err := repo.Read(ctx, func(r *history.Repo) error {
		tip, err := pass.Tip(ctx, r, e.cfg.Branch, "")
		if err != nil {
			return err
		}
		st, err := desired.Read(ctx, desired.FromHistory(r), tip)
		if err != nil {
			return err
		}
		l, err := ReadLedger(ctx, r, tip, st.Grants, e.cfg.Lookback)
		if err != nil {
			return err
		}
		for _, g := range st.Grants {
			if now.Before(g.ExpiresAt) {
				continue
			}
			if en, ok := l.Revocation(g.Request.ID); !ok || en.Kind != trailer.Revoked {
				late = append(late, g.Request.ID)
			}
		}
		return nil
	})
	if err != nil {
		e.log.Error("a pass could not run, nor could the grants past their expiry be counted", "error", err)
		return
	}
	e.cfg.Metrics.PastExpiry(len(late))
	if len(late) > 0 {
		e.log.Warn("a pass could not run while grants are past their expiry and not revoked", "grants", late)
	}
}

// bookkeep writes what the pass did, and heals what earlier passes left.
func (e *Engine) bookkeep(ctx context.Context, b *books, now time.Time) {
	rep, l := b.rep, b.l
	grants := map[string]desired.Grant{}
	for _, g := range rep.Grants {
		grants[g.Request.ID] = g
	}
	// What exists, by grant: a workspace that lost its record (a destroy
	// that failed halfway) still belongs to the grant whose workspace it is,
	// which must not be taken for revoked while it remains.
	exists := map[string]reconcile.Actual{}
	for _, a := range rep.Actual {
		id := a.Grant
		if id == "" {
			for gid := range grants {
				if render.IsWorkspaceOf(a.Workspace, gid) {
					id = gid
				}
			}
		}
		if id != "" {
			exists[id] = a
		}
	}
	acted := map[string]bool{}
	for _, o := range rep.Result.Outcomes {
		if o.Grant == "" {
			continue
		}
		acted[o.Grant] = true
		g, live := grants[o.Grant]
		switch o.Action {
		case reconcile.Apply, reconcile.Reassert:
			if o.Err != nil && o.Action == reconcile.Reassert {
				// The access is live; only re-asserting it failed. Not an
				// activation failure: logged, and retried by the next
				// drift pass.
				e.retryLater(o.Grant)
				e.log.Error("re-asserting a live grant failed", "grant", o.Grant, "error", scrub(o.Err.Error()))
				continue
			}
			if o.Err != nil {
				exists[o.Grant] = reconcile.Actual{Grant: o.Grant}
				e.failed(ctx, b, g, trailer.ActivationFailed, o.Err)
				continue
			}
			e.succeeded(o.Grant)
			exists[o.Grant] = reconcile.Actual{Grant: o.Grant, Complete: true, ExpiresAt: g.ExpiresAt}
			if a, ok := l.Activation(o.Grant, g.ExpiresAt); !ok || a.Kind != trailer.Activated {
				e.record(ctx, b, trailer.Event{Kind: trailer.Activated, Grants: []string{o.Grant}, Resources: o.Resources, ExpiresAt: g.ExpiresAt})
			}
		case reconcile.Destroy:
			if o.Err != nil {
				if _, ok := exists[o.Grant]; !ok {
					exists[o.Grant] = reconcile.Actual{Grant: o.Grant, Workspace: o.Workspace}
				}
				e.failed(ctx, b, g, trailer.RevokeFailed, o.Err)
				continue
			}
			e.succeeded(o.Grant)
			delete(exists, o.Grant)
			if live {
				e.cfg.Metrics.Revoked(now.Sub(g.ExpiresAt))
			}
			e.revoked(ctx, b, o.Grant, o.Resources, live, g)
		}
	}
	// Heal what an earlier pass (or a controller that stopped between two
	// steps) left: every state of the target has its record.
	ids := make([]string, 0, len(grants))
	for id := range grants {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		g := grants[id]
		if acted[id] {
			continue
		}
		a, has := exists[id]
		expired := !now.Before(g.ExpiresAt)
		switch {
		case !expired && has && a.Complete:
			if en, ok := l.Activation(id, g.ExpiresAt); !ok || en.Kind != trailer.Activated {
				e.record(ctx, b, trailer.Event{Kind: trailer.Activated, Grants: []string{id}, ExpiresAt: g.ExpiresAt})
			}
		case expired && !has:
			e.revoked(ctx, b, id, nil, true, g)
		}
	}
	removed := l.Removed()
	rids := make([]string, 0, len(removed))
	for id := range removed {
		rids = append(rids, id)
	}
	sort.Strings(rids)
	for _, id := range rids {
		if _, live := grants[id]; live || acted[id] {
			continue
		}
		if _, has := exists[id]; has {
			continue // its destroy failed or is yet to come
		}
		if en, ok := l.Revocation(id); !ok || en.Kind != trailer.Revoked {
			e.recordRevoked(ctx, b, id, nil)
		} else {
			e.mu.Lock()
			delete(e.unrecorded, id)
			e.mu.Unlock()
		}
	}
	// A revocation left for later whose grant is neither on the branch nor
	// removed within the ledger's window cannot be recorded by a pass: drop it.
	e.mu.Lock()
	for id := range e.unrecorded {
		if _, on := grants[id]; !on && removed[id] == "" {
			delete(e.unrecorded, id)
		}
	}
	e.mu.Unlock()
	for _, a := range rep.Anomalies {
		e.flag(ctx, b, a)
	}
	// A streak ends with a pass in which nothing failed for its grant (a
	// grant gone from the branch and the state has nothing left to retry).
	e.mu.Lock()
	for id := range e.failing {
		if !e.failedNow[id] {
			delete(e.failing, id)
		}
	}
	clear(e.failedNow)
	e.mu.Unlock()
	e.mu.Lock()
	clear(e.live)
	for id := range exists {
		if g, ok := grants[id]; ok && now.Before(g.ExpiresAt) {
			e.live[id] = g.ExpiresAt
		}
	}
	e.mu.Unlock()
	for id, a := range exists {
		g, ok := grants[id]
		switch {
		case ok && !now.Before(g.ExpiresAt):
			rep.PastExpiry++
		case !ok && (a.ExpiresAt.IsZero() || !now.Before(a.ExpiresAt)):
			// Its file is gone (revoked early) or its expiry unknown: it
			// should not exist any more.
			rep.PastExpiry++
		}
	}
}

// revoked finishes a grant whose resources are gone: for an expired grant
// whose file is still on the branch, the expiry pull request; then the
// revoked record, once. When this call opened the expiry pull request, the
// record is left to the next pass (the one its merge's push brings, or the
// one due at RetryBase), which writes it with these resources.
func (e *Engine) revoked(ctx context.Context, b *books, id string, resources []string, onBranch bool, g desired.Grant) {
	if resources == nil {
		e.mu.Lock()
		resources = e.unrecorded[id].resources // a destroy this process did but could not record
		e.mu.Unlock()
	}
	if onBranch && e.expiryDue(id) {
		if !e.holdsLock(ctx, b) {
			return
		}
		r := e.expiry(g)
		r.Base, r.BaseTree = b.tip.Commit, b.tip.Tree
		n, err := e.cfg.GitHub.Expire(ctx, r)
		if err != nil {
			b.rep.Errors = append(b.rep.Errors, fmt.Errorf("grant %s: opening its expiry pull request: %w", id, err))
			e.retryLater(id)
			e.log.Error("opening the expiry pull request failed; the next pass retries", "grant", id, "error", err)
		} else {
			b.rep.Expiries[id] = n
			// GitHub may have merged it already, moving the branch: the
			// next record reads the tip rather than fail on the old one.
			b.tip = Tip{}
			now := e.cfg.Now()
			e.mu.Lock()
			e.expiring[id] = now
			if en, ok := b.l.Revocation(id); !ok || en.Kind != trailer.Revoked {
				// The record waits for the expiry's merge: the pass its
				// push brings knows the branch's new tip and tree, which
				// a record written now would first have to ask GitHub
				// for. Should the merge not come, the pass due at
				// RetryBase records it on the branch as it is.
				e.unrecorded[id] = unrecorded{resources: resources, since: now}
				e.mu.Unlock()
				return
			}
			e.mu.Unlock()
		}
	}
	if en, ok := b.l.Revocation(id); ok && en.Kind == trailer.Revoked {
		e.mu.Lock()
		delete(e.unrecorded, id)
		e.mu.Unlock()
		return
	}
	e.recordRevoked(ctx, b, id, resources)
}

// recordRevoked writes grant id's revoked record, naming resources, or the
// resources of its destroy when the record was left for later.
func (e *Engine) recordRevoked(ctx context.Context, b *books, id string, resources []string) {
	e.mu.Lock()
	u, ok := e.unrecorded[id]
	e.mu.Unlock()
	if ok && resources == nil {
		resources = u.resources
	}
	if resources == nil {
		// Destroyed by a process that stopped before recording it: the
		// destroy removed what the activation created.
		resources = b.l.ActivatedResources(id)
	}
	if e.record(ctx, b, trailer.Event{Kind: trailer.Revoked, Grants: []string{id}, Resources: resources}) {
		e.mu.Lock()
		delete(e.unrecorded, id)
		e.mu.Unlock()
	}
}

// failed records the first failure of a streak (activation-failed or
// revoke-failed), says so on the grant's pull request, and schedules the
// retry.
func (e *Engine) failed(ctx context.Context, b *books, g desired.Grant, kind trailer.EventKind, cause error) {
	id := g.Request.ID
	next := e.retryLater(id)
	msg := trailer.OneLine(scrub(cause.Error()))
	var last Entry
	var ok bool
	if kind == trailer.ActivationFailed {
		last, ok = b.l.Activation(id, g.ExpiresAt)
	} else {
		last, ok = b.l.Revocation(id)
	}
	if ok && last.Kind == kind {
		return // this streak is recorded already
	}
	ev := trailer.Event{Kind: kind, Grants: []string{id}, Error: msg}
	if kind == trailer.ActivationFailed {
		ev.ExpiresAt = g.ExpiresAt
	}
	e.record(ctx, b, ev)
	if g.PullRequest > 0 {
		body := failureComment(kind, id, msg, next)
		if err := e.cfg.GitHub.Comment(ctx, g.PullRequest, body); err != nil {
			e.log.Error("telling the pull request of a failure failed", "grant", id, "pull_request", g.PullRequest, "error", err)
		}
	}
}

// expiryDue reports whether grant id's expiry pull request should be
// opened or looked at again.
func (e *Engine) expiryDue(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	at, ok := e.expiring[id]
	return !ok || e.cfg.Now().Sub(at) >= e.cfg.RetryMax
}

// retryLater lengthens grant id's failure streak and returns when the next
// pass should try it again: backoff from RetryBase, doubled per attempt, at
// most RetryMax apart.
func (e *Engine) retryLater(id string) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failedNow[id] = true
	f := e.failing[id]
	if f == nil {
		f = &failure{}
		e.failing[id] = f
	}
	f.attempts++
	f.next = e.cfg.Now().Add(backoff(e.cfg.RetryBase, e.cfg.RetryMax, f.attempts))
	return f.next
}

// succeeded ends a grant's failure streak.
func (e *Engine) succeeded(id string) {
	e.mu.Lock()
	delete(e.failing, id)
	e.mu.Unlock()
}

// record writes one signed controller commit for ev and notes it in l; it
// reports whether the record was written.
func (e *Engine) record(ctx context.Context, b *books, ev trailer.Event) bool {
	id := ev.Grants[0]
	if !e.holdsLock(ctx, b) {
		return false
	}
	var onto string
	sha, err := e.cfg.GitHub.Record(ctx, b.tip, func(parent string) (string, error) {
		onto = parent
		ev := ev
		ev.Parent = parent
		ts, err := ev.Trailers()
		if err != nil {
			return "", err
		}
		signed, err := trailer.Sign(ts, e.cfg.Signer)
		if err != nil {
			return "", fmt.Errorf("signing the record: %w", err)
		}
		return recordTitle(ev) + "\n\n" + recordBody(ev) + "\n\n" + trailer.Format(signed), nil
	})
	e.cfg.Metrics.Recorded(ev.Kind, err)
	if err != nil {
		b.rep.Errors = append(b.rep.Errors, fmt.Errorf("grant %s: recording %s: %w", id, ev.Kind, err))
		e.retryLater(id)
		e.log.Error("recording failed; the next pass records it", "grant", id, "event", ev.Kind, "error", err)
		return false
	}
	b.l.Note(id, Entry{Kind: ev.Kind, Commit: sha, ExpiresAt: ev.ExpiresAt, Error: ev.Error})
	if onto == b.tip.Commit {
		// A record changes no file: the next one goes on top, same tree.
		b.tip.Commit = sha
		b.chain = append(b.chain, sha)
	} else {
		// The branch had moved (a merge meanwhile): the record went on
		// another tip, whose tree the pass does not know. The next record
		// reads the tip and its tree afresh, or it would put back files
		// that merge changed.
		b.tip = Tip{}
	}
	b.rep.Records = append(b.rep.Records, Written{Kind: ev.Kind, Grant: id, Commit: sha})
	e.log.Info("recorded", "grant", id, "event", ev.Kind, "commit", sha)
	return true
}

// holdsLock reports whether the pass still holds PassLock, asking the
// Locker before each write to GitHub that another controller could also be
// making. Once it is lost the pass writes nothing more: it logs the loss
// once, reports it as an error and leaves the rest to the next pass, which
// takes the lock again and reads what others wrote meanwhile.
func (e *Engine) holdsLock(ctx context.Context, b *books) bool {
	if b.lost != nil {
		return false
	}
	if err := e.cfg.Lock.Holds(ctx, PassLock); err != nil {
		b.lost = err
		b.rep.Errors = append(b.rep.Errors, fmt.Errorf("the pass lock was lost; this pass writes nothing more and the next one finishes its work: %w", err))
		e.log.Error("the pass lock was lost while the pass held it (another controller may act now); this pass writes no more records or expiry pull requests", "error", err)
		return false
	}
	return true
}

// flag reports a grant file that is never applied: in the log, in metrics,
// and as a failed commit status on the commit that shows it (once per
// process and commit).
func (e *Engine) flag(ctx context.Context, b *books, a desired.Anomaly) {
	e.mu.Lock()
	done := e.flagged[a.Commit+"\x00"+a.File]
	e.flagged[a.Commit+"\x00"+a.File] = true
	e.mu.Unlock()
	if done {
		return // counted, logged and flagged by this process already
	}
	e.cfg.Metrics.Anomaly(a.Kind)
	e.log.Warn("a grant file on the default branch is never applied", "kind", a.Kind, "file", a.File, "commit", a.Commit, "why", a.Message)
	if a.Commit == "" {
		return
	}
	if err := e.cfg.GitHub.Flag(ctx, a.Commit, fmt.Sprintf("%s is never applied: %s", a.File, a.Kind)); err != nil {
		e.mu.Lock()
		delete(e.flagged, a.Commit+"\x00"+a.File)
		e.mu.Unlock()
		b.rep.Errors = append(b.rep.Errors, fmt.Errorf("flagging %s at %s: %w", a.File, short(a.Commit), err))
	}
}

// books is what bookkeeping works on: the pass's report, the ledger of
// records, and the branch's tip as the pass last wrote it.
type books struct {
	rep *Report
	l   *Ledger
	tip Tip
	// lost is why the pass lock is no longer held, once a write found it
	// so: the pass writes nothing more, since another controller may be
	// writing the same records.
	lost error
	// chain is the revision read and the records written on it, while
	// nothing else moved the branch.
	chain []string
}

// next is when the next pass should run.
func (e *Engine) next(rep Report, now time.Time) time.Time {
	var at time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	for _, g := range rep.Grants {
		if now.Before(g.ExpiresAt) {
			earlier(g.ExpiresAt)
		}
	}
	e.mu.Lock()
	if len(e.unrecorded) > 0 {
		// A record waiting for a merge: RetryBase from now, the soonest a
		// retry runs (below).
		earlier(now.Add(e.cfg.RetryBase))
	}
	for _, f := range e.failing {
		// Never sooner than RetryBase: a retry time already past must not
		// make passes run back to back.
		at := f.next
		if floor := now.Add(e.cfg.RetryBase); at.Before(floor) {
			at = floor
		}
		earlier(at)
	}
	e.mu.Unlock()
	return at
}

// backoff is base doubled per attempt, at most max.
func backoff(base, max time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}

type noMetrics struct{}

func (noMetrics) Revoked(time.Duration)             {}
func (noMetrics) PastExpiry(int)                    {}
func (noMetrics) Recorded(trailer.EventKind, error) {}
func (noMetrics) Anomaly(desired.Kind)              {}

// secretish are the shapes of secrets an error of terraform or psql may
// carry: a SCRAM verifier, a connection URL's password, a keyword
// connection string's password.
var secretish = []*regexp.Regexp{
	regexp.MustCompile(`SCRAM-SHA-256\$[^\s'"]+`),
	regexp.MustCompile(`(?i)(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@`),
	regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`),
}

// scrub removes secrets from text bound for a record or a comment, which
// everyone who can read the repository sees.
func scrub(text string) string {
	text = secretish[0].ReplaceAllString(text, "SCRAM-SHA-256$…")
	text = secretish[1].ReplaceAllString(text, "${1}…@")
	return secretish[2].ReplaceAllString(text, "${1}…")
}
