package cli

import (
	"context"
	"fmt"
	"sync"
)

func runDestroy(ctx context.Context, o IO, args []string) int {
	var pf provisionFlags
	var grants multiFlag
	fs := newFlagSet(o, "jit destroy", "jit destroy --grant ID... [flags]\n\nDestroy the named grants' resources and workspaces. It needs only the state\n(and the templates in --repo), not the grant files; destroying a grant that\nhas nothing left succeeds.")
	pf.register(fs, false)
	fs.Var(&grants, "grant", "grant `ID` to destroy (repeatable, at least one)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if len(grants) == 0 {
		fmt.Fprintln(o.Stderr, "jit destroy: name the grants to destroy with --grant ID")
		return ExitUsage
	}
	_, m, ok := pf.open(o, "jit destroy")
	if !ok {
		return ExitUsage
	}
	results := make([]string, len(grants))
	failed := false
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, id := range grants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := m.Destroy(ctx, id)
			switch {
			case err != nil:
				mu.Lock()
				failed = true
				mu.Unlock()
				results[i] = fmt.Sprintf("FAILED %s: %v", id, err)
			case !d.Existed:
				results[i] = fmt.Sprintf("destroyed %s (nothing to destroy)", id)
			default:
				results[i] = fmt.Sprintf("destroyed %s%s", id, resourceList(d.Resources))
			}
		}()
	}
	wg.Wait()
	return printResults(o, results, failed)
}
