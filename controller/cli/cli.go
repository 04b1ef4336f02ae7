// Package cli implements jit's subcommands. It is the outermost shell: it
// parses flags, wires the adapters (git, terraform, GitHub) to the pure core
// and turns results into output and exit codes.
//
// Exit codes are a contract scripts rely on:
//
//	0  success (for validate: the input is valid)
//	1  the command ran and found problems
//	2  usage error or internal error
package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Exit codes shared by every subcommand.
const (
	ExitOK       = 0
	ExitProblems = 1
	ExitUsage    = 2
)

// IO is what a subcommand may touch of the outside world besides its flags.
type IO struct {
	Stdout io.Writer
	Stderr io.Writer
}

// command is one subcommand: run gets the arguments after the subcommand name.
type command struct {
	summary string
	run     func(ctx context.Context, io IO, args []string) int
}

// commands is the table of subcommands. Each entry's run function lives in a
// file named after the subcommand.
var commands = map[string]command{
	"validate": {"validate grant files, or a change between two revisions", runValidate},
	"owners":   {"print the CODEOWNERS owners of paths at a revision", runOwners},

	// provisioning (issue 4)
	"apply":     {"apply unexpired grants (all, or --grant ID) with terraform", runApply},
	"destroy":   {"destroy grants' resources and workspaces", runDestroy},
	"reconcile": {"apply missing grants and destroy expired or removed ones", runReconcile},
	"ghemu":     {"run the GitHub emulator standalone", runGHEmu},

	// the GitHub App (issue 8)
	"serve":  {"run the GitHub App: validate, explain, decide and merge grant pull requests", runServe},
	"status": {"explain a pull request as jit/validate and jit/approval do", runStatus},
	"expire": {"one expiry-and-reconcile pass as the App, for the GitHub Actions backstop", runExpire},

	"audit": {"tell every grant's story from git alone: log, show, active, verify", runAudit},

	// the requester's side (issue 11)
	"request":     {"ask for access: write a grant file, push it and open its pull request", runRequest},
	"revoke":      {"open a pull request ending a grant early", runRevoke},
	"extend":      {"open a pull request changing a grant's duration", runExtend},
	"list":        {"list the live grants at the default branch, with the time left", runList},
	"credentials": {"decrypt and print the credentials of your grant", runCredentials},
	"dev":         {"run a local sandbox (emulated GitHub, the App, PostgreSQL); dev approve PR --as LOGIN", runDev},
}

// Main runs jit with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := IO{Stdout: stdout, Stderr: stderr}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "jit: unknown command %q; run 'jit help' for the list\n", args[0])
		return ExitUsage
	}
	return c.run(ctx, o, args[1:])
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: jit COMMAND [flags]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-12s %s\n", n, commands[n].summary)
	}
	b.WriteString("\nRun 'jit COMMAND -h' for a command's flags.\n")
	io.WriteString(w, b.String())
}
