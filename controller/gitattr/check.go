package gitattr

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/jitops/jit/controller/grant"
)

// MaxSize is the largest .gitattributes accepted, in bytes.
const MaxSize = 100 << 10

// MaxLineLength is git's limit: attribute lines of this many bytes or more
// are ignored by git (with a warning), so they are rejected.
const MaxLineLength = 2048

// macroPrefix starts a macro definition line: "[attr]binary -diff -merge -text".
const macroPrefix = "[attr]"

// blanks separate the pattern from the attributes, as in git (which counts
// a carriage return as one).
const blanks = " \t\r\n"

const why = "no git attribute may apply to grant files or governing files (everything under access/, policies/, templates/ and .github/, CODEOWNERS, docs/CODEOWNERS and every .gitattributes), because an attribute can hide a diff from reviewers or change what a checkout shows"

// Check reports every line of a .gitattributes file that could give a git
// attribute to a grant file or a governing file, or that cannot be read
// with certainty. file is the repository-relative path of the .gitattributes
// (".gitattributes", "docs/.gitattributes"); its patterns apply below its
// directory. It guarantees:
//
//   - a pattern is accepted only when no path it can match, existing or not,
//     is governed, even with git ignoring case (core.ignorecase on
//     case-insensitive file systems); the problem names one governed path it
//     could apply to;
//   - any attribute counts, unset (-diff) and unspecified (!diff) ones
//     included, and so does a pattern with no attributes at all;
//   - negative patterns, patterns that never match (a lone backslash at the
//     end, empty, "." or ".." segments), escaped slashes, unreadable bracket
//     expressions and quoted patterns that are not valid C-style quoting are
//     problems, as are macro definitions ([attr]name) outside the top-level
//     .gitattributes or with an invalid name (git ignores both);
//   - lines of MaxLineLength bytes or more, invalid UTF-8 and control
//     characters other than tab and carriage return are problems, and a file
//     over MaxSize bytes is one problem;
//   - problems are in line order, at most one per line, each at the line
//     and the column where the pattern (or the bad byte) starts.
func Check(file string, data []byte) []grant.Problem {
	if len(data) > MaxSize {
		return []grant.Problem{{File: file, Line: 1, Column: 1,
			Message: fmt.Sprintf("file is %d bytes; a .gitattributes may be at most %d bytes (100 KiB): keep only the attributes you need", len(data), MaxSize)}}
	}
	dir := path.Dir(path.Clean("/" + file))[1:]
	text := strings.TrimPrefix(string(data), "\uFEFF") // git skips a byte order mark
	var problems []grant.Problem
	for n := 1; text != ""; n++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		if col, msg := checkLine(dir, line); msg != "" {
			problems = append(problems, grant.Problem{File: file, Line: n, Column: col, Message: msg})
		}
	}
	return problems
}

// checkLine returns the column and message of the line's problem, or "".
func checkLine(dir, line string) (int, string) {
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return col(line, i), "the line is not valid UTF-8; save the file as UTF-8 text"
		case r < 0x20 && r != '\t' && r != '\r', r == 0x7f:
			return col(line, i), fmt.Sprintf("control character %U; git and reviewers would read this line differently: delete it", r)
		}
		i += size
	}
	start := len(line) - len(strings.TrimLeft(line, blanks))
	if start == len(line) || line[start] == '#' {
		return 0, ""
	}
	if len(line) >= MaxLineLength {
		return 1, fmt.Sprintf("the line is %d bytes; git ignores attribute lines of %d bytes or more, so it would do nothing: shorten it", len(line), MaxLineLength)
	}
	pos := col(line, start)
	rest := line[start:]
	pattern := rest[:strings.IndexAny(rest+" ", blanks)]
	if rest[0] == '"' {
		unq, ok := unquote(rest)
		if !ok {
			return pos, fmt.Sprintf("cannot read the quoted pattern %s: it needs a closing \" and only the escapes \\\\ \\\" \\a \\b \\f \\n \\r \\t \\v and \\ooo; fix the quoting, or write the pattern without quotes", short(pattern))
		}
		pattern = unq
	}
	if name, ok := strings.CutPrefix(pattern, macroPrefix); ok && name != "" {
		name = strings.TrimLeft(name, blanks)
		name = name[:strings.IndexAny(name+" ", blanks)]
		if dir != "" {
			return pos, fmt.Sprintf("macro definitions (%s%s) are only allowed in the top-level .gitattributes and git ignores this one; move it to /.gitattributes", macroPrefix, name)
		}
		if !validAttrName(name) {
			return pos, fmt.Sprintf("%q is not a valid macro name, so git ignores the line; use letters, digits, '-', '.' and '_', not starting with '-'", name)
		}
		return 0, "" // a definition assigns nothing to any path
	}
	if pattern == "" {
		return pos, "the quoted pattern is empty and matches nothing; name the files the attributes are for"
	}
	c, perr := compilePattern(pattern)
	if perr != nil {
		if rest[0] != '"' {
			pos = col(line, start+perr.off)
		}
		return pos, fmt.Sprintf("pattern %s: %s", short(pattern), perr.msg)
	}
	w, ok := governedMatch(dir, c)
	if !ok {
		return 0, ""
	}
	target := w.path
	if w.caseOnly {
		target += " (where git ignores case, as on macOS and Windows)"
	}
	return pos, fmt.Sprintf("pattern %s could apply to %s, %s; %s: anchor the pattern to a directory outside them and name the files it is for, for example /assets/**/*.png",
		short(pattern), target, w.what, why)
}

// col returns the 1-based character column of byte offset off in line.
func col(line string, off int) int { return utf8.RuneCountInString(line[:off]) + 1 }

// short quotes s for a message, shortened to about 60 bytes.
func short(s string) string {
	if len(s) > 60 {
		cut := 57
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// validAttrName is git's attr_name_valid: letters, digits, '-', '.' and
// '_', not empty and not starting with '-'.
func validAttrName(name string) bool {
	if name == "" || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '-' || c == '.' || c == '_' || isDigit(c) || isAlpha(c)) {
			return false
		}
	}
	return true
}

// unquote reads the C-style quoted string at the start of s as git's
// unquote_c_style does, returning its content; what follows the closing
// quote is the attribute list.
func unquote(s string) (string, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			return b.String(), true
		case '\\':
			i++
			if i >= len(s) {
				return "", false
			}
			switch e := s[i]; e {
			case '\\', '"':
				b.WriteByte(e)
			case 'a':
				b.WriteByte('\a')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'v':
				b.WriteByte('\v')
			case '0', '1', '2', '3':
				if i+2 >= len(s) || s[i+1] < '0' || s[i+1] > '7' || s[i+2] < '0' || s[i+2] > '7' {
					return "", false
				}
				b.WriteByte((e-'0')<<6 | (s[i+1]-'0')<<3 | (s[i+2] - '0'))
				i += 2
			default:
				return "", false
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}
