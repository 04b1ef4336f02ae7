package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jitops/jit/controller/ghemu"
)

// ghemuInfo is the one JSON object `jit ghemu` prints on stdout once it
// serves: everything a client needs to talk to the emulator.
type ghemuInfo struct {
	APIURL            string            `json:"api_url"`
	GitURL            string            `json:"git_url"`
	WebhookSecret     string            `json:"webhook_secret"`
	AppID             int64             `json:"app_id,omitempty"`
	InstallationID    int64             `json:"installation_id,omitempty"`
	AppPrivateKeyFile string            `json:"app_private_key_file,omitempty"`
	Tokens            map[string]string `json:"tokens"`
}

// runGHEmu runs the GitHub emulator until ctx ends (SIGINT/SIGTERM).
func runGHEmu(ctx context.Context, o IO, args []string) int {
	fs := flag.NewFlagSet("ghemu", flag.ContinueOnError)
	fs.SetOutput(o.Stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	seedPath := fs.String("seed", "", "seed file (JSON; see controller/ghemu/testdata/seed.json)")
	dataDir := fs.String("data", "", "directory for the bare repositories and the App key (default: a temporary directory removed on exit)")
	fs.Usage = func() {
		fmt.Fprintln(o.Stderr, "usage: jit ghemu --seed FILE [--addr HOST:PORT] [--data DIR]")
		fmt.Fprintln(o.Stderr, "\nServes GitHub's REST API under /api/v3/, git over smart HTTP and webhooks from a seed,")
		fmt.Fprintln(o.Stderr, "prints one JSON object (api_url, git_url, webhook_secret, app_id, app_private_key_file, tokens)")
		fmt.Fprintln(o.Stderr, "and serves until interrupted.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if *seedPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(o.Stderr, "jit ghemu: --seed FILE is required and no arguments are taken; run 'jit ghemu -h'")
		return ExitUsage
	}
	seed, err := ghemu.LoadSeed(*seedPath)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit ghemu: %v\n", err)
		return ExitUsage
	}
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "jit-ghemu-")
		if err != nil {
			fmt.Fprintf(o.Stderr, "jit ghemu: creating a data directory: %v\n", err)
			return ExitUsage
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	log := slog.New(slog.NewTextHandler(o.Stderr, nil))
	srv, err := ghemu.New(ghemu.Config{DataDir: dir, Seed: seed, Logger: log,
		OnUnhandled: func(method, path string) { log.Warn("unhandled route", "method", method, "path", path) }})
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit ghemu: %v\n", err)
		return ExitUsage
	}
	if err := srv.Start(*addr); err != nil {
		fmt.Fprintf(o.Stderr, "jit ghemu: %v\n", err)
		return ExitUsage
	}
	defer srv.Close()

	info := ghemuInfo{APIURL: srv.APIURL, GitURL: srv.URL + "/", WebhookSecret: srv.WebhookSecret(), Tokens: srv.Tokens()}
	if app, ok := srv.App(); ok {
		keyFile := filepath.Join(dir, "app-private-key.pem")
		if err := os.WriteFile(keyFile, app.PrivateKeyPEM, 0o600); err != nil {
			fmt.Fprintf(o.Stderr, "jit ghemu: writing the App key: %v\n", err)
			return ExitUsage
		}
		info.AppID, info.InstallationID, info.AppPrivateKeyFile = app.ID, app.InstallationID, keyFile
	}
	b, err := json.Marshal(info)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit ghemu: %v\n", err)
		return ExitUsage
	}
	fmt.Fprintln(o.Stdout, string(b))
	<-ctx.Done()
	log.Info("ghemu stopping")
	return ExitOK
}
