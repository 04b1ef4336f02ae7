package codeowners

import (
	"fmt"
	"strings"
)

// Locations lists where GitHub looks for a CODEOWNERS file, in its search
// order: "If CODEOWNERS files exist in more than one of those locations, GitHub
// will search for them in that order and use the first one it finds."
var Locations = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

// MaxSize is GitHub's size limit: "CODEOWNERS files must be under 3 MB in
// size. A CODEOWNERS file over this limit will not be loaded". Parse loads no
// rule at all from data of MaxSize bytes or more.
const MaxSize = 3 << 20

// MaxErrors bounds how many errors Parse records for one file; past it, one
// final error of kind KindTooManyErrors says that more were left out.
const MaxErrors = 1000

// File is a parsed CODEOWNERS file. Rules holds the lines GitHub applies, in
// file order; Errors holds the lines it skips. Build a File with Parse; a File
// is never modified afterwards and is safe for concurrent use.
type File struct {
	// Path is the repository-relative location the file was read from, as
	// given to Parse; it prefixes every error.
	Path string
	// Rules are the valid pattern lines, in increasing line order.
	Rules []Rule
	// Errors are the skipped lines (or, at line 0, the whole file), in
	// increasing line order.
	Errors []Error

	pats []pattern // pats[i] is Rules[i] compiled
	idx  *index
}

// Rule is one valid CODEOWNERS line: a pattern and the owners it assigns.
// A Rule with no owners un-owns the paths it matches.
type Rule struct {
	// Line is the 1-based line number in the file.
	Line int
	// Pattern is the pattern as written, escapes included.
	Pattern string
	// Owners are the owners in the order written; empty means the line
	// un-owns what it matches.
	Owners []Owner
}

// Kind classifies an Error, in the style of GitHub's CODEOWNERS errors API
// (GET /repos/{owner}/{repo}/codeowners/errors, field "kind").
type Kind string

// The kinds of Error that Parse reports.
const (
	KindInvalidOwner   Kind = "Invalid owner"
	KindInvalidPattern Kind = "Invalid pattern"
	KindInvalidText    Kind = "Invalid text"
	KindTooLarge       Kind = "File too large"
	KindTooManyErrors  Kind = "Too many errors"
)

// Error is one problem in a CODEOWNERS file. Line and Column are 1-based
// (Column counts characters); Line 0 means the whole file.
type Error struct {
	Path   string
	Line   int
	Column int
	Kind   Kind
	// Source is the offending line, shortened to at most 200 bytes.
	Source string
	// Message says what is wrong and what GitHub does about it.
	Message string
	// Suggestion, when not empty, says how to fix it.
	Suggestion string
}

// Error renders the problem as "path:line:col: message; suggestion".
func (e Error) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Message)
	if e.Suggestion != "" {
		s += "; " + e.Suggestion
	}
	return s
}

// ErrorList is the error returned by File.Err: every problem in one file.
type ErrorList []Error

// Error joins the problems, one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns nil when the file has no errors, and otherwise an ErrorList
// holding every error. GitHub skips bad lines and applies the rest, which can
// silently move ownership to an earlier line; callers that grant access should
// treat a non-nil Err as "nobody is eligible" (fail closed).
func (f *File) Err() error {
	if f == nil || len(f.Errors) == 0 {
		return nil
	}
	return ErrorList(f.Errors)
}

// Find looks for the CODEOWNERS file GitHub would use. read is called with
// each entry of Locations in order and reports the file's bytes and whether
// it exists; Find stops at the first file that exists and returns its path and
// bytes. It returns found == false when none exists, and an error (naming the
// location) as soon as read fails, because a later location must not be used
// when an earlier one could not be checked. Find does not check the size;
// Parse does.
func Find(read func(path string) (data []byte, exists bool, err error)) (path string, data []byte, found bool, err error) {
	for _, loc := range Locations {
		data, ok, err := read(loc)
		if err != nil {
			return "", nil, false, fmt.Errorf("looking for CODEOWNERS at %s: %w", loc, err)
		}
		if ok {
			return loc, data, true, nil
		}
	}
	return "", nil, false, nil
}

// Match returns the rule that decides the owners of path: the last rule in the
// file whose pattern matches it ("the last matching pattern takes the most
// precedence"). ok is false when no rule matches, so the path has no owners.
// Earlier matching rules are never merged in. path is repository-relative
// with "/" separators; one leading "/" is ignored, and a path ending in "/"
// names something inside that directory. Match is safe for concurrent use.
func (f *File) Match(path string) (rule Rule, ok bool) {
	if f == nil || f.idx == nil {
		return Rule{}, false
	}
	i := f.idx.match(f.pats, path)
	if i < 0 {
		return Rule{}, false
	}
	return f.Rules[i], true
}

// Owners returns the owners of path under the last matching rule, or nil when
// no rule matches or the matching rule has no owners.
func (f *File) Owners(path string) []Owner {
	r, ok := f.Match(path)
	if !ok || len(r.Owners) == 0 {
		return nil
	}
	return r.Owners
}
