package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jitops/jit/controller/internal/counted"
	"github.com/jitops/jit/controller/pass"
	"github.com/jitops/jit/controller/reconcile"
)

func runReconcile(ctx context.Context, o IO, args []string) int {
	var pf provisionFlags
	fs := newFlagSet(o, "jit reconcile", "jit reconcile --state SPEC [--repo DIR] [--default-branch NAME] [--rev SHA] [--drift] [--now RFC3339] [flags]\n\nMake the grant workspaces match the verified grants on the default branch:\napply what is missing or incomplete, destroy what expired or is gone. With --drift, also\nre-assert every live grant so that resources changed or removed by hand are\nreset. Running it again right away does nothing (without --drift). Grant\nfiles without a verified decision are never applied; they are listed on\nstderr and make the exit status 1.")
	pf.register(fs, true)
	now := fs.String("now", "", "evaluate expiry at this RFC 3339 `TIME` instead of the clock (for tests)")
	drift := fs.Bool("drift", false, "also re-assert every live grant (the drift pass)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	at, err := parseNow(*now)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit reconcile: %v\n", err)
		return ExitUsage
	}
	log, cfg, ok := pf.config(o, "jit reconcile")
	if !ok {
		return ExitUsage
	}
	release, err := lockPasses(ctx, cfg.Backend, log)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit reconcile: %v\n", err)
		return ExitProblems
	}
	defer release()
	pc := pf.pass(log, cfg)
	pc.Now = func() time.Time { return at }
	rep, err := pass.Run(ctx, pc, reconcile.Options{Drift: *drift})
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit reconcile: %v\n", err)
		return ExitProblems
	}
	problems := reportProblems(o, "jit reconcile", rep, nil)
	res := rep.Result
	acted := map[string]bool{}
	for _, out := range res.Outcomes {
		acted[out.Grant] = true
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
	// What was left alone goes to stderr: stdout is one line per action and
	// the summary, for scripts.
	if note := expiredNote(rep, at, acted); note != "" {
		fmt.Fprintf(o.Stderr, "jit reconcile: %s\n", note)
	}
	if len(res.Outcomes) == 0 {
		fmt.Fprintf(o.Stderr, "jit reconcile: %s\n", nothingToDo(rep, at))
	}
	fmt.Fprintf(o.Stdout, "reconciled: %d desired, %d existed, %s, %d failed, %s\n", res.Desired, res.Actual,
		counted.N(len(res.Outcomes), "action", "actions"), len(res.Failed()), counted.N(len(rep.Anomalies), "anomaly", "anomalies"))
	if len(res.Failed()) > 0 || problems {
		return ExitProblems
	}
	return ExitOK
}

// oneLine folds terraform's multi-line messages into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
