// Command jit-demo shows a grant's whole life against jit dev, in about a
// minute (make demo): it starts the sandbox, then narrates and checks each
// step (alice's request, who may approve, her own approval refused, bob's
// approval, the signed merge, the credentials decrypted with alice's key,
// the role logging in, the expiry, the login refused, the expiry pull
// request merged by auto-merge, jit audit show and git log of a fresh
// clone). It exits non-zero naming the step that did not do what it
// narrated, and cleans up either way.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	fs := flag.NewFlagSet("jit-demo", flag.ExitOnError)
	source := fs.String("source", ".", "`DIR` inside the jit repository whose HEAD jit dev seeds")
	skew := fs.Duration("clock-skew", defaultSkew, "jit dev's --clock-skew: the 1m grant lives this much less")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: jit-demo [--source DIR] [--clock-skew DURATION]\n\nRuns a grant's whole life against jit dev, narrated and checked step by step.")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if err := Run(ctx, Options{Out: os.Stdout, Source: *source, ClockSkew: *skew}); err != nil {
		fmt.Fprintf(os.Stderr, "\njit-demo: FAILED after %s: %v\n", time.Since(start).Round(time.Second), err)
		os.Exit(1)
	}
}
