package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jitops/jit/controller/internal/counted"
	"github.com/jitops/jit/controller/pass"
	"github.com/jitops/jit/controller/reconcile"
)

func runApply(ctx context.Context, o IO, args []string) int {
	var pf provisionFlags
	var grants multiFlag
	fs := newFlagSet(o, "jit apply", "jit apply --state SPEC [--repo DIR] [--default-branch NAME] [--rev SHA] [--grant ID...] [flags]\n\nApply the grants on the default branch's tip that carry a verified controller\ndecision and have not expired (all, or those named by --grant): a reconcile\npass that only applies. Grant files without a verified decision are never applied; they are\nlisted on stderr and make the exit status 1.")
	pf.register(fs, true)
	fs.Var(&grants, "grant", "grant `ID` to apply (repeatable; default: every unexpired grant)")
	now := fs.String("now", "", "evaluate expiry at this RFC 3339 `TIME` instead of the clock (for tests)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	at, err := parseNow(*now)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit apply: %v\n", err)
		return ExitUsage
	}
	log, cfg, ok := pf.config(o, "jit apply")
	if !ok {
		return ExitUsage
	}
	release, err := lockPasses(ctx, cfg.Backend, log)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit apply: %v\n", err)
		return ExitProblems
	}
	defer release()
	pc := pf.pass(log, cfg)
	pc.Now = func() time.Time { return at }
	rep, err := pass.Run(ctx, pc, reconcile.Options{Grants: grants, NoDestroy: true})
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit apply: %v\n", err)
		return ExitProblems
	}
	failed := reportProblems(o, "jit apply", rep, grants)
	var results []string
	acted := map[string]bool{}
	for _, out := range rep.Result.Outcomes {
		acted[out.Grant] = true
		if out.Err != nil {
			failed = true
			results = append(results, fmt.Sprintf("FAILED %s: %v", out.Grant, out.Err))
			continue
		}
		results = append(results, fmt.Sprintf("applied %s until %s%s", out.Grant, expiryOf(rep, out.Grant), resourceList(out.Resources)))
	}
	for _, id := range grants {
		for _, g := range rep.Grants {
			if g.Request.ID == id && !acted[id] && !at.Before(g.ExpiresAt) {
				results = append(results, fmt.Sprintf("skipped %s: expired at %s", id, g.ExpiresAt.UTC().Format(time.RFC3339)))
			}
		}
	}
	if len(grants) == 0 {
		if note := expiredNote(rep, at, acted); note != "" {
			results = append(results, note)
		}
	}
	if len(results) == 0 {
		results = append(results, nothingToDo(rep, at))
	}
	return printResults(o, results, failed)
}

// maxListed bounds the grants a one-line note names.
const maxListed = 5

// expiredNote says which verified grants at the pass's revision were not
// applied because they had expired at at (those with no action of the
// pass), or "" when there are none.
func expiredNote(rep pass.Report, at time.Time, acted map[string]bool) string {
	var names []string
	n := 0
	for _, g := range rep.Grants {
		if acted[g.Request.ID] || at.Before(g.ExpiresAt) {
			continue
		}
		n++
		switch {
		case n <= maxListed:
			names = append(names, fmt.Sprintf("%s at %s", g.Request.ID, g.ExpiresAt.UTC().Format(time.RFC3339)))
		case n == maxListed+1:
			names = append(names, "…")
		}
	}
	if n == 0 {
		return ""
	}
	verb := "have expired (%s) and were not applied"
	if n == 1 {
		verb = "has expired (%s) and was not applied"
	}
	return fmt.Sprintf("%s "+verb+"; request access again with a new grant file", counted.N(n, "grant", "grants"), strings.Join(names, ", "))
}

// nothingToDo explains a pass that took no action.
func nothingToDo(rep pass.Report, at time.Time) string {
	live := 0
	for _, g := range rep.Grants {
		if at.Before(g.ExpiresAt) {
			live++
		}
	}
	switch {
	case len(rep.Grants) == 0:
		return fmt.Sprintf("nothing to do: no verified grant at %s (grant files merged without a verified decision are never applied)", short(rep.Rev))
	case live == 0:
		return fmt.Sprintf("nothing to do: none of the %s at %s is unexpired", counted.N(len(rep.Grants), "verified grant", "verified grants"), short(rep.Rev))
	}
	return fmt.Sprintf("nothing to do: the %s at %s %s applied already", counted.N(live, "unexpired grant", "unexpired grants"), short(rep.Rev), counted.Noun(live, "is", "are"))
}

// reportProblems prints, on stderr, the anomalies of a pass and the grant
// ids it was asked about but did not know. It reports whether any of them
// concern the pass: every one does, unless only names the grants the pass
// was limited to.
func reportProblems(o IO, cmd string, rep pass.Report, only []string) bool {
	found := len(rep.Unknown) > 0
	for _, a := range rep.Anomalies {
		fmt.Fprintf(o.Stderr, "%s: not applied: %s\n", cmd, a)
		found = found || len(only) == 0 || slices.Contains(only, a.Grant)
	}
	for _, id := range rep.Unknown {
		fmt.Fprintf(o.Stderr, "%s: grant %s: no verified grant at %s and no workspace in the state: check the id (its file's path below access/ without .yaml) and --default-branch\n", cmd, id, short(rep.Rev))
	}
	return found
}

func expiryOf(rep pass.Report, id string) string {
	for _, g := range rep.Grants {
		if g.Request.ID == id {
			return g.ExpiresAt.UTC().Format(time.RFC3339)
		}
	}
	return "?"
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
