package cli

import (
	"context"
	"fmt"
)

func runOwners(ctx context.Context, o IO, args []string) int {
	fmt.Fprintln(o.Stderr, "jit owners: not built yet")
	return ExitUsage
}
