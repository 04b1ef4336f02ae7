// Package pass runs one reconcile pass over a local clone of the access
// repository: it reads the desired state at a revision of the default branch
// (package desired: only grants with a verified decision), opens the
// workspace manager on that same revision's templates (package provision),
// and lets package reconcile apply, re-assert or destroy the difference.
// jit apply, jit reconcile and, later, jit expire and the App are thin over
// it, so they all provision from the same rule.
package pass

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/reconcile"
	"github.com/jitops/jit/controller/render"
)

// Config says where the grants and their state are.
type Config struct {
	// Repo is the directory of a clone of the access repository.
	Repo string
	// Branch is the default branch's name. Its tip is read from the clone's
	// refs/remotes/origin/Branch or refs/heads/Branch (never a tag, never
	// any other revision): the newer of the two when one descends from the
	// other, an error when they diverge.
	Branch string
	// Rev, when set, is the full hash the caller expects that tip to be (the
	// App passes what it fetched); a different tip is an error, so a pass
	// never goes back to an older revision.
	Rev string
	// Provision configures the workspace manager; its Templates are set to
	// the tree of Rev, whatever they were.
	Provision provision.Config
	// NewState acknowledges that the state backend has never been used by
	// jit although the branch holds grants (the first pass of a new
	// deployment). Without it such a pass is refused: it is more likely a
	// mistyped or missing state location, which would never destroy what
	// the real state holds.
	NewState bool
	// Now is the clock that decides expiry (default time.Now).
	Now func() time.Time
	// Logger receives the reconciler's and the manager's lines; nil discards.
	Logger *slog.Logger
	// Concurrency bounds the grant actions run at once (default 4).
	Concurrency int
	// OnDesired, when set, is called with the desired state once it is
	// read, before anything is applied or destroyed (the App learns from it
	// which pull request each grant's credentials go to).
	OnDesired func(desired.State)
	// Activated, when set, says which verified grant of st the branch
	// records as activated ("" for none). A state that jit never used is
	// then refused even with NewState when git proves the grants were
	// applied before: that state is elsewhere.
	Activated func(context.Context, *history.Repo, desired.State) (string, error)
	// Vet, when set, is asked before each apply of a grant whose workspace
	// is missing, incomplete or applied with another expiry; an error fails
	// that apply (nothing is created) and the next pass asks again. The
	// App checks with GitHub that the grant's decision is the merge of its
	// pull request.
	Vet func(context.Context, desired.Grant) error
	// Behind says the copy read may be older than the state: another
	// controller may have applied grants merged since this copy was
	// fetched. Workspaces of grants the copy never saw are then left alone
	// (listed in Report.Unseen) instead of refusing the pass as another
	// deployment's. Only destroy-only passes (reconcile.Options.NoApply) may
	// set it: a pass that applies must read the current branch.
	Behind bool
}

// Report is what a pass found and did.
type Report struct {
	// Rev is the full hash read.
	Rev string
	// Result lists every action and how it went.
	Result reconcile.Result
	// Grants are the verified grants at Rev, expired ones included.
	Grants []desired.Grant
	// Anomalies are the grant files at Rev that are never applied, and why.
	Anomalies []desired.Anomaly
	// Unknown are the ids named in the options that are neither verified
	// grants at Rev nor recorded in the state.
	Unknown []string
	// Unseen are grants with a workspace that the copy read never saw
	// (Config.Behind): left alone by this pass.
	Unseen []string
	// Actual are the workspaces found before the pass acted.
	Actual []reconcile.Actual
}

// ErrUnusedState means the state backend was never used by jit while the
// branch holds grants; see Config.NewState.
var ErrUnusedState = errors.New("the state has never held a jit grant")

// Run performs one pass with opts. The error is for what stops the pass
// (an unreadable repository or state, an unused state without NewState);
// anomalies and failures of single grants are in the Report.
func Run(ctx context.Context, cfg Config, opts reconcile.Options) (Report, error) {
	repo, err := history.Open(cfg.Repo)
	if err != nil {
		return Report{}, err
	}
	defer repo.Close()
	return RunRepo(ctx, repo, cfg, opts)
}

// RunRepo is Run over a repository the caller has opened (the App's
// mirror, read under its lock); cfg.Repo is ignored.
func RunRepo(ctx context.Context, repo *history.Repo, cfg Config, opts reconcile.Options) (Report, error) {
	tip, err := Tip(ctx, repo, cfg.Branch, cfg.Rev)
	if err != nil {
		return Report{}, err
	}
	st, err := desired.Read(ctx, desired.FromHistory(repo), tip)
	if err != nil {
		return Report{}, fmt.Errorf("reading the grants at %s: %w", short(tip), err)
	}
	rep := Report{Rev: st.Rev, Grants: st.Grants, Anomalies: st.Anomalies}
	if cfg.OnDesired != nil {
		cfg.OnDesired(st)
	}
	m, err := newManager(cfg, st.Tree)
	if err != nil {
		return rep, err
	}
	if len(st.Grants) > 0 && (!cfg.NewState || cfg.Activated != nil) {
		used, err := m.Used(ctx)
		if err != nil {
			return rep, fmt.Errorf("reading the state %s: %w", m.Backend(), err)
		}
		switch {
		case used:
		case !cfg.NewState:
			return rep, fmt.Errorf("%w: %s holds no jit workspace and never did, but %s has %d verified grants: check --state; on the first pass of a new deployment, say so with --new-state", ErrUnusedState, m.Backend(), short(st.Rev), len(st.Grants))
		default:
			// --new-state, but git proves a state held these grants before:
			// this one is not it (a --new-state left on, or a wrong --state).
			id, err := cfg.Activated(ctx, repo, st)
			if err != nil {
				return rep, err
			}
			if id != "" {
				return rep, fmt.Errorf("%w: %s holds no jit workspace and never did, but the default branch records that grant %s was activated, so the grants' state is elsewhere: check --state, and drop --new-state (JIT_NEW_STATE) once a deployment's first pass is done", ErrUnusedState, m.Backend(), id)
			}
		}
	}
	actual, err := provisioner{m: m}.Actual(ctx)
	if err != nil {
		return rep, fmt.Errorf("reading the grants that exist: %w", err)
	}
	if cfg.Behind {
		if !opts.NoApply {
			return rep, errors.New("a pass over a copy that may be behind the state must not apply: set NoApply")
		}
		if actual, rep.Unseen, err = withoutUnseen(ctx, repo, st.Rev, actual); err != nil {
			return rep, err
		}
	} else if err := sameDeployment(ctx, repo, st.Rev, m, actual); err != nil {
		return rep, err
	}
	rep.Actual = actual
	prov := provisioner{m: m, actual: actual, read: true, vet: cfg.Vet, grants: map[string]desired.Grant{}}
	for _, g := range st.Grants {
		prov.grants[g.Request.ID] = g
	}
	if len(opts.Grants) > 0 {
		rep.Unknown = unknown(opts.Grants, st, actual)
	}
	r := reconcile.New(source(st.Grants), prov, cfg.Logger)
	if cfg.Now != nil {
		r.Now = cfg.Now
	}
	if cfg.Concurrency > 0 {
		r.Concurrency = cfg.Concurrency
	}
	rep.Result, err = r.RunWith(ctx, opts)
	return rep, err
}

// newManager opens the workspace manager of cfg on the templates in tree,
// a tree read from git (serialised: the manager reads it concurrently).
func newManager(cfg Config, tree fs.FS) (*provision.Manager, error) {
	pc := cfg.Provision
	pc.Templates = newLockedFS(tree)
	if pc.Logger == nil {
		pc.Logger = cfg.Logger
	}
	return provision.New(pc)
}

// unknown returns the ids that are neither verified grants nor in the state.
func unknown(ids []string, st desired.State, actual []reconcile.Actual) []string {
	known := map[string]bool{}
	for _, g := range st.Grants {
		known[g.Request.ID] = true
	}
	for _, a := range actual {
		known[a.Grant] = true
	}
	var out []string
	for _, id := range ids {
		if !known[id] && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// ErrOtherDeployment means the state holds workspaces of grants the
// repository never had: --repo or --state names another deployment.
var ErrOtherDeployment = errors.New("the state belongs to another access repository")

// sameDeployment refuses a state holding workspaces of grants that never
// existed on the branch: a pass would take them for removed grants and
// destroy them all.
func sameDeployment(ctx context.Context, repo *history.Repo, tip string, m *provision.Manager, actual []reconcile.Actual) error {
	foreign, err := unseen(ctx, repo, tip, actual)
	if err != nil {
		return err
	}
	if len(foreign) > 0 {
		sort.Strings(foreign)
		return fmt.Errorf("%w: %s holds workspaces of grants that never existed on %s (%s): check --repo and --state; nothing was done", ErrOtherDeployment, m.Backend(), short(tip), strings.Join(foreign, ", "))
	}
	return nil
}

// unseen returns the grant ids of actual that never existed on the branch
// at tip, sorted.
func unseen(ctx context.Context, repo *history.Repo, tip string, actual []reconcile.Actual) ([]string, error) {
	var ids []string
	for _, a := range actual {
		if a.Grant != "" {
			ids = append(ids, a.Grant)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	ever, err := repo.EverExisted(ctx, tip)
	if err != nil {
		return nil, fmt.Errorf("reading the grant ids of %s: %w", short(tip), err)
	}
	var out []string
	for _, id := range ids {
		if _, ok := ever[id]; !ok {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out, nil
}

// withoutUnseen drops from actual the workspaces of grants that never
// existed on the branch at tip, returning them apart.
func withoutUnseen(ctx context.Context, repo *history.Repo, tip string, actual []reconcile.Actual) ([]reconcile.Actual, []string, error) {
	ids, err := unseen(ctx, repo, tip, actual)
	if err != nil || len(ids) == 0 {
		return actual, nil, err
	}
	drop := map[string]bool{}
	for _, id := range ids {
		drop[id] = true
	}
	kept := make([]reconcile.Actual, 0, len(actual))
	for _, a := range actual {
		if !drop[a.Grant] {
			kept = append(kept, a)
		}
	}
	return kept, ids, nil
}

// Tip returns the full hash of the default branch's tip in repo: the newer
// of refs/remotes/origin/<branch> and refs/heads/<branch> (never a tag or
// any other revision syntax), an error when they diverge or when want (a
// full hash, optional) is not that tip.
func Tip(ctx context.Context, repo *history.Repo, branch, want string) (string, error) {
	if branch == "" || strings.HasPrefix(branch, "refs/") || strings.ContainsAny(branch, "^~:@{}\\ ") || strings.HasPrefix(branch, "-") {
		return "", fmt.Errorf("default branch %q is not a branch name", branch)
	}
	local, lerr := repo.Resolve("refs/heads/" + branch)
	remote, rerr := repo.Resolve("refs/remotes/origin/" + branch)
	var tip string
	switch {
	case lerr != nil && rerr != nil:
		return "", fmt.Errorf("the clone has no branch %s (looked for refs/heads/%s and refs/remotes/origin/%s)", branch, branch, branch)
	case rerr != nil:
		tip = local
	case lerr != nil, local == remote:
		tip = remote
	default:
		behind, err := repo.IsAncestor(ctx, local, remote)
		if err != nil {
			return "", err
		}
		ahead, err := repo.IsAncestor(ctx, remote, local)
		if err != nil {
			return "", err
		}
		switch {
		case behind:
			tip = remote
		case ahead:
			return "", fmt.Errorf("local %s (%s) has commits that origin/%s (%s) does not: jit reconciles what the server has; reset %s to origin/%s", branch, short(local), branch, short(remote), branch, branch)
		default:
			return "", fmt.Errorf("local %s (%s) and origin/%s (%s) have diverged: reset %s to origin/%s", branch, short(local), branch, short(remote), branch, branch)
		}
	}
	if want != "" && want != tip {
		return "", fmt.Errorf("--rev %s is not the tip of %s (%s): a pass only reconciles the default branch's tip, never an older revision; fetch, or leave --rev out", want, branch, short(tip))
	}
	return tip, nil
}

// source serves the verified grants of one desired state.
type source []desired.Grant

func (s source) Desired(context.Context) ([]reconcile.Desired, error) {
	out := make([]reconcile.Desired, len(s))
	for i, g := range s {
		out[i] = reconcile.Desired{Request: g.Request, ExpiresAt: g.ExpiresAt}
	}
	return out, nil
}

// provisioner adapts the workspace manager to what reconcile needs. When
// read is set, Actual returns actual (read once by Run).
type provisioner struct {
	m      *provision.Manager
	actual []reconcile.Actual
	read   bool
	vet    func(context.Context, desired.Grant) error
	grants map[string]desired.Grant
}

func (p provisioner) Actual(ctx context.Context) ([]reconcile.Actual, error) {
	if p.read {
		return p.actual, nil
	}
	ws, err := p.m.Workspaces(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]reconcile.Actual, len(ws))
	for i, w := range ws {
		out[i] = reconcile.Actual{Workspace: w.Name, Grant: w.Grant, Complete: w.Complete, ExpiresAt: w.ExpiresAt}
	}
	return out, nil
}

func (p provisioner) Apply(ctx context.Context, d reconcile.Desired) ([]string, error) {
	if p.vet != nil {
		if err := p.vet(ctx, p.grants[d.Request.ID]); err != nil {
			return nil, err
		}
	}
	a, err := p.m.Apply(ctx, d.Request, d.ExpiresAt)
	return a.Resources, err
}

func (p provisioner) Reassert(ctx context.Context, d reconcile.Desired) ([]string, error) {
	a, err := p.m.Reassert(ctx, d.Request, d.ExpiresAt)
	return a.Resources, err
}

func (p provisioner) Destroy(ctx context.Context, a reconcile.Actual) ([]string, error) {
	var d provision.Destroyed
	var err error
	id := a.Grant
	if id == "" {
		// A workspace that lost its record: a grant still on the branch
		// whose workspace it is can finish the destroy.
		for gid := range p.grants {
			if render.IsWorkspaceOf(a.Workspace, gid) {
				id = gid
			}
		}
	}
	g, known := p.grants[id]
	switch {
	case known:
		d, err = p.m.DestroyGrant(ctx, g.Request, g.ExpiresAt)
	case id != "":
		d, err = p.m.Destroy(ctx, id)
	default:
		d, err = p.m.DestroyWorkspace(ctx, a.Workspace)
	}
	return d.Resources, err
}

var (
	_ reconcile.Provisioner = provisioner{}
	_ reconcile.Source      = source(nil)
)

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Manager opens the workspace manager on the templates of cfg.Rev, for
// commands that act on the state directly (jit destroy). close releases the
// repository; the manager must not be used after it.
func Manager(ctx context.Context, cfg Config) (m *provision.Manager, close func() error, err error) {
	repo, err := history.Open(cfg.Repo)
	if err != nil {
		return nil, nil, err
	}
	rev, err := Tip(ctx, repo, cfg.Branch, cfg.Rev)
	var tree fs.FS
	if err == nil {
		tree, err = repo.FS(rev)
	}
	if err == nil {
		m, err = newManager(cfg, tree)
	}
	if err != nil {
		repo.Close()
		return nil, nil, err
	}
	return m, repo.Close, nil
}
