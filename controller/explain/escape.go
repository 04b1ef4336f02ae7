package explain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxValue bounds one value (a reason, a scope value, a message) in any
// output, in runes, so that no single field swamps a check run or comment.
const maxValue = 1000

// markdownPunct are the ASCII characters md escapes with a backslash: those
// that open emphasis, code, links, images, tables, strikethrough, math,
// headings, lists, emoji or autolinks (":" of "https:", "." of "www.").
const markdownPunct = "\\`*_{}[]()#+-.!|~:=$"

// md escapes s for use anywhere inline in GitHub Markdown, table cells
// included. The result renders as s (after clip) and has no newline or
// control character, no raw "<", ">" or unescaped "&", every "|" and every
// Markdown punctuation escaped by a backslash, and every "@" followed by
// a zero-width space so that it never mentions a person or team.
func md(s string) string {
	var b strings.Builder
	for _, r := range clip(s) {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '@':
			b.WriteString("@&#8203;")
		case r < utf8.RuneSelf && strings.ContainsRune(markdownPunct, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(safeRune(r))
		}
	}
	return b.String()
}

// code renders s as a Markdown code span, where nothing is a mention,
// link or markup. A value that a code span cannot hold safely in a table
// cell (a backtick, a "|", a backslash, a control character) or an empty
// one is rendered by md instead.
func code(s string) string {
	s = clip(s)
	if s == "" || strings.ContainsAny(s, "`|\\") || strings.IndexFunc(s, func(r rune) bool { return safeRune(r) != r }) >= 0 {
		return md(s)
	}
	return "`" + s + "`"
}

// plain renders s for a terminal: control characters, ANSI escape
// sequences and bidirectional overrides removed or replaced, so that a
// value can neither move the cursor, recolour the screen nor reorder what
// is shown.
func plain(s string) string {
	var b strings.Builder
	rs := []rune(clip(s))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == 0x1b || r == 0x9b {
			i = skipEscape(rs, i)
			continue
		}
		b.WriteRune(safeRune(r))
	}
	return b.String()
}

// skipEscape returns the index of the last rune of the escape sequence
// that starts at rs[i] (ESC or the one-rune CSI).
func skipEscape(rs []rune, i int) int {
	if rs[i] == 0x1b {
		if i+1 >= len(rs) {
			return i
		}
		i++
		switch rs[i] {
		case '[':
		case ']', 'P', '_', '^', 'X':
			// A string sequence (OSC, DCS, ...): up to BEL, ST or ESC \.
			for j := i + 1; j < len(rs); j++ {
				if rs[j] == 0x07 || rs[j] == 0x9c {
					return j
				}
				if rs[j] == 0x1b && j+1 < len(rs) && rs[j+1] == '\\' {
					return j + 1
				}
			}
			return len(rs) - 1
		default:
			return i
		}
	}
	// A control sequence: parameters and intermediates (0x20-0x3f), then
	// one final rune (0x40-0x7e). Anything else ends it early and is kept.
	for j := i + 1; j < len(rs); j++ {
		switch {
		case rs[j] >= 0x40 && rs[j] <= 0x7e:
			return j
		case rs[j] < 0x20 || rs[j] > 0x3f:
			return j - 1
		}
	}
	return len(rs) - 1
}

// safeRune maps whitespace controls to a space and every other control
// character, bidirectional control and invalid byte to U+FFFD.
func safeRune(r rune) rune {
	switch {
	case r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029:
		return ' '
	case unicode.IsControl(r), r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return utf8.RuneError
	}
	return r
}

// clip cuts s to maxValue runes, marking the cut with an ellipsis, and
// replaces invalid UTF-8.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= maxValue {
		return s
	}
	return string([]rune(s)[:maxValue]) + "…"
}

// fit returns s cut at a line boundary so that it and note take at most
// limit bytes, then note; s itself when it fits.
func fit(s string, limit int, note string) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len(note) - 2
	if i := strings.LastIndexByte(s[:cut], '\n'); i > 0 {
		cut = i
	} else {
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
	}
	return s[:cut] + "\n\n" + note
}
