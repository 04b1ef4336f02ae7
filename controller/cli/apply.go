package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/reconcile"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/terraform"
)

// provisionFlags are the flags apply, destroy and reconcile share.
type provisionFlags struct {
	repo        string
	rev         string
	state       string
	workDir     string
	terraform   string
	concurrency int
	sshKeys     string
	credentials string
	timeout     time.Duration
	logLevel    string
}

const provisionHelp = `
Target connection settings come from the environment, which terraform and the
templates' provisioners inherit (TF_* variables excepted): for postgres-role,
PGHOST, PGPORT, PGUSER, PGPASSWORD or PGPASSFILE, PGSSLMODE.
`

func (pf *provisionFlags) register(fs *flag.FlagSet, withRepo bool) {
	fs.StringVar(&pf.repo, "repo", ".", "access repository `DIR` (grants at --rev, templates from its working tree)")
	if withRepo {
		fs.StringVar(&pf.rev, "rev", "HEAD", "`REVISION` whose grant files are desired (the default branch's head)")
	}
	fs.StringVar(&pf.state, "state", "", "state backend `SPEC`, required: local:DIR or pg:CONNSTR (one terraform workspace per grant; the connection string reaches terraform only through PG_CONN_STR); there is no default, so a command never works on a state it guessed")
	fs.StringVar(&pf.workDir, "work-dir", filepath.Join(".jit", "work"), "`DIR` caching initialised templates (safe to delete)")
	fs.StringVar(&pf.terraform, "terraform", "", "terraform binary `PATH` (default: terraform on PATH; ≥ 1.5)")
	fs.IntVar(&pf.concurrency, "concurrency", 4, "grants provisioned at once (`N`)")
	fs.StringVar(&pf.sshKeys, "ssh-keys", "", "`DIR` of LOGIN.pub authorized_keys files, to encrypt credentials to")
	fs.StringVar(&pf.credentials, "credentials-dir", "", "`DIR` receiving each grant's encrypted credentials (DIR/GRANT-ID.age)")
	fs.DurationVar(&pf.timeout, "timeout", 10*time.Minute, "limit for each terraform command")
	fs.StringVar(&pf.logLevel, "log-level", "warn", "`LEVEL` of logs on stderr: debug, info, warn or error")
}

func (pf *provisionFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(pf.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", pf.logLevel)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})), nil
}

// open builds the logger and the workspace manager from the flags, reporting
// a bad flag value on stderr as cmd.
func (pf *provisionFlags) open(o IO, cmd string) (*slog.Logger, *provision.Manager, bool) {
	log, err := pf.logger(o.Stderr)
	if err == nil {
		var m *provision.Manager
		if m, err = pf.manager(log); err == nil {
			return log, m, true
		}
	}
	fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
	return nil, nil, false
}

// manager builds the workspace manager from the flags.
func (pf *provisionFlags) manager(log *slog.Logger) (*provision.Manager, error) {
	if pf.concurrency < 1 {
		return nil, fmt.Errorf("--concurrency %d: want at least 1", pf.concurrency)
	}
	if pf.timeout <= 0 {
		return nil, fmt.Errorf("--timeout %s: want a positive duration", pf.timeout)
	}
	if pf.state == "" {
		return nil, errors.New("--state is required: name the state the grants live in, local:DIR or pg:CONNSTR (the same for apply, destroy and reconcile)")
	}
	backend, err := render.ParseState(pf.state)
	if err != nil {
		return nil, err
	}
	path, version, err := terraform.Find(pf.terraform)
	if err != nil {
		return nil, err
	}
	log.Debug("using terraform", "path", path, "version", version)
	root, err := repoRoot(pf.repo)
	if err != nil {
		return nil, err
	}
	cfg := provision.Config{
		Terraform: terraform.NewRunner(path, log, terraform.WithTimeout(pf.timeout)),
		Backend:   backend,
		// TODO(wiring): pass the tree of the revision being applied
		// (history.Repo.FS of --rev), never the working tree.
		Templates:   os.DirFS(root),
		WorkDir:     pf.workDir,
		Concurrency: pf.concurrency,
		Logger:      log,
	}
	if pf.sshKeys != "" {
		cfg.Keys = keyDir(pf.sshKeys)
	}
	if pf.credentials != "" {
		if err := os.MkdirAll(pf.credentials, 0o700); err != nil {
			return nil, fmt.Errorf("--credentials-dir: %w", err)
		}
		cfg.Sink = credentialDir(pf.credentials)
	}
	return provision.New(cfg)
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

// gitSource is the CLI's reconcile.Source: the grant files present at a
// revision of the access repository, each expiring at the committer time of
// the commit that introduced it plus its duration. Files that do not parse
// are not desired (fail closed) and are reported through problems.
type gitSource struct {
	repo, rev string
	problems  func(msg string)
}

func (s gitSource) Desired(ctx context.Context) ([]reconcile.Desired, error) {
	repo, err := history.Open(s.repo)
	if err != nil {
		return nil, fmt.Errorf("opening the access repository %s: %w", s.repo, err)
	}
	defer repo.Close()
	c, err := repo.Resolve(s.rev)
	if err != nil {
		return nil, fmt.Errorf("resolving %s in %s: %w", s.rev, s.repo, err)
	}
	tree, err := repo.FS(c)
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s: %w", s.repo, s.rev, err)
	}
	reqs, problems := request.Load(tree)
	bad := map[string]bool{}
	for _, p := range problems {
		bad[p.File] = true
		if s.problems != nil {
			s.problems(p.String())
		}
	}
	intros, err := repo.Introductions(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("reading the history of %s: %w", s.repo, err)
	}
	var out []reconcile.Desired
	for _, r := range reqs {
		if bad[r.File] {
			continue
		}
		in, ok := intros[r.ID]
		if !ok {
			// Without an introduction there is no expiry: not desired.
			if s.problems != nil {
				s.problems(fmt.Sprintf("%s: no commit on the first-parent history of %s adds this file, so it has no start time", r.File, s.rev))
			}
			continue
		}
		out = append(out, reconcile.Desired{Request: r, ExpiresAt: in.When.Add(r.Duration)})
	}
	return out, nil
}

// provisioner adapts the workspace manager to what reconcile needs.
type provisioner struct{ m *provision.Manager }

func (p provisioner) Actual(ctx context.Context) ([]reconcile.Actual, error) {
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
	a, err := p.m.Apply(ctx, d.Request, d.ExpiresAt)
	return a.Resources, err
}

func (p provisioner) Destroy(ctx context.Context, a reconcile.Actual) ([]string, error) {
	var d provision.Destroyed
	var err error
	if a.Grant != "" {
		d, err = p.m.Destroy(ctx, a.Grant)
	} else {
		d, err = p.m.DestroyWorkspace(ctx, a.Workspace)
	}
	return d.Resources, err
}

// Reassert applies a live grant again (a drift pass).
func (p provisioner) Reassert(ctx context.Context, d reconcile.Desired) ([]string, error) {
	a, err := p.m.Apply(ctx, d.Request, d.ExpiresAt)
	return a.Resources, err
}

var _ reconcile.Provisioner = provisioner{}
var _ reconcile.Source = gitSource{}

// keyDir is a provision.KeySource reading DIR/LOGIN.pub (authorized_keys
// format). A login without a file has no keys.
type keyDir string

var loginPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

func (d keyDir) AuthorizedKeys(_ context.Context, login string) ([]string, error) {
	if !loginPattern.MatchString(login) {
		return nil, fmt.Errorf("%q is not a GitHub login", login)
	}
	b, err := os.ReadFile(filepath.Join(string(d), login+".pub"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			keys = append(keys, l)
		}
	}
	return keys, nil
}

// credentialDir is a provision.CredentialSink writing DIR/<grant id>.age
// (the id's directories as subdirectories, mode 0700; files mode 0600), so
// two grant ids never share a file. Each file appears whole or not at all:
// it is written to a temporary file, synced and renamed into place.
type credentialDir string

// credentialFile names the file holding grant id's credentials in dir.
func credentialFile(dir, id string) string {
	return filepath.Join(dir, filepath.FromSlash(id)+".age")
}

func (d credentialDir) Deliver(_ context.Context, id string, ciphertext []byte) error {
	target := credentialFile(string(d), id)
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return fmt.Errorf("writing credentials to %s: %w", d, err)
	}
	f, err := os.CreateTemp(filepath.Dir(target), ".tmp-*.age")
	if err != nil {
		return err
	}
	_, err = f.Write(ciphertext)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(f.Name(), target)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing credentials to %s: %w", d, err)
	}
	return nil
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// newFlagSet returns a flag set that reports errors to o.Stderr.
func newFlagSet(o IO, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
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

func runApply(ctx context.Context, o IO, args []string) int {
	var pf provisionFlags
	var grants multiFlag
	fs := newFlagSet(o, "jit apply", "jit apply [--repo DIR] [--grant ID...] [flags]\n\nApply the grants present at --rev that have not expired (all, or those named by --grant).")
	pf.register(fs, true)
	fs.Var(&grants, "grant", "grant `ID` to apply (repeatable; default: every unexpired grant)")
	now := fs.String("now", "", "evaluate expiry at this RFC 3339 `TIME` instead of the clock (for tests)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	at, err := parseNow(*now)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit apply: %v\n", err)
		return ExitUsage
	}
	_, m, ok := pf.open(o, "jit apply")
	if !ok {
		return ExitUsage
	}
	src := gitSource{repo: pf.repo, rev: pf.rev, problems: func(msg string) { fmt.Fprintf(o.Stderr, "jit apply: skipping invalid grant file: %s\n", msg) }}
	desired, err := src.Desired(ctx)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit apply: %v\n", err)
		return ExitProblems
	}
	byID := map[string]reconcile.Desired{}
	for _, d := range desired {
		byID[d.Request.ID] = d
	}
	var todo []reconcile.Desired
	failed := false
	if len(grants) == 0 {
		todo = desired
	} else {
		for _, id := range grants {
			d, ok := byID[id]
			if !ok {
				fmt.Fprintf(o.Stderr, "jit apply: grant %s: no valid grant file access/%s.yaml at %s\n", id, id, pf.rev)
				failed = true
				continue
			}
			todo = append(todo, d)
		}
	}
	var live []reconcile.Desired
	for _, d := range todo {
		if !at.Before(d.ExpiresAt) {
			fmt.Fprintf(o.Stdout, "skipped %s: expired at %s\n", d.Request.ID, d.ExpiresAt.UTC().Format(time.RFC3339))
			continue
		}
		live = append(live, d)
	}
	results := make([]string, len(live))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, d := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := m.Apply(ctx, d.Request, d.ExpiresAt)
			if err != nil {
				mu.Lock()
				failed = true
				mu.Unlock()
				results[i] = fmt.Sprintf("FAILED %s: %v", d.Request.ID, err)
				return
			}
			results[i] = fmt.Sprintf("applied %s until %s%s", d.Request.ID, d.ExpiresAt.UTC().Format(time.RFC3339), resourceList(a.Resources))
		}()
	}
	wg.Wait()
	return printResults(o, results, failed)
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
