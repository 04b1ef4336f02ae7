package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/appmetrics"
	"github.com/jitops/jit/controller/coord"
	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/lifecycle"
	"github.com/jitops/jit/controller/render"
)

// stateNone is the --state of a jit serve that only handles pull requests,
// leaving the default branch to jit expire in GitHub Actions.
const stateNone = "none"

// lifecycleFlags are the settings of the default-branch side, shared by
// jit serve and jit expire.
type lifecycleFlags struct {
	state, targets, terraform, workDir, newState, concurrency, timeout *setting
}

func addLifecycleFlags(ss settings, serve bool) *lifecycleFlags {
	stateUsage := "state backend `SPEC` of the grants' terraform workspaces: local:DIR or pg:CONNSTR"
	if serve {
		stateUsage += ", or none to only handle pull requests (then jit expire in GitHub Actions applies and expires grants)"
	}
	return &lifecycleFlags{
		state:       ss.add("state", "JIT_STATE", "", stateUsage),
		targets:     ss.add("targets", targetsEnv, "", "`FILE` declaring the named targets grants are applied to (see README \"Targets\"); without it, grants bound to a target fail"),
		terraform:   ss.add("terraform", "JIT_TERRAFORM", "", "terraform binary `PATH` (default: terraform on PATH; ≥ 1.5)"),
		workDir:     ss.add("work-dir", "JIT_WORK_DIR", "", "`DIR` caching initialised templates (default DATA-DIR/work; safe to delete)"),
		newState:    ss.add("new-state", "JIT_NEW_STATE", "false", "`BOOL`: the first run of a new deployment may use a state that never held a jit workspace although the default branch has grants"),
		concurrency: ss.add("concurrency", "JIT_CONCURRENCY", "4", "grants applied or destroyed at once (`N`)"),
		timeout:     ss.add("terraform-timeout", "JIT_TERRAFORM_TIMEOUT", "10m", "limit for each terraform command (`DURATION`)"),
	}
}

// lifecycleConfig is the resolved default-branch configuration; zero State
// means pull requests only.
type lifecycleConfig struct {
	State   string
	Backend render.Backend
	// Targets is the targets file ("" for none), checked at start.
	Targets     string
	Terraform   string
	WorkDir     string
	NewState    bool
	Concurrency int
	Timeout     time.Duration
}

// check validates the settings into p, each problem naming its setting.
func (f *lifecycleFlags) check(getenv func(string) string, dataDir string, serve bool, p *problems) lifecycleConfig {
	var c lifecycleConfig
	switch spec := f.state.get(getenv); {
	case spec == "" && serve:
		p.missing(f.state, "give local:DIR or pg:CONNSTR where the grants' terraform state lives, or none if jit expire in GitHub Actions applies and expires grants")
	case spec == "":
		p.missing(f.state, "give local:DIR or pg:CONNSTR where the grants' terraform state lives")
	case spec == stateNone && serve:
		c.State = ""
	default:
		b, err := render.ParseState(spec)
		switch {
		case err == nil:
			c.State, c.Backend = spec, b
		case strings.HasPrefix(spec, "local:"):
			p.add(f.state, "%s", strings.TrimPrefix(err.Error(), "--state "))
		default:
			// The value may be a connection string with a password: never
			// shown.
			what := "local:DIR or pg:CONNSTR"
			if serve {
				what += ", or none"
			}
			p.add(f.state, "the value (not shown: it may hold a password) is not %s; pg: needs a connection string, such as pg:postgres://jit@db.internal/jit", what)
		}
	}
	if file := f.targets.get(getenv); file != "" {
		if _, err := loadTargets(file, getenv); err != nil {
			p.add(f.targets, "%v", strings.TrimPrefix(err.Error(), "--targets ("+targetsEnv+"): "))
		} else {
			c.Targets = file
		}
	}
	c.Terraform = f.terraform.get(getenv)
	c.WorkDir = f.workDir.get(getenv)
	if c.WorkDir == "" && dataDir != "" {
		c.WorkDir = filepath.Join(dataDir, "work")
	}
	if raw := f.newState.get(getenv); raw != "" {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			p.add(f.newState, "%q is not true or false", raw)
		}
		c.NewState = b
	}
	c.Concurrency = atLeastOne(f.concurrency, getenv, p, "give the number of grants applied at once, such as 4")
	if raw := f.timeout.get(getenv); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			p.add(f.timeout, "%q is not a positive duration; give one such as 10m", raw)
		}
		c.Timeout = d
	}
	return c
}

// openLifecycle builds the default-branch side over the App's client and
// mirror: the workspace manager, the lock that keeps passes of several
// controllers apart (the local state directory's, or PostgreSQL advisory
// locks in the pg state's database), and the engine. close releases the
// lock.
func openLifecycle(ctx context.Context, c lifecycleConfig, gh *ghapi.Client, branch, repoDir string, signer ssh.Signer,
	metrics *appmetrics.Metrics, log *slog.Logger, at time.Time) (e *lifecycle.Engine, co coord.Coordinator, err error) {
	pf := provisionFlags{repo: repoDir, branch: branch, state: c.State, workDir: c.WorkDir, terraform: c.Terraform,
		concurrency: c.Concurrency, timeout: c.Timeout, targets: c.Targets}
	pc, err := pf.provision(log)
	if err != nil {
		return nil, nil, err
	}
	co, err = openCoord(ctx, c.Backend, log)
	if err != nil {
		return nil, nil, err
	}
	lc := lifecycle.Config{Branch: branch, Signer: signer, GitHub: lifecycle.NewGitHub(gh, branch), Lock: co,
		Provision: pc, NewState: c.NewState, Logger: log, Concurrency: c.Concurrency}
	if metrics != nil {
		lc.Metrics = appmetrics.Lifecycle{M: metrics}
	}
	if !at.IsZero() {
		lc.Now = func() time.Time { return at }
	}
	e, err = lifecycle.New(lc)
	if err != nil {
		return nil, nil, errors.Join(err, co.Close())
	}
	return e, co, nil
}

// openCoord opens what keeps the controllers of one state backend apart:
// the local state directory's lock file (one process at a time), or
// PostgreSQL advisory locks in the pg state's database and schema.
func openCoord(ctx context.Context, b render.Backend, log *slog.Logger) (coord.Coordinator, error) {
	switch b.Kind {
	case "local":
		// terraform creates the directory on first use; the lock needs it now.
		if err := os.MkdirAll(b.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating the local state directory: %w", err)
		}
		return coord.OpenLocal(b.Dir)
	case "pg":
		schema := b.Schema
		if schema == "" {
			schema = render.DefaultSchema
		}
		return coord.OpenPostgres(ctx, b.ConnStr, schema, log)
	}
	return nil, fmt.Errorf("unknown state backend %q", b.Kind)
}

// lockPasses takes the lock every pass holds (lifecycle.PassLock), so that
// jit apply, destroy and reconcile never act while jit serve or jit expire
// does. With local state, a running jit serve holds the directory and the
// command is refused. release unlocks and closes.
func lockPasses(ctx context.Context, b render.Backend, log *slog.Logger) (release func(), err error) {
	co, err := openCoord(ctx, b, log)
	if err != nil {
		return nil, err
	}
	unlock, err := co.Lock(ctx, lifecycle.PassLock)
	if err != nil {
		co.Close()
		return nil, fmt.Errorf("waiting for the pass lock: %w", err)
	}
	return func() {
		unlock()
		co.Close()
	}, nil
}
