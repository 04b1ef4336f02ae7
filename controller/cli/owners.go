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
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/counted"
	"github.com/jitops/jit/controller/policy"
	"github.com/jitops/jit/controller/request"
)

const ownersUsage = `usage: jit owners [--repo DIR] [--ref REV] PATH...

Prints one line per PATH: the path, then its code owners separated by spaces
(nothing after the path when it has none), read from the CODEOWNERS file that
GitHub would use (.github/CODEOWNERS, then CODEOWNERS, then docs/CODEOWNERS).
Without --ref the working tree's file is read.

Below a grant file's line (a path under access/), an indented line says who
among its owners may approve it: never its requester, and only as many and
whom the policies covering it ask for. Below a path nobody may approve, an
indented line says why.

A CODEOWNERS file with errors prints the errors and exits 1: jit treats such
a file as "nobody is eligible". Exit status 2 is a usage or internal error.
`

func runOwners(ctx context.Context, o IO, args []string) int {
	flags := flag.NewFlagSet("owners", flag.ContinueOnError)
	if flagSetCreated != nil {
		flagSetCreated(flags)
	}
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
	policies, policyProblems := policy.Load(fsys)
	if len(policyProblems) > 0 {
		policies = nil // broken policies judge nothing: jit fails closed
	}
	var b strings.Builder
	for _, p := range flags.Args() {
		clean := strings.TrimPrefix(path.Clean("/"+p), "/")
		if strings.HasSuffix(p, "/") && clean != "" {
			clean += "/"
		}
		b.WriteString(p)
		owners := file.Owners(clean)
		for _, owner := range owners {
			b.WriteByte(' ')
			b.WriteString(owner.String())
		}
		b.WriteByte('\n')
		if note := eligibility(fsys, file, policies, clean, len(owners)); note != "" {
			b.WriteString("  " + note + "\n")
		}
	}
	fmt.Fprint(o.Stdout, b.String())
	return code
}

// eligibility says who among a path's n owners may approve it: for a path
// nobody may approve, why; for a grant file, that its requester never may,
// and what the policies covering it require. It is "" for other paths with
// owners.
func eligibility(fsys fs.FS, file *codeowners.File, policies []grant.Policy, p string, n int) string {
	switch {
	case file == nil:
		return "nobody is eligible: there is no CODEOWNERS file"
	case file.Err() != nil:
		return "nobody is eligible while CODEOWNERS has errors (listed on stderr); fix them in a pull request of their own"
	case n == 0:
		return "nobody is eligible: no CODEOWNERS rule gives this path an owner"
	case !strings.HasPrefix(p, request.Dir+"/"):
		return ""
	}
	who := "these owners, except the grant's requester (nobody approves their own grant)"
	if req, problems := request.LoadFile(fsys, p); len(problems) == 0 {
		who = fmt.Sprintf("these owners, except %s, the requester (nobody approves their own grant)", req.Requester)
	}
	covering := grant.Applicable(policies, p)
	if len(covering) == 0 {
		return "nobody is eligible: no policy covers this path (or policies/ has errors; jit validate lists them), so no grant there can be approved"
	}
	approvals, names := 0, make([]string, len(covering))
	var only []string
	for i, pol := range covering {
		names[i] = pol.Name
		approvals = max(approvals, pol.Approvals)
		if len(pol.Approvers) > 0 {
			only = append(only, fmt.Sprintf("%s of policy %s", strings.Join(pol.Approvers, ", "), pol.Name))
		}
	}
	note := fmt.Sprintf("eligible: %s; %s needed (%s %s)", who, counted.N(approvals, "approval", "approvals"),
		counted.Noun(len(names), "policy", "policies"), strings.Join(names, ", "))
	if len(only) > 0 {
		note += "; an approver must also match " + strings.Join(only, " and ")
	}
	return note
}
