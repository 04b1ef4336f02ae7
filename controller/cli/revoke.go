package cli

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/userapi"
)

const revokeUsage = `usage: jit revoke ID [--reason TEXT] [--repo DIR] [--github-url URL] [--github-repo OWNER/NAME]

Ends a grant early: opens a pull request on branch jit/revoke/<ID> that
deletes the grant file access/<ID>.yaml from the default branch's tip. The
requester's own revocation (or a code owner's) needs no approval; once it is
merged, jit destroys the grant's access.
` + userEnvHelp

func runRevoke(ctx context.Context, o IO, args []string) int {
	const cmd = "jit revoke"
	fl, uf := newUserFlagSet(o, cmd, revokeUsage)
	reason := fl.String("reason", "", "why the access ends early (`TEXT`, for the pull request)")
	id, code := parseWithID(fl, args, cmd)
	if code >= 0 {
		return code
	}
	s, file, _, code := openGrant(ctx, o, cmd, uf, id)
	if code >= 0 {
		return code
	}
	body := fmt.Sprintf("Revokes `%s` early: deletes `%s`.\n", id, file)
	if *reason != "" {
		body += "\nReason: " + *reason + "\n"
	}
	pr, rep, err := s.propose(ctx, proposal{
		branch:  "jit/revoke/" + id,
		title:   fmt.Sprintf("jit: %s revokes %s", s.login, id),
		body:    body,
		message: fmt.Sprintf("Revoke %s\n\n%s\n", id, *reason),
		changes: []userapi.FileChange{{Path: file, Delete: true}},
	})
	return s.report(o, cmd, pr, rep, err)
}

// parseWithID parses a command line of one grant ID and flags (in any
// order), returning the ID, or the exit code to stop with.
func parseWithID(fl *flag.FlagSet, args []string, cmd string) (string, int) {
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return "", usageExit(err)
		}
		if fl.NArg() == 0 {
			break
		}
		pos = append(pos, fl.Arg(0))
		args = fl.Args()[1:]
	}
	if len(pos) != 1 {
		fmt.Fprintf(fl.Output(), "%s: give exactly one grant ID (its file's path below access/ without .yaml, such as prod/orders/alice-inc-1234)\n", cmd)
		return "", ExitUsage
	}
	id := strings.TrimSuffix(strings.TrimPrefix(pos[0], request.Dir+"/"), request.Ext)
	if _, problem := request.IDFromPath(request.Dir + "/" + id + request.Ext); problem != "" {
		fmt.Fprintf(fl.Output(), "%s: %q is not a grant ID: %s\n", cmd, pos[0], problem)
		return "", ExitUsage
	}
	return id, -1
}

// openGrant opens the session and reads grant id's file at the default
// branch's tip; it returns the exit code to stop with, or -1.
func openGrant(ctx context.Context, o IO, cmd string, uf *userFlags, id string) (*userSession, string, []byte, int) {
	s, err := uf.open(ctx)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return nil, "", nil, ExitUsage
	}
	tree, done, err := s.tree()
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return nil, "", nil, ExitUsage
	}
	defer done()
	file := request.Dir + "/" + id + request.Ext
	data, err := fs.ReadFile(tree, file)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: no grant %s at %s's tip (%s): check the id with jit list\n", cmd, id, s.branch, short(s.tip))
		return nil, "", nil, ExitProblems
	}
	return s, file, data, -1
}
