package terraform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// Log attribute keys used by this package.
const (
	LogKeyGrant = "grant"
	LogKeyStep  = "step"
	LogKeyDir   = "dir"
)

// Runner runs terraform commands. It is safe for concurrent use; callers
// must not run two commands with the same Dir.Data at the same time (the
// data directory holds the selected workspace).
type Runner struct {
	path        string
	log         *slog.Logger
	timeout     time.Duration
	lockTimeout time.Duration
	attempts    int
	backoff     time.Duration
	killGrace   time.Duration
}

// Option configures a Runner.
type Option func(*Runner)

// WithTimeout bounds each terraform command (default 10 minutes). A command
// that runs out of time returns an error satisfying
// errors.Is(err, context.DeadlineExceeded).
func WithTimeout(d time.Duration) Option { return func(r *Runner) { r.timeout = d } }

// WithLockRetry sets how often a command that met a state lock held by
// someone else is tried in all (default 6) and the first pause between tries
// (default 200ms, doubled each time, with jitter).
func WithLockRetry(attempts int, backoff time.Duration) Option {
	return func(r *Runner) {
		if attempts < 1 {
			attempts = 1
		}
		r.attempts, r.backoff = attempts, backoff
	}
}

// WithLockTimeout is terraform's own -lock-timeout for commands that take the
// state lock (default 10s).
func WithLockTimeout(d time.Duration) Option { return func(r *Runner) { r.lockTimeout = d } }

// WithKillGrace is how long terraform may shut down gracefully after an
// interrupt (sent when the context ends) before it is killed (default 20s).
func WithKillGrace(d time.Duration) Option { return func(r *Runner) { r.killGrace = d } }

// NewRunner returns a Runner for the terraform binary at path (see Find).
// A nil logger discards logs.
func NewRunner(path string, log *slog.Logger, opts ...Option) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{
		path:        path,
		log:         log,
		timeout:     10 * time.Minute,
		lockTimeout: 10 * time.Second,
		attempts:    6,
		backoff:     200 * time.Millisecond,
		killGrace:   20 * time.Second,
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Path returns the terraform binary the Runner runs.
func (r *Runner) Path() string { return r.path }

// Dir says where a command runs and on whose behalf.
type Dir struct {
	// Grant is the grant the command works for; it names the grant in errors
	// and logs. Empty for backend-wide commands.
	Grant string
	// Work is the working directory: the root module.
	Work string
	// Data is terraform's data directory (TF_DATA_DIR): backend settings,
	// installed providers and the selected workspace.
	Data string
	// Env holds extra environment variables, such as a target's connection
	// settings; they are added after the inherited ones. Values are never
	// logged.
	Env map[string]string
	// Inherit, when set, decides which variables of jit's own environment
	// terraform inherits (TF_* variables never are): a variable reaches
	// terraform, and so the provisioners it runs, only when Inherit reports
	// true for its name. Nil inherits every one.
	Inherit func(name string) bool
	// BackendConfig is the path of a backend configuration file passed to
	// `terraform init` only (-backend-config=PATH), for settings such as the
	// state backend's credentials that must not be in the environment of
	// the commands that run provisioners. terraform keeps them in the data
	// directory. Other commands ignore it.
	BackendConfig string
}

// Error is a terraform command that did not succeed. Its message names the
// grant and the step, e.g. "grant prod/db/alice: terraform apply: …".
type Error struct {
	Grant string
	Step  string
	Err   error
	// Tail holds the last lines terraform wrote to stdout.
	Tail []string
}

// Error renders "grant ID: terraform STEP: cause".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Grant != "" {
		fmt.Fprintf(&b, "grant %s: ", e.Grant)
	}
	fmt.Fprintf(&b, "terraform %s: %s", e.Step, strings.TrimSpace(e.Err.Error()))
	return b.String()
}

// Unwrap returns the cause, so errors.Is sees context.DeadlineExceeded,
// context.Canceled, ErrLocked and the workspace errors.
func (e *Error) Unwrap() error { return e.Err }

// ErrLocked reports that the state stayed locked by another process after
// every retry. Such an error is transient: a later run may succeed. It is
// never treated as success.
var ErrLocked = errors.New("state is locked by another terraform process")

// ErrWorkspaceExists reports that `terraform workspace new` found the
// workspace already there.
var ErrWorkspaceExists = errors.New("workspace already exists")

// ErrWorkspaceMissing reports that the workspace to select does not exist.
var ErrWorkspaceMissing = errors.New("workspace does not exist")

// IsLocked reports whether err is a state-lock conflict.
func IsLocked(err error) bool {
	if errors.Is(err, ErrLocked) {
		return true
	}
	return err != nil && isLockMessage(err.Error())
}

func isLockMessage(s string) bool {
	s = strings.ToLower(s)
	for _, m := range []string{"error acquiring the state lock", "error locking state", "failed to lock state", "already locked"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// Init runs `terraform init` in d.
func (r *Runner) Init(ctx context.Context, d Dir) error {
	_, err := r.run(ctx, d, "init", func(ctx context.Context, tf *tfexec.Terraform) error {
		opts := []tfexec.InitOption{tfexec.Upgrade(false), tfexec.Get(true)}
		if d.BackendConfig != "" {
			opts = append(opts, tfexec.BackendConfig(d.BackendConfig))
		}
		return tf.Init(ctx, opts...)
	})
	return err
}

// WorkspaceNew creates workspace name and selects it in d.
func (r *Runner) WorkspaceNew(ctx context.Context, d Dir, name string) error {
	_, err := r.run(ctx, d, "workspace new", func(ctx context.Context, tf *tfexec.Terraform) error {
		// No -lock-timeout here: with it terraform-exec runs `terraform
		// version` first; a lock conflict is retried by run instead.
		err := tf.WorkspaceNew(ctx, name)
		if err != nil && strings.Contains(err.Error(), "already exists") {
			return fmt.Errorf("%w: %w", ErrWorkspaceExists, err)
		}
		return err
	})
	return err
}

// WorkspaceSelect selects the existing workspace name in d.
func (r *Runner) WorkspaceSelect(ctx context.Context, d Dir, name string) error {
	_, err := r.run(ctx, d, "workspace select", func(ctx context.Context, tf *tfexec.Terraform) error {
		err := tf.WorkspaceSelect(ctx, name)
		if err != nil && strings.Contains(err.Error(), "doesn't exist") {
			return fmt.Errorf("%w: %w", ErrWorkspaceMissing, err)
		}
		return err
	})
	return err
}

// WorkspaceDelete deletes workspace name, which must hold no resources and
// must not be the one selected in d.
func (r *Runner) WorkspaceDelete(ctx context.Context, d Dir, name string) error {
	_, err := r.run(ctx, d, "workspace delete", func(ctx context.Context, tf *tfexec.Terraform) error {
		return tf.WorkspaceDelete(ctx, name)
	})
	return err
}

// Workspaces lists the workspaces in d's backend.
func (r *Runner) Workspaces(ctx context.Context, d Dir) ([]string, error) {
	var names []string
	_, err := r.run(ctx, d, "workspace list", func(ctx context.Context, tf *tfexec.Terraform) error {
		ws, _, err := tf.WorkspaceList(ctx)
		names = ws
		return err
	})
	return names, err
}

// Apply runs `terraform apply -auto-approve` in d with the variables in
// varFile, forcing the replacement of each resource instance address in
// replace (`-replace=ADDR`), and returns the addresses of the resources it
// created or changed.
func (r *Runner) Apply(ctx context.Context, d Dir, varFile string, replace ...string) ([]string, error) {
	out, err := r.run(ctx, d, "apply", func(ctx context.Context, tf *tfexec.Terraform) error {
		opts := []tfexec.ApplyOption{tfexec.VarFile(varFile), tfexec.LockTimeout(r.lockTimeout.String())}
		for _, a := range replace {
			opts = append(opts, tfexec.Replace(a))
		}
		return tf.Apply(ctx, opts...)
	})
	return completed(out, "Creation complete after", "Modifications complete after"), err
}

// Destroy runs `terraform destroy -auto-approve` in d with the variables in
// varFile and returns the addresses of the resources it destroyed.
func (r *Runner) Destroy(ctx context.Context, d Dir, varFile string) ([]string, error) {
	out, err := r.run(ctx, d, "destroy", func(ctx context.Context, tf *tfexec.Terraform) error {
		return tf.Destroy(ctx, tfexec.VarFile(varFile), tfexec.LockTimeout(r.lockTimeout.String()))
	})
	return completed(out, "Destruction complete after"), err
}

// Outputs returns the root module outputs recorded in the selected
// workspace's state, as raw JSON values; empty when the state is empty.
func (r *Runner) Outputs(ctx context.Context, d Dir) (map[string]json.RawMessage, error) {
	vals := map[string]json.RawMessage{}
	err := r.runQuiet(ctx, d, "output", func(ctx context.Context, tf *tfexec.Terraform) error {
		outs, err := tf.Output(ctx)
		for k, v := range outs {
			vals[k] = v.Value
		}
		return err
	})
	return vals, err
}

// State is what jit reads from a workspace's state.
type State struct {
	// Outputs are the root module's outputs as raw JSON values.
	Outputs map[string]json.RawMessage
	// Resources are the managed resources recorded.
	Resources []Resource
}

// Resource is one managed resource in a state.
type Resource struct {
	// Address is the resource's address without instance keys, e.g.
	// "terraform_data.role" or "module.x.terraform_data.role".
	Address string
	// Tainted reports that an instance is tainted: its create or a
	// provisioner failed or was interrupted.
	Tainted bool
}

// State reads the selected workspace's state (`terraform state pull`) and
// parses it with ParseState. An empty or missing state gives an empty State.
func (r *Runner) State(ctx context.Context, d Dir) (State, error) {
	st := State{Outputs: map[string]json.RawMessage{}}
	err := r.runQuiet(ctx, d, "state pull", func(ctx context.Context, tf *tfexec.Terraform) error {
		raw, err := tf.StatePull(ctx)
		if err != nil {
			return err
		}
		parsed, err := ParseState([]byte(raw))
		if err != nil {
			return fmt.Errorf("reading the pulled state: %w", err)
		}
		st = parsed
		return nil
	})
	return st, err
}

// runQuiet is run for a command whose standard output is a state or its
// outputs: sensitive values (a password verifier) that must not reach logs
// or error messages, so that output is neither logged nor kept.
func (r *Runner) runQuiet(ctx context.Context, d Dir, step string, op func(context.Context, *tfexec.Terraform) error) error {
	_, err := r.retry(ctx, d, step, true, op)
	return err
}

// run runs one terraform command with a fresh *tfexec.Terraform (SetStdout
// and SetLogger mutate it), a private CLI configuration, a timeout, and
// retries while the state is locked by someone else. It returns the lines
// terraform wrote to stdout in the last attempt.
func (r *Runner) run(ctx context.Context, d Dir, step string, op func(context.Context, *tfexec.Terraform) error) ([]string, error) {
	return r.retry(ctx, d, step, false, op)
}

func (r *Runner) retry(ctx context.Context, d Dir, step string, quiet bool, op func(context.Context, *tfexec.Terraform) error) ([]string, error) {
	log := r.log.With(LogKeyGrant, d.Grant, LogKeyStep, step)
	var lastErr error
	var lines []string
	pause := r.backoff
	for attempt := 1; attempt <= r.attempts; attempt++ {
		var err error
		lines, err = r.once(ctx, d, step, quiet, log, op)
		if err == nil {
			return lines, nil
		}
		lastErr = err
		var te *Error
		if !errors.As(err, &te) || !isLockMessage(te.Err.Error()) || ctx.Err() != nil {
			return lines, err
		}
		if attempt == r.attempts {
			te.Err = fmt.Errorf("%w after %d tries: %w", ErrLocked, attempt, te.Err)
			return lines, te
		}
		wait := pause + rand.N(pause/2+1)
		log.Info("state locked, retrying", "attempt", attempt, "wait", wait)
		select {
		case <-ctx.Done():
			return lines, &Error{Grant: d.Grant, Step: step, Err: fmt.Errorf("waiting to retry a locked state: %w", ctx.Err())}
		case <-time.After(wait):
		}
		pause *= 2
	}
	return lines, lastErr
}

func (r *Runner) once(ctx context.Context, d Dir, step string, quiet bool, log *slog.Logger, op func(context.Context, *tfexec.Terraform) error) ([]string, error) {
	fail := func(err error) error { return &Error{Grant: d.Grant, Step: step, Err: err} }
	tf, err := tfexec.NewTerraform(d.Work, r.path)
	if err != nil {
		return nil, fail(err)
	}
	cfg, err := writeCLIConfig()
	if err != nil {
		return nil, fail(err)
	}
	defer os.Remove(cfg)
	env := environMap(d.Inherit)
	env["TF_CLI_CONFIG_FILE"] = cfg
	env["CHECKPOINT_DISABLE"] = "1"
	runID := newRunID()
	env[runEnvVar] = runID
	if d.Data != "" {
		env["TF_DATA_DIR"] = d.Data
	}
	maps.Copy(env, d.Env)
	if err := tf.SetEnv(env); err != nil {
		return nil, fail(fmt.Errorf("environment for terraform: %w", err))
	}
	if err := tf.SetWaitDelay(r.killGrace); err != nil {
		return nil, fail(err)
	}
	stdout := newLineLog(log, "stdout", 20)
	if quiet {
		stdout = newLineLog(nil, "stdout", 0)
	}
	stderr := newLineLog(log, "stderr", 0)
	tf.SetStdout(stdout)
	tf.SetStderr(stderr)
	tf.SetLogger(slog.NewLogLogger(log.Handler(), slog.LevelDebug))

	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	start := time.Now()
	err = op(ctx, tf)
	stdout.Flush()
	stderr.Flush()
	if ctx.Err() != nil {
		reap(runID, log)
	}
	log.Debug("terraform finished", LogKeyDir, d.Work, "elapsed", time.Since(start), "error", err != nil)
	if err == nil {
		return stdout.Lines(), nil
	}
	if ctx.Err() != nil {
		why := "was cancelled"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			why = fmt.Sprintf("timed out after %s", r.timeout)
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) > -time.Second && time.Since(start) < r.timeout {
				why = "ran out of time"
			}
		}
		err = fmt.Errorf("%s (last output: %s): %w", why, strings.Join(stdout.Tail(3), " | "), err)
	}
	return stdout.Lines(), &Error{Grant: d.Grant, Step: step, Err: err, Tail: stdout.Tail(20)}
}

// writeCLIConfig writes a CLI configuration of jit's own for one run, so that
// an inherited TF_CLI_CONFIG_FILE (possibly pointing at a missing file) or a
// shared plugin cache never affects it.
func writeCLIConfig() (string, error) {
	f, err := os.CreateTemp("", "jit-terraformrc-*")
	if err != nil {
		return "", fmt.Errorf("writing terraform CLI configuration: %w", err)
	}
	_, err = f.WriteString("disable_checkpoint = true\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing terraform CLI configuration: %w", err)
	}
	return f.Name(), nil
}

// cleanEnviron is the process environment without the variables that would
// change what terraform does behind jit's back (TF_VAR_*, TF_CLI_ARGS*,
// TF_WORKSPACE, TF_DATA_DIR, TF_CLI_CONFIG_FILE, TF_LOG*, ...).
func cleanEnviron() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TF_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// environMap is cleanEnviron as a map, keeping only the variables inherit
// accepts (all when it is nil).
func environMap(inherit func(string) bool) map[string]string {
	m := map[string]string{}
	for _, kv := range cleanEnviron() {
		k, v, _ := strings.Cut(kv, "=")
		if inherit == nil || inherit(k) {
			m[k] = v
		}
	}
	return m
}

// completed returns the resource addresses from terraform's human-readable
// progress lines "ADDR: Creation complete after 0s [id=…]".
func completed(lines []string, markers ...string) []string {
	var addrs []string
	seen := map[string]bool{}
	for _, l := range lines {
		addr, rest, ok := strings.Cut(l, ": ")
		if !ok || strings.ContainsAny(addr, " \t") {
			continue
		}
		for _, m := range markers {
			if strings.HasPrefix(rest, m) && !seen[addr] {
				seen[addr] = true
				addrs = append(addrs, addr)
			}
		}
	}
	return addrs
}
