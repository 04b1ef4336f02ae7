// Command jit-demo is make demo: a grant's whole life against jit dev,
// narrated and checked step by step (package demo). It exits 1 naming the
// step that did not do what it narrated, and cleans up either way.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jitops/jit/controller/demo"
)

func main() {
	// The demo runs alice's jit commands by starting this program again.
	demo.RunJitIfAsked()
	fs := flag.NewFlagSet("jit-demo", flag.ExitOnError)
	source := fs.String("source", ".", "`DIR` inside the jit repository whose HEAD jit dev seeds")
	skew := fs.Duration("clock-skew", demo.DefaultSkew, "jit dev's --clock-skew: the 1m grant lives this much less")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: jit-demo [--source DIR] [--clock-skew DURATION]\n\nRuns a grant's whole life against jit dev, narrated and checked step by step.")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if err := demo.Run(ctx, demo.Options{Out: os.Stdout, Source: *source, ClockSkew: *skew}); err != nil {
		fmt.Fprintf(os.Stderr, "\njit-demo: FAILED after %s: %v\n", time.Since(start).Round(time.Second), err)
		os.Exit(1)
	}
}
