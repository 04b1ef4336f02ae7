package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/counted"
	"github.com/jitops/jit/controller/validate"
)

const validateUsage = `usage: jit validate [--repo DIR] [--format text|json]
       jit validate [--repo DIR] --base REV --head REV --author LOGIN
                    [--default-branch NAME] [--base-ref NAME] [--format text|json]

Without --base/--head, lints every grant in DIR's working tree against the
tree's own policies, templates and CODEOWNERS.

With them, validates the change a pull request makes from the merge base of
--base and --head to --head. It is judged by the default branch: CODEOWNERS,
policies, templates, .gitattributes and the grant ids that ever existed are
read from the tip of --default-branch (default main: the local branch, or
else origin/NAME), never from the pull request. --author, the pull request
author's login, is required: requesters must match it. --base-ref is the name
of the branch the pull request targets; a pull request that changes access/
must target the default branch (without --base-ref, --base must be on it).

Exit status: 0 valid, 1 problems found, 2 usage or internal error.
Text output: one problem per line, "path:line:col: message", and a count
of them on stderr; when all is valid, one line "ok: ..." saying what was
checked. A directory with neither access/ nor policies/ is no access
repository: that is a problem, not "valid".
`

func runValidate(ctx context.Context, o IO, args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	if flagSetCreated != nil {
		flagSetCreated(fs)
	}
	fs.SetOutput(o.Stderr)
	fs.Usage = func() { fmt.Fprint(o.Stderr, validateUsage) }
	repo := fs.String("repo", ".", "the access repository")
	base := fs.String("base", "", "base revision of the change")
	head := fs.String("head", "", "head revision of the change")
	author := fs.String("author", "", "pull request author; requesters must match it")
	defaultBranch := fs.String("default-branch", "main", "the default branch, whose tip judges the change")
	baseRef := fs.String("base-ref", "", "name of the branch the pull request targets")
	format := fs.String("format", "text", "output format: text or json")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(o.Stderr, "jit validate: unexpected argument %q\n%s", fs.Arg(0), validateUsage)
		return ExitUsage
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(o.Stderr, "jit validate: --format must be text or json, not %q\n", *format)
		return ExitUsage
	}
	if (*base == "") != (*head == "") {
		fmt.Fprintln(o.Stderr, "jit validate: --base and --head go together; give both to validate a change, or neither to lint the working tree")
		return ExitUsage
	}
	if *base == "" {
		var changeOnly []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "author" || f.Name == "default-branch" || f.Name == "base-ref" {
				changeOnly = append(changeOnly, "--"+f.Name)
			}
		})
		if len(changeOnly) > 0 {
			verb := "applies"
			if len(changeOnly) > 1 {
				verb = "apply"
			}
			fmt.Fprintf(o.Stderr, "jit validate: %s %s to a change; give --base and --head too\n", strings.Join(changeOnly, " and "), verb)
			return ExitUsage
		}
	} else if *author == "" {
		fmt.Fprintln(o.Stderr, "jit validate: validating a change needs --author, the pull request author's login (requesters must match it)")
		return ExitUsage
	}

	var report validate.Report
	where := *repo
	if *base == "" {
		info, err := os.Stat(*repo)
		if err != nil || !info.IsDir() {
			fmt.Fprintf(o.Stderr, "jit validate: --repo %s is not a directory\n", *repo)
			return ExitUsage
		}
		report = validate.Tree(os.DirFS(*repo))
	} else {
		r, err := history.Open(*repo)
		if err != nil {
			fmt.Fprintf(o.Stderr, "jit validate: %v\n", err)
			return ExitUsage
		}
		defer r.Close()
		where = *defaultBranch
		report, err = validate.Change(ctx, validate.ChangeInput{Repo: r, Base: *base, Head: *head, Author: *author,
			DefaultBranch: *defaultBranch, BaseRef: *baseRef})
		if err != nil {
			fmt.Fprintf(o.Stderr, "jit validate: %v\n", err)
			return ExitUsage
		}
	}
	if err := writeReport(o.Stdout, report, *format); err != nil {
		fmt.Fprintf(o.Stderr, "jit validate: writing output: %v\n", err)
		return ExitUsage
	}
	if !report.Valid {
		if *format == "text" {
			fmt.Fprintf(o.Stderr, "jit validate: %s found\n", counted.N(len(report.Problems), "problem", "problems"))
		}
		return ExitProblems
	}
	if *format == "text" {
		fmt.Fprintf(o.Stdout, "ok: %s\n", report.Summary(where))
	}
	return ExitOK
}

func writeReport(w io.Writer, r validate.Report, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	for _, p := range r.Problems {
		if _, err := fmt.Fprintln(w, p.String()); err != nil {
			return err
		}
	}
	return nil
}

// usageExit maps a flag parsing error to an exit code: -h is success.
func usageExit(err error) int {
	if err == flag.ErrHelp {
		return ExitOK
	}
	return ExitUsage
}
