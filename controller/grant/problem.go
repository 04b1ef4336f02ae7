package grant

import (
	"fmt"
	"sort"
)

// Pos is a 1-based line and column in a file; 0 means unknown.
type Pos struct {
	Line   int
	Column int
}

// Problem is one thing wrong with an input, located so that a person (or a
// check-run annotation) can find it.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// At returns a Problem at pos in file.
func At(file string, pos Pos, format string, args ...any) Problem {
	return Problem{File: file, Line: pos.Line, Column: pos.Column, Message: fmt.Sprintf(format, args...)}
}

// String renders the problem as "file:line:col: message".
func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Message)
}

// SortProblems orders problems by file, line, column and message, so output is
// stable whatever order they were found in.
func SortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Message < b.Message
	})
}
