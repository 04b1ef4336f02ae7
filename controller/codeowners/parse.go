package codeowners

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

const bom = "\uFEFF"

// Parse parses a CODEOWNERS file read from path. It never fails as a whole:
// like GitHub ("If any line in your CODEOWNERS file contains invalid syntax,
// that line will be skipped"), each bad line becomes an Error and the other
// lines still apply. It guarantees:
//
//   - data of MaxSize bytes or more yields no rules and one Error on line 0
//     (GitHub does not load such a file at all);
//   - lines end at "\n"; a "\r" before it is dropped, and a "\r" anywhere
//     else, any other control character, or invalid UTF-8 makes the line an
//     Error;
//   - a UTF-8 byte order mark at the start is an Error (GitHub's handling of
//     it is undocumented) and is otherwise ignored;
//   - blank lines and lines whose first non-blank character is # are
//     comments; after the pattern, a word starting with # starts a comment;
//   - the first word is the pattern (a "\ " inside it is a space); every
//     further word must be an owner: @user, @org/team or an email address;
//   - a pattern using ! negation, a leading \#, an unescaped [ or ] (GitHub:
//     "both [ and ] must be escaped with a \"; there are no character
//     ranges, and \[ \] match literally), an escaped slash (\/, which
//     gitignore reads as a separator and GitHub does not document), the
//     pattern / or an empty segment is an Error;
//   - at most MaxErrors errors are recorded, then one of KindTooManyErrors.
//
// Parse reads no files; pass the bytes Find returned.
func Parse(path string, data []byte) *File {
	p := &parser{f: &File{Path: path}}
	if len(data) >= MaxSize {
		p.f.Errors = []Error{{
			Path: path,
			Kind: KindTooLarge,
			Message: fmt.Sprintf("the file is %d bytes and GitHub does not load a CODEOWNERS file of 3 MB (%d bytes) or more, so no path has code owners",
				len(data), MaxSize),
			Suggestion: "shrink the file, for example by owning whole directories instead of single files",
		}}
		p.f.idx = buildIndex(nil)
		return p.f
	}
	text := string(data)
	if strings.HasPrefix(text, bom) {
		p.add(Error{
			Line: 1, Column: 1, Kind: KindInvalidText,
			Source:     clip(text[len(bom):]),
			Message:    "the file starts with a UTF-8 byte order mark, which GitHub may read as part of the first pattern",
			Suggestion: "save the file as UTF-8 without a byte order mark",
		})
		text = text[len(bom):]
	}
	for n := 1; text != ""; n++ {
		line, rest, _ := strings.Cut(text, "\n")
		text = rest
		p.line(n, strings.TrimSuffix(line, "\r"))
	}
	p.f.idx = buildIndex(p.f.pats)
	return p.f
}

type parser struct {
	f       *File
	tooMany bool
}

func (p *parser) add(e Error) {
	if p.tooMany {
		return
	}
	e.Path = p.f.Path
	if len(p.f.Errors) == MaxErrors {
		p.tooMany = true
		e = Error{
			Path: p.f.Path, Line: e.Line, Column: 1, Kind: KindTooManyErrors,
			Message: fmt.Sprintf("more than %d errors; the rest are not listed", MaxErrors),
		}
	}
	p.f.Errors = append(p.f.Errors, e)
}

// cols turns increasing byte offsets in one line into 1-based character
// columns, counting each character once however many errors the line has.
type cols struct {
	line string
	off  int
	col  int
}

func (c *cols) at(off int) int {
	if off < c.off {
		c.off, c.col = 0, 1
	}
	if c.col == 0 {
		c.col = 1
	}
	c.col += utf8.RuneCountInString(c.line[c.off:off])
	c.off = off
	return c.col
}

// col returns the 1-based character column of byte offset off in line.
func col(line string, off int) int {
	return utf8.RuneCountInString(line[:off]) + 1
}

// short shortens s for quoting in a message: at most 60 bytes, cut at a
// character boundary, with "..." when cut.
func short(s string) string {
	if len(s) <= 60 {
		return s
	}
	cut := 57
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// clip shortens the first line of s to at most 200 bytes of valid UTF-8, so
// that errors stay small whatever the input.
func clip(s string) string {
	if len(s) > 800 {
		s = s[:800]
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= 200 {
		return s
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func (p *parser) line(n int, line string) {
	if !utf8.ValidString(line) {
		off := 0
		for off < len(line) {
			r, size := utf8.DecodeRuneInString(line[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		p.add(Error{
			Line: n, Column: col(line, off), Kind: KindInvalidText, Source: clip(line),
			Message:    "the line is not valid UTF-8, so it is skipped",
			Suggestion: "save the file as UTF-8 text",
		})
		return
	}
	for i := 0; i < len(line); i++ {
		if c := line[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			msg := fmt.Sprintf("the line contains the control character %U, so it is skipped", rune(c))
			sugg := "remove the character; CODEOWNERS is plain text"
			if c == '\r' {
				msg = "the line contains a carriage return that does not end the line, so it is skipped"
				sugg = "end lines with \\n or \\r\\n"
			}
			p.add(Error{Line: n, Column: col(line, i), Kind: KindInvalidText, Source: clip(line), Message: msg, Suggestion: sugg})
			return
		}
	}

	i := 0
	for i < len(line) && isBlank(line[i]) {
		i++
	}
	if i == len(line) || line[i] == '#' {
		return
	}
	start := i
	for i < len(line) && !isBlank(line[i]) {
		if line[i] == '\\' && i+1 < len(line) {
			_, size := utf8.DecodeRuneInString(line[i+1:])
			i += size
		}
		i++
	}
	raw := line[start:i]

	errs := 0
	c := cols{line: line}
	pat, perr := compile(raw)
	if perr != nil {
		errs++
		if p.tooMany {
			return // the line is skipped and no more errors are recorded
		}
		p.add(Error{Line: n, Column: c.at(start + perr.off), Kind: KindInvalidPattern, Source: clip(line),
			Message: fmt.Sprintf("pattern %q: %s", short(raw), perr.msg), Suggestion: perr.suggestion})
	}

	var owners []Owner
	for i < len(line) {
		for i < len(line) && isBlank(line[i]) {
			i++
		}
		if i == len(line) || line[i] == '#' {
			break
		}
		ts := i
		for i < len(line) && !isBlank(line[i]) {
			i++
		}
		o, bad := parseOwner(line[ts:i])
		if bad != badNone {
			errs++
			if p.tooMany {
				return
			}
			msg, sugg := ownerMessage(line[ts:i], bad)
			p.add(Error{Line: n, Column: c.at(ts), Kind: KindInvalidOwner, Source: clip(line),
				Message: msg + ", so GitHub skips this line", Suggestion: sugg})
			continue
		}
		if errs == 0 {
			owners = append(owners, o)
		}
	}
	if errs > 0 {
		return
	}
	p.f.Rules = append(p.f.Rules, Rule{Line: n, Pattern: raw, Owners: owners})
	p.f.pats = append(p.f.pats, pat)
}
