package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jitops/jit/controller/app"
	"github.com/jitops/jit/controller/appmetrics"
	"github.com/jitops/jit/controller/ghapi"
	"github.com/jitops/jit/controller/mirror"
)

// runServe runs the GitHub App until SIGINT or SIGTERM.
func runServe(ctx context.Context, o IO, args []string) int {
	cfg, err := parseServeConfig(args, os.Getenv, o.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit serve: %v\n", err)
		return ExitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(o.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err := serve(ctx, cfg, log, func(addr string) { log.Info("listening", "addr", addr) }); err != nil {
		log.Error("jit serve stopped", "err", err)
		return ExitUsage
	}
	return ExitOK
}

// serve wires the App to GitHub, the mirror and the listener, and runs it
// until ctx ends. listening is told the bound address.
func serve(ctx context.Context, cfg serveConfig, log *slog.Logger, listening func(addr string)) error {
	metrics := appmetrics.New()
	gh, repo, m, err := connect(ctx, cfg.GitHub, cfg.DataDir, metrics, log)
	if err != nil {
		return err
	}
	ac := app.Config{GitHub: gh, Mirror: m, Signer: cfg.Signer, WebhookSecret: cfg.WebhookSecret,
		DefaultBranch: repo.DefaultBranch, QueueSize: cfg.QueueSize, Workers: cfg.Workers, Resync: cfg.Resync,
		Metrics: metrics, Logger: log, Reconcile: cfg.Reconcile, Drift: cfg.Drift}
	if cfg.Lifecycle.State == "" {
		log.Warn("--state none: jit serve handles pull requests only and applies, expires and records nothing on the default branch; run jit expire in GitHub Actions (apply.yml, expire.yml)")
	} else {
		e, co, err := openLifecycle(ctx, cfg.Lifecycle, gh, repo.DefaultBranch, m.Dir(), cfg.Signer, metrics, log, time.Time{})
		if err != nil {
			return err
		}
		defer co.Close()
		ac.Lifecycle, ac.Leases = e, co
	}
	a, err := app.New(ac)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen (JIT_LISTEN) %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	listening(ln.Addr().String())
	runErr := a.Run(ctx, 30*time.Second)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return runErr
}

// connect reaches GitHub as the App and opens the mirror of the access
// repository under dataDir.
func connect(ctx context.Context, g githubConfig, dataDir string, metrics *appmetrics.Metrics, log *slog.Logger) (*ghapi.Client, ghapi.Repository, *mirror.Mirror, error) {
	gc := ghapi.Config{APIURL: g.APIURL, AppID: g.AppID, PrivateKeyPEM: g.PrivateKeyPEM, InstallationID: g.InstallationID,
		Owner: g.Owner, Repo: g.Repo, Logger: log}
	if metrics != nil {
		gc.Observe = metrics.ObserveGitHub
	}
	gh, err := ghapi.New(ctx, gc)
	if err != nil {
		return nil, ghapi.Repository{}, nil, err
	}
	repo, err := gh.Repository(ctx)
	if err != nil {
		return nil, ghapi.Repository{}, nil, fmt.Errorf("reading repository %s/%s as the App (is it installed there?): %w", g.Owner, g.Repo, err)
	}
	m, err := mirror.Open(ctx, mirror.Config{Dir: filepath.Join(dataDir, "mirror"), URL: repo.CloneURL, Token: gh.Token, Logger: log})
	if err != nil {
		return nil, ghapi.Repository{}, nil, err
	}
	return gh, repo, m, nil
}
