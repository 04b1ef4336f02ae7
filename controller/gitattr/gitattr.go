// Package gitattr checks .gitattributes files: no attribute may apply to
// grant files or governing files, because attributes can hide a diff from
// reviewers (-diff, linguist-generated) or change what a checkout shows
// (filter, eol, working-tree-encoding).
//
// This is a placeholder that fails closed: it rejects every attribute line.
// The real check, which rejects only lines whose pattern could match grant
// or governing files, replaces this file.
package gitattr

import (
	"strings"

	"github.com/jitops/jit/controller/grant"
)

// Check returns a problem for every line of the .gitattributes file at path
// (content data) that could give attributes to grant or governing files.
// This placeholder treats every non-empty, non-comment line so.
func Check(path string, data []byte) []grant.Problem {
	var problems []grant.Problem
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		col := strings.Index(line, trimmed) + 1
		problems = append(problems, grant.At(path, grant.Pos{Line: i + 1, Column: col},
			"attribute lines are not allowed in .gitattributes: jit cannot yet tell which files %q gives attributes to, and attributes on grant or governing files can hide changes from reviewers; remove the line", trimmed))
	}
	return problems
}
