package cli

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/userapi"
)

const extendUsage = `usage: jit extend ID --for DURATION [--reason TEXT] [--repo DIR] [--github-url URL] [--github-repo OWNER/NAME]

Asks for a grant to last a different time: opens a pull request on branch
jit/extend/<ID> that changes only the grant file's duration (counted, as
always, from the merge), and is approved again like a request.
` + userEnvHelp

func runExtend(ctx context.Context, o IO, args []string) int {
	const cmd = "jit extend"
	fl, uf := newUserFlagSet(o, cmd, extendUsage)
	dur := fl.String("for", "", "the new duration, such as 2h (`DURATION`, required)")
	reason := fl.String("reason", "", "why (`TEXT`, for the pull request)")
	id, code := parseWithID(fl, args, cmd)
	if code >= 0 {
		return code
	}
	if *dur == "" {
		fmt.Fprintf(o.Stderr, "%s: --for is required: the new duration, such as 2h\n", cmd)
		return ExitUsage
	}
	if _, err := grant.ParseDuration(*dur); err != nil {
		fmt.Fprintf(o.Stderr, "%s: --for: %v\n", cmd, err)
		return ExitUsage
	}
	s, file, data, code := openGrant(ctx, o, cmd, uf, id)
	if code >= 0 {
		return code
	}
	edited, err := withDuration(file, data, *dur)
	if err != nil {
		fmt.Fprintf(o.Stderr, "%s: %v\n", cmd, err)
		return ExitProblems
	}
	body := fmt.Sprintf("Changes the duration of `%s` to %s (counted from this pull request's merge).\n", id, *dur)
	if *reason != "" {
		body += "\nReason: " + *reason + "\n"
	}
	pr, rep, err := s.propose(ctx, proposal{
		branch:  "jit/extend/" + id,
		title:   fmt.Sprintf("jit: %s extends %s to %s", s.login, id, *dur),
		body:    body,
		message: fmt.Sprintf("Extend %s to %s\n\n%s\n", id, *dur, *reason),
		changes: []userapi.FileChange{{Path: file, Data: edited}},
	})
	return s.report(o, cmd, pr, rep, err)
}

// withDuration returns the grant file data with its duration's value
// replaced by dur and every other byte kept. It checks the result: the
// file must parse to the same grant but for the duration, else it refuses.
func withDuration(file string, data []byte, dur string) ([]byte, error) {
	before, problems := request.Parse(file, data)
	if len(problems) > 0 {
		return nil, fmt.Errorf("the grant file at the default branch does not parse, so jit will not edit it: %s", problems[0])
	}
	pos, ok := before.Pos["duration"]
	if !ok {
		return nil, errors.New("the grant file has no duration to change")
	}
	lines := strings.SplitAfter(string(data), "\n")
	if pos.Line < 1 || pos.Line > len(lines) {
		return nil, fmt.Errorf("%s:%d: the duration is not where the parser says; edit the file by hand", file, pos.Line)
	}
	ln := lines[pos.Line-1]
	start := byteColumn(ln, pos.Column)
	end := scalarEnd(ln, start)
	if start < 0 || end < 0 {
		return nil, fmt.Errorf("%s:%d:%d: jit cannot tell where the duration's value ends; edit the file by hand", file, pos.Line, pos.Column)
	}
	val := yamlString(dur)
	if durationText.MatchString(dur) {
		val = dur
	}
	lines[pos.Line-1] = ln[:start] + val + ln[end:]
	out := []byte(strings.Join(lines, ""))
	after, problems := request.Parse(file, out)
	if len(problems) > 0 {
		return nil, fmt.Errorf("changing the duration to %s makes the file invalid: %s", dur, problems[0])
	}
	before.Duration, before.Pos, after.Pos = after.Duration, nil, nil
	if !reflect.DeepEqual(before, after) {
		return nil, errors.New("changing the duration would change more than the duration; edit the file by hand")
	}
	return out, nil
}

// byteColumn turns a 1-based column counted in runes into a byte offset.
func byteColumn(line string, col int) int {
	n := 1
	for i := range line {
		if n == col {
			return i
		}
		n++
	}
	return -1
}

// scalarEnd returns the byte offset just after the scalar starting at
// start: a quoted one's closing quote, or a plain one's last non-space
// before a comment or the end of the line.
func scalarEnd(line string, start int) int {
	switch line[start] {
	case '"':
		for i := start + 1; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return -1
	case '\'':
		for i := start + 1; i < len(line); i++ {
			if line[i] == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
		return -1
	}
	end := len(strings.TrimRight(line, "\r\n"))
	if i := strings.Index(line[start:], " #"); i >= 0 {
		end = start + i
	}
	return len(strings.TrimRight(line[:end], " \t"))
}
