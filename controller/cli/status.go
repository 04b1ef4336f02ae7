package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/jitops/jit/controller/app"
)

// runStatus prints the explanation jit/validate and jit/approval give for a
// pull request, computed afresh, without posting anything.
func runStatus(ctx context.Context, o IO, args []string) int {
	fs := flag.NewFlagSet("jit status", flag.ContinueOnError)
	fs.SetOutput(o.Stderr)
	gf := addGitHubFlags(fs)
	pr := fs.Int("pr", 0, "the pull request `NUMBER` to explain (required)")
	dataDir := fs.String("data-dir", "", "`DIR` for the mirror of the access repository (env JIT_DATA_DIR; default: a temporary directory removed afterwards)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: jit status --pr N [GitHub App flags]\n\nPrints what jit/validate and jit/approval say about pull request N, judged now.\nExit 0 when it is valid and approved (or needs no approval), 1 otherwise.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if *pr <= 0 {
		fmt.Fprintln(o.Stderr, "jit status: --pr is required: give the pull request's number")
		return ExitUsage
	}
	g, err := gf.resolve(os.Getenv)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit status: %v\n", err)
		return ExitUsage
	}
	dir := *dataDir
	if dir == "" {
		dir = os.Getenv("JIT_DATA_DIR")
	}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "jit-status-")
		if err != nil {
			fmt.Fprintf(o.Stderr, "jit status: %v\n", err)
			return ExitUsage
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gh, repo, m, err := connect(ctx, g, dir, nil, log)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit status: %v\n", err)
		return ExitUsage
	}
	if err := m.Fetch(ctx); err != nil {
		fmt.Fprintf(o.Stderr, "jit status: fetching %s: %v\n", repo.FullName, err)
		return ExitUsage
	}
	ev := &app.Evaluator{GitHub: gh, Mirror: m, DefaultBranch: repo.DefaultBranch}
	text, ok, err := ev.Status(ctx, *pr)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit status: %v\n", err)
		return ExitUsage
	}
	io.WriteString(o.Stdout, text)
	if !ok {
		return ExitProblems
	}
	return ExitOK
}
