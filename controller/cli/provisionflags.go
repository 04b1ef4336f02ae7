package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jitops/jit/controller/localdir"
	"github.com/jitops/jit/controller/pass"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/target"
	"github.com/jitops/jit/controller/terraform"
)

// provisionFlags are the flags apply, destroy and reconcile share.
type provisionFlags struct {
	repo        string
	branch      string
	rev         string
	state       string
	workDir     string
	terraform   string
	concurrency int
	sshKeys     string
	credentials string
	timeout     time.Duration
	logLevel    string
	newState    bool
	targets     string
}

const provisionHelp = `
Targets: a grant whose policies name targets (targets = [...]) is applied to
one of those declared in the --targets file (env JIT_TARGETS), with only that
target's settings and secrets: its templates see none of the controller's
PG* variables nor any other target's. A grant whose policies name no target
uses the controller's own environment (for postgres-role: PGHOST, PGPORT,
PGUSER, PGPASSWORD or PGPASSFILE, PGSSLMODE). TF_* variables, PG_CONN_STR,
jit's own JIT_* settings and the variables targets' secrets are read from
never reach a template.
`

// register defines the shared flags on fs. Only commands that apply grants
// (applies) get --new-state, --ssh-keys and --credentials-dir: destroy
// issues no credentials and needs no new state.
func (pf *provisionFlags) register(fs *flag.FlagSet, applies bool) {
	fs.StringVar(&pf.repo, "repo", ".", "`DIR` of a clone of the access repository (grants and templates are read from the default branch's tip, never from its working tree)")
	fs.StringVar(&pf.branch, "default-branch", "main", "the default branch's `NAME`: its tip (refs/remotes/origin/NAME or refs/heads/NAME, the newer; never a tag) holds the grants, and the templates they are applied with")
	fs.StringVar(&pf.rev, "rev", "", "full `SHA` the default branch's tip must be (refuses to run on any other revision, so a pass never goes back in history)")
	if applies {
		fs.BoolVar(&pf.newState, "new-state", false, "the first pass of a new deployment: allow a --state that has never held a jit workspace although the default branch has grants (without it that is refused as a probably wrong --state)")
	}
	fs.StringVar(&pf.state, "state", "", "state backend `SPEC`, required: local:DIR or pg:CONNSTR (one terraform workspace per grant; the connection string reaches only terraform init, through a private file, never a template's environment); there is no default, so a command never works on a state it guessed")
	fs.StringVar(&pf.workDir, "work-dir", filepath.Join(".jit", "work"), "`DIR` caching initialised templates (safe to delete)")
	fs.StringVar(&pf.terraform, "terraform", "", "terraform binary `PATH` (default: terraform on PATH; ≥ 1.5)")
	fs.IntVar(&pf.concurrency, "concurrency", 4, "grants applied or destroyed at once (`N`)")
	if applies {
		fs.StringVar(&pf.sshKeys, "ssh-keys", "", "`DIR` of LOGIN.pub authorized_keys files, to encrypt credentials to")
		fs.StringVar(&pf.credentials, "credentials-dir", "", "`DIR` receiving each grant's encrypted credentials (DIR/GRANT-ID.age)")
	}
	fs.DurationVar(&pf.timeout, "timeout", 10*time.Minute, "limit for each terraform command")
	fs.StringVar(&pf.logLevel, "log-level", "warn", "`LEVEL` of logs on stderr: debug, info, warn or error")
	fs.StringVar(&pf.targets, "targets", "", "`FILE` declaring the named targets grants are applied to (env "+targetsEnv+"; see README \"Targets\"); without it, grants bound to a target fail")
}

// targetsEnv names the variable that gives the targets file when --targets
// is not set.
const targetsEnv = "JIT_TARGETS"

// loadTargets reads the targets file named by flag, or else by getenv's
// JIT_TARGETS; neither set means no targets (nil). Problems name the file,
// line and column.
func loadTargets(flag string, getenv func(string) string) (*target.Set, error) {
	file := flag
	if file == "" {
		file = getenv(targetsEnv)
	}
	if file == "" {
		return nil, nil
	}
	set, err := target.Load(file)
	if err != nil {
		return nil, fmt.Errorf("--targets (%s): %w", targetsEnv, err)
	}
	return set, nil
}

func (pf *provisionFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(pf.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", pf.logLevel)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})), nil
}

// config builds the logger and the workspace manager's configuration from
// the flags (templates are set by the pass, from the default branch), reporting a bad
// flag value on stderr as cmd.
func (pf *provisionFlags) config(o IO, cmd string) (*slog.Logger, provision.Config, bool) {
	log, err := pf.logger(o.Stderr)
	if err == nil {
		var cfg provision.Config
		if cfg, err = pf.provision(log); err == nil {
			return log, cfg, true
		}
	}
	fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
	return nil, provision.Config{}, false
}

// pass returns the configuration of a reconcile pass over --repo.
func (pf *provisionFlags) pass(log *slog.Logger, cfg provision.Config) pass.Config {
	return pass.Config{Repo: pf.repo, Branch: pf.branch, Rev: pf.rev, Provision: cfg, NewState: pf.newState, Logger: log, Concurrency: pf.concurrency}
}

// provision builds the workspace manager's configuration from the flags.
func (pf *provisionFlags) provision(log *slog.Logger) (provision.Config, error) {
	if pf.concurrency < 1 {
		return provision.Config{}, fmt.Errorf("--concurrency %d: want at least 1", pf.concurrency)
	}
	if pf.timeout <= 0 {
		return provision.Config{}, fmt.Errorf("--timeout %s: want a positive duration", pf.timeout)
	}
	if pf.state == "" {
		return provision.Config{}, errors.New("--state is required: name the state the grants live in, local:DIR or pg:CONNSTR (the same for apply, destroy and reconcile)")
	}
	backend, err := render.ParseState(pf.state)
	if err != nil {
		return provision.Config{}, err
	}
	path, version, err := terraform.Find(pf.terraform)
	if err != nil {
		return provision.Config{}, err
	}
	log.Debug("using terraform", "path", path, "version", version)
	if _, err := repoRoot(pf.repo); err != nil {
		return provision.Config{}, err
	}
	targets, err := loadTargets(pf.targets, os.Getenv)
	if err != nil {
		return provision.Config{}, err
	}
	if targets != nil {
		log.Debug("using targets", "targets", targets.Names())
	}
	cfg := provision.Config{
		Terraform:   terraform.NewRunner(path, log, terraform.WithTimeout(pf.timeout)),
		Backend:     backend,
		WorkDir:     pf.workDir,
		Concurrency: pf.concurrency,
		Logger:      log,
		Targets:     targets,
	}
	if pf.sshKeys != "" {
		cfg.Keys = localdir.Keys(pf.sshKeys)
	}
	if pf.credentials != "" {
		if err := os.MkdirAll(pf.credentials, 0o700); err != nil {
			return provision.Config{}, fmt.Errorf("--credentials-dir: %w", err)
		}
		cfg.Sink = localdir.Credentials(pf.credentials)
	}
	return cfg, nil
}

// repoRoot returns the top of the git working tree containing dir (where
// templates/ is), as history.Open finds the repository from dir upwards.
func repoRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("--repo %s: %w", dir, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("--repo %s: not inside a git repository", dir)
		}
	}
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// flagSetCreated, when set (by tests), sees every flag set newFlagSet
// makes, to compare a command's help with its flags.
var flagSetCreated func(*flag.FlagSet)

// newFlagSet returns a flag set that reports errors to o.Stderr; its help
// is usage, the flags, and provisionHelp.
func newFlagSet(o IO, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if flagSetCreated != nil {
		flagSetCreated(fs)
	}
	fs.SetOutput(o.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(o.Stderr, "usage: %s\n\nflags:\n", usage)
		fs.PrintDefaults()
		fmt.Fprint(o.Stderr, provisionHelp)
	}
	return fs
}

// parseFlags parses args, and returns the exit code to stop with, or -1.
func parseFlags(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return ExitUsage
	}
	return -1
}

// printResults prints one line per grant, sorted, and returns the exit code:
// ExitProblems when any grant failed.
func printResults(o IO, results []string, failed bool) int {
	sort.Strings(results)
	for _, r := range results {
		fmt.Fprintln(o.Stdout, r)
	}
	if failed {
		return ExitProblems
	}
	return ExitOK
}

func resourceList(rs []string) string {
	if len(rs) == 0 {
		return " (no changes)"
	}
	return " (" + strings.Join(rs, ", ") + ")"
}

func parseNow(s string) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--now %q: want an RFC 3339 time such as 2026-05-01T12:00:00Z", s)
	}
	return t, nil
}
