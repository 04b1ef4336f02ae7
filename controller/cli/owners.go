package cli

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/codeowners"
	"github.com/jitops/jit/controller/history"
)

const ownersUsage = `usage: jit owners [--repo DIR] [--ref REV] PATH...

Prints one line per PATH: the path, then its code owners separated by spaces
(nothing after the path when it has none), read from the CODEOWNERS file that
GitHub would use (.github/CODEOWNERS, then CODEOWNERS, then docs/CODEOWNERS).
Without --ref the working tree's file is read.

A CODEOWNERS file with errors prints the errors and exits 1: jit treats such
a file as "nobody is eligible". Exit status 2 is a usage or internal error.
`

func runOwners(ctx context.Context, o IO, args []string) int {
	flags := flag.NewFlagSet("owners", flag.ContinueOnError)
	flags.SetOutput(o.Stderr)
	flags.Usage = func() { fmt.Fprint(o.Stderr, ownersUsage) }
	repo := flags.String("repo", ".", "the access repository")
	ref := flags.String("ref", "", "revision to read CODEOWNERS from (default: the working tree)")
	if err := flags.Parse(args); err != nil {
		return usageExit(err)
	}
	if flags.NArg() == 0 {
		fmt.Fprint(o.Stderr, "jit owners: give at least one PATH\n"+ownersUsage)
		return ExitUsage
	}
	var fsys fs.FS
	if *ref == "" {
		fsys = os.DirFS(*repo)
	} else {
		r, err := history.Open(*repo)
		if err != nil {
			fmt.Fprintf(o.Stderr, "jit owners: %v\n", err)
			return ExitUsage
		}
		defer r.Close()
		c, err := r.Resolve(*ref)
		if err != nil {
			fmt.Fprintf(o.Stderr, "jit owners: %v\n", err)
			return ExitUsage
		}
		if fsys, err = r.FS(c); err != nil {
			fmt.Fprintf(o.Stderr, "jit owners: %v\n", err)
			return ExitUsage
		}
	}
	file, err := change.ReadCodeowners(fsys)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit owners: %v\n", err)
		return ExitUsage
	}
	if file == nil {
		fmt.Fprintf(o.Stderr, "jit owners: no CODEOWNERS file (looked for %s); every path is unowned\n", strings.Join(codeowners.Locations, ", "))
	}
	code := ExitOK
	if err := file.Err(); err != nil {
		fmt.Fprintf(o.Stderr, "jit owners: CODEOWNERS has errors, so jit considers nobody eligible:\n%v\n", err)
		code = ExitProblems
	}
	var b strings.Builder
	for _, p := range flags.Args() {
		clean := strings.TrimPrefix(path.Clean("/"+p), "/")
		if strings.HasSuffix(p, "/") && clean != "" {
			clean += "/"
		}
		b.WriteString(p)
		for _, owner := range file.Owners(clean) {
			b.WriteByte(' ')
			b.WriteString(owner.String())
		}
		b.WriteByte('\n')
	}
	fmt.Fprint(o.Stdout, b.String())
	return code
}
