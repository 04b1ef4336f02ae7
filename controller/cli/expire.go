package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/lifecycle"
	"github.com/jitops/jit/controller/reconcile"
)

// expireConfig is jit expire's validated configuration.
type expireConfig struct {
	GitHub    githubConfig
	Signer    ssh.Signer
	DataDir   string
	Lifecycle lifecycleConfig
	LogLevel  slog.Level
	// Now, when set, is the time expiry is judged at instead of the clock.
	Now time.Time
}

const expireUsage = `usage: jit expire [flags]

Runs one expiry-and-reconcile pass, as jit serve does on its timer, for the
GitHub Actions backstop (expire.yml every five minutes, apply.yml on push):
destroys the resources of grants past their expiry, opens and auto-merges
their expiry pull requests, applies verified grants that are missing, and
records every outcome on the default branch as signed commits. It acts as
the GitHub App (pull requests opened with a workflow's own token would
trigger no workflows) and takes the same lock as jit serve, so the two never
act on the same grants at once.

Exit status: 0 when everything was done, 1 when a grant's apply, destroy or
record failed (the next run retries it), 2 for bad settings.

flags:
`

func runExpire(ctx context.Context, o IO, args []string) int {
	cfg, err := parseExpireConfig(args, os.Getenv, o.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit expire: %v\n", err)
		return ExitUsage
	}
	log := slog.New(slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	gh, repo, m, err := connect(ctx, cfg.GitHub, cfg.DataDir, nil, log)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit expire: %v\n", err)
		return ExitProblems
	}
	e, co, err := openLifecycle(ctx, cfg.Lifecycle, gh, repo.DefaultBranch, m.Dir(), cfg.Signer, nil, log, cfg.Now)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit expire: %v\n", err)
		return ExitProblems
	}
	defer co.Close()
	failed := false
	// Overdue grants go first, before anything is applied.
	for _, opts := range []reconcile.Options{{NoApply: true}, {}} {
		rep, err := e.Pass(ctx, m, opts)
		if err != nil {
			fmt.Fprintf(o.Stderr, "jit expire: %v\n", err)
			return ExitProblems
		}
		failed = printPass(o.Stdout, rep) || failed
	}
	if failed {
		return ExitProblems
	}
	return ExitOK
}

// printPass writes one line per action, record and expiry pull request, and
// reports whether anything failed.
func printPass(w io.Writer, rep lifecycle.Report) bool {
	failed := false
	for _, out := range rep.Result.Outcomes {
		who := out.Grant
		if who == "" {
			who = "workspace " + out.Workspace
		}
		if out.Err != nil {
			failed = true
			fmt.Fprintf(w, "%-8s %s (%s): FAILED: %s\n", out.Action, who, out.Reason, oneLine(out.Err.Error()))
			continue
		}
		fmt.Fprintf(w, "%-8s %s (%s)%s\n", out.Action, who, out.Reason, resourceList(out.Resources))
	}
	for _, r := range rep.Records {
		fmt.Fprintf(w, "recorded %s %s in %s\n", r.Kind, r.Grant, r.Commit)
	}
	for id, n := range rep.Expiries {
		fmt.Fprintf(w, "expiry   %s: pull request #%d\n", id, n)
	}
	for _, a := range rep.Anomalies {
		fmt.Fprintf(w, "anomaly  %s\n", a)
	}
	for _, err := range rep.Errors {
		failed = true
		fmt.Fprintf(w, "error    %s\n", oneLine(err.Error()))
	}
	return failed
}

// parseExpireConfig parses jit expire's flags over the environment,
// reporting every problem at once.
func parseExpireConfig(args []string, getenv func(string) string, stderr io.Writer) (expireConfig, error) {
	fs := flag.NewFlagSet("expire", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gh := addGitHubFlags(fs)
	ss := settings{fs}
	signingKey := ss.add("signing-key", "JIT_SIGNING_KEY_FILE", "", "`FILE` of the unencrypted ed25519 SSH key that signs records")
	dataDir := ss.add("data-dir", "JIT_DATA_DIR", "", "`DIR` for jit's clone of the access repository and its work files (created if missing)")
	lf := addLifecycleFlags(ss, false)
	logLevel := ss.add("log-level", "JIT_LOG_LEVEL", "info", "`LEVEL` of logs on stderr: debug, info, warn or error")
	now := fs.String("now", "", "judge expiry at this RFC 3339 `TIME` instead of the clock (for tests; never in a workflow)")
	fs.Usage = func() {
		fmt.Fprint(stderr, expireUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return expireConfig{}, err
	}
	if fs.NArg() > 0 {
		return expireConfig{}, fmt.Errorf("jit expire takes no arguments, got %q; settings are flags or environment variables (jit expire -h)", fs.Arg(0))
	}
	var p problems
	c := expireConfig{GitHub: gh.check(getenv, &p)}
	_, c.Signer = loadSigningKey(signingKey, getenv, &p)
	if dir := dataDir.get(getenv); dir == "" {
		p.missing(dataDir, "give a directory jit may write its clone and work files to")
	} else if err := writableDir(dir); err != nil {
		p.add(dataDir, "%v; give a directory jit can create and write to", err)
	} else {
		c.DataDir = dir
	}
	c.Lifecycle = lf.check(getenv, c.DataDir, false, &p)
	if raw := logLevel.get(getenv); c.LogLevel.UnmarshalText([]byte(raw)) != nil {
		p.add(logLevel, "%q is not a log level; give debug, info, warn or error", raw)
	}
	if *now != "" {
		at, err := parseNow(*now)
		switch {
		case err != nil:
			p = append(p, err)
		case at.Before(time.Now().Add(-time.Minute)):
			// An earlier time would take expired grants for live ones and
			// apply them again.
			p = append(p, fmt.Errorf("--now %s is in the past; it may only move the clock ahead (tests), never back", *now))
		}
		c.Now = at
	}
	if len(p) > 0 {
		return expireConfig{}, errors.Join(p...)
	}
	return c, nil
}
