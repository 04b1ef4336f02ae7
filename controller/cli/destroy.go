package cli

import (
	"context"
	"fmt"
	"sync"

	"github.com/jitops/jit/controller/pass"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/render"
)

func runDestroy(ctx context.Context, o IO, args []string) int {
	var pf provisionFlags
	var grants multiFlag
	fs := newFlagSet(o, "jit destroy", "jit destroy --state SPEC --grant ID... [--repo DIR] [--default-branch NAME] [--rev SHA] [flags]\n\nDestroy the named grants' resources and workspaces, --concurrency at a time. It needs only the state\n(and the templates at the default branch's tip, read from --repo), not the grant files. A grant with no workspace\nin the state (an unknown id, a wrong --state, or a grant destroyed before) is\nan error, and so is a state that holds no grant workspace at all: destroy\nnever reports success for something it did not find.")
	pf.register(fs, false)
	fs.Var(&grants, "grant", "grant `ID` to destroy (repeatable, at least one)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if len(grants) == 0 {
		fmt.Fprintln(o.Stderr, "jit destroy: name the grants to destroy with --grant ID")
		return ExitUsage
	}
	log, cfg, ok := pf.config(o, "jit destroy")
	if !ok {
		return ExitUsage
	}
	release, err := lockPasses(ctx, cfg.Backend, log)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit destroy: %v\n", err)
		return ExitProblems
	}
	defer release()
	m, closeRepo, err := pass.Manager(ctx, pf.pass(log, cfg))
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit destroy: %v\n", err)
		return ExitUsage
	}
	defer closeRepo()
	state := m.Backend().String()
	names, err := m.WorkspaceNames(ctx)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit destroy: %v\n", err)
		return ExitProblems
	}
	if len(names) == 0 {
		fmt.Fprintf(o.Stderr, "jit destroy: state %s holds no grant workspaces at all%s, so nothing named by --grant can be destroyed there: check that --state names the state the grants were applied with\n", state, neverUsed(ctx, m))
		return ExitProblems
	}
	results := make([]string, len(grants))
	failed := false
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, pf.concurrency)
	for i, id := range grants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			d, err := m.Destroy(ctx, id)
			switch {
			case err == nil && d.Existed:
				results[i] = fmt.Sprintf("destroyed %s%s", id, resourceList(d.Resources))
				return
			case err == nil:
				err = fmt.Errorf("no workspace for this grant in state %s (looked for %s and the older %s): check the grant id (its file's path below access/ without .yaml) and that --state names the state it was applied with; a grant destroyed before has no workspace either", state, render.WorkspaceName(id), render.LegacyWorkspaceName(id))
			}
			mu.Lock()
			failed = true
			mu.Unlock()
			results[i] = fmt.Sprintf("FAILED %s: %v", id, err)
		}()
	}
	wg.Wait()
	return printResults(o, results, failed)
}

// neverUsed says, for a message about an empty state, whether jit ever used
// it.
func neverUsed(ctx context.Context, m *provision.Manager) string {
	used, err := m.Used(ctx)
	switch {
	case err != nil:
		return ""
	case used:
		return " (every grant applied there was destroyed)"
	default:
		return " and has never held one"
	}
}
