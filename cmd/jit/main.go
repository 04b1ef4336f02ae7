// Command jit is the single binary of jit: GitOps, pull-request-driven
// just-in-time production access. Every subcommand lives in controller/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/jitops/jit/controller/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
