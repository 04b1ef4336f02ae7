package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jitops/jit/controller/reconcile"
)

func runReconcile(ctx context.Context, o IO, args []string) int {
	var pf provisionFlags
	fs := newFlagSet(o, "jit reconcile", "jit reconcile [--repo DIR] [--now RFC3339] [flags]\n\nMake the grant workspaces match the grant files at --rev: apply what is\nmissing or incomplete, destroy what expired or is gone. Running it again\nright away does nothing.")
	pf.register(fs, true)
	now := fs.String("now", "", "evaluate expiry at this RFC 3339 `TIME` instead of the clock (for tests)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	at, err := parseNow(*now)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit reconcile: %v\n", err)
		return ExitUsage
	}
	log, m, ok := pf.open(o, "jit reconcile")
	if !ok {
		return ExitUsage
	}
	src := gitSource{repo: pf.repo, rev: pf.rev, problems: func(msg string) {
		fmt.Fprintf(o.Stderr, "jit reconcile: invalid grant file, not desired: %s\n", msg)
	}}
	r := reconcile.New(src, provisioner{m}, log)
	r.Concurrency = pf.concurrency
	if *now != "" {
		r.Now = func() time.Time { return at }
	}
	res, err := r.Run(ctx)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit reconcile: %v\n", err)
		return ExitProblems
	}
	for _, out := range res.Outcomes {
		who := out.Grant
		if who == "" {
			who = "workspace " + out.Workspace
		}
		if out.Err != nil {
			fmt.Fprintf(o.Stdout, "%-7s %s (%s): FAILED: %s\n", out.Action, who, out.Reason, oneLine(out.Err.Error()))
			continue
		}
		fmt.Fprintf(o.Stdout, "%-7s %s (%s)%s\n", out.Action, who, out.Reason, resourceList(out.Resources))
	}
	fmt.Fprintf(o.Stdout, "reconciled: %d desired, %d existed, %d actions, %d failed\n", res.Desired, res.Actual, len(res.Outcomes), len(res.Failed()))
	if len(res.Failed()) > 0 {
		return ExitProblems
	}
	return ExitOK
}

// oneLine folds terraform's multi-line messages into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
