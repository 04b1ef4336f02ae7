package cli

import (
	"context"
	"fmt"
)

func runValidate(ctx context.Context, o IO, args []string) int {
	fmt.Fprintln(o.Stderr, "jit validate: not built yet")
	return ExitUsage
}
