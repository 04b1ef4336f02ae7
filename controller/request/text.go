package request

import (
	"fmt"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/jitops/jit/controller/grant"
)

// Grant files are read by two parties who must see the same thing: the YAML
// parser, which decides what is stored, and the approver, who reads the file
// in GitHub's diff. Characters on which they disagree are rejected:
//
//   - line breaks that YAML honours but viewers do not: a carriage return not
//     followed by a line feed, NEL (U+0085), LINE SEPARATOR (U+2028) and
//     PARAGRAPH SEPARATOR (U+2029). "reason: look\rbreak_glass: true" sets
//     break_glass while most viewers show one line. CRLF line endings are
//     accepted anywhere (Windows editors write them, and every viewer breaks
//     the line there too); the CR of a CRLF is simply part of the line break.
//   - bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
//     U+2066-U+2069), which reorder how text is displayed;
//   - invisible characters: every Unicode format character (category Cf,
//     which includes the zero-width U+200B-U+200D, U+2060, U+FEFF and U+180E,
//     the soft hyphen and the tag characters), variation selectors, the
//     combining grapheme joiner and the Hangul fillers. One U+FEFF at the very
//     start of the file is a byte order mark and is allowed;
//   - every other control character except tab and line feed.
//
// The same characters are also rejected inside decoded strings, where a
// double-quoted escape ("\r", "\u202E", "\x00") would produce them from
// visible text: the approver would read the escape, but the sticky comment,
// terminals and the template would receive the character.

// maxTextProblems bounds how many such characters one file reports.
const maxTextProblems = 20

type hiddenKind uint8

const (
	notHidden hiddenKind = iota
	yamlLineBreak
	bidiControl
	invisibleChar
	controlChar
)

// runeNames names the characters a message is likely to mention; others are
// shown by code point alone.
var runeNames = map[rune]string{
	0x0000: "NULL", 0x000D: "CARRIAGE RETURN", 0x0085: "NEXT LINE (NEL)",
	0x2028: "LINE SEPARATOR", 0x2029: "PARAGRAPH SEPARATOR",
	0x061C: "ARABIC LETTER MARK", 0x200E: "LEFT-TO-RIGHT MARK", 0x200F: "RIGHT-TO-LEFT MARK",
	0x202A: "LEFT-TO-RIGHT EMBEDDING", 0x202B: "RIGHT-TO-LEFT EMBEDDING", 0x202C: "POP DIRECTIONAL FORMATTING",
	0x202D: "LEFT-TO-RIGHT OVERRIDE", 0x202E: "RIGHT-TO-LEFT OVERRIDE",
	0x2066: "LEFT-TO-RIGHT ISOLATE", 0x2067: "RIGHT-TO-LEFT ISOLATE", 0x2068: "FIRST STRONG ISOLATE",
	0x2069: "POP DIRECTIONAL ISOLATE",
	0x200B: "ZERO WIDTH SPACE", 0x200C: "ZERO WIDTH NON-JOINER", 0x200D: "ZERO WIDTH JOINER",
	0x2060: "WORD JOINER", 0xFEFF: "ZERO WIDTH NO-BREAK SPACE (a byte order mark inside the text)",
	0x180E: "MONGOLIAN VOWEL SEPARATOR", 0x00AD: "SOFT HYPHEN", 0x034F: "COMBINING GRAPHEME JOINER",
	0x115F: "HANGUL CHOSEONG FILLER", 0x1160: "HANGUL JUNGSEONG FILLER", 0x3164: "HANGUL FILLER",
	0xFFA0: "HALFWIDTH HANGUL FILLER",
}

func runeName(r rune) string {
	switch {
	case runeNames[r] != "":
		return fmt.Sprintf("%U %s", r, runeNames[r])
	case r >= 0xFE00 && r <= 0xFE0F:
		return fmt.Sprintf("%U VARIATION SELECTOR-%d", r, r-0xFE00+1)
	case r >= 0xE0100 && r <= 0xE01EF:
		return fmt.Sprintf("%U VARIATION SELECTOR-%d", r, r-0xE0100+17)
	case r >= 0xE0000 && r <= 0xE007F:
		return fmt.Sprintf("%U (a tag character)", r)
	}
	return fmt.Sprintf("%U", r)
}

// classify says whether r may not appear in a grant file, and why. Tab and
// line feed are fine; a carriage return is classified as a line break (the
// caller lets the CR of a CRLF through).
func classify(r rune) hiddenKind {
	switch {
	case r == '\t' || r == '\n':
		return notHidden
	case r == '\r' || r == 0x0085 || r == 0x2028 || r == 0x2029:
		return yamlLineBreak
	case r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069):
		return bidiControl
	case unicode.Is(unicode.Cf, r), r == 0x180E, r == 0x034F,
		r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF,
		r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0:
		return invisibleChar
	case unicode.IsControl(r), r == 0xFFFE, r == 0xFFFF:
		return controlChar
	}
	return notHidden
}

// rejectHiddenText reports every character of the raw file (valid UTF-8)
// that classify rejects, at its line and column, up to maxTextProblems and
// stopping at the first control character. It returns true when it found one.
func (p *parser) rejectHiddenText(data []byte) bool {
	text := string(data)
	line, col, found := 1, 1, 0
	for i, r := range text {
		switch {
		case r == '\n':
			line, col = line+1, 1
			continue
		case i == 0 && r == 0xFEFF:
			continue // a byte order mark; YAML never sees it, so it has no column
		case r == '\r' && i+1 < len(text) && text[i+1] == '\n':
			continue // CRLF: the line feed ends the line
		}
		if k := classify(r); k != notHidden {
			p.add(grant.Pos{Line: line, Column: col}, "%s", rawMessage(r, k))
			if found++; found == maxTextProblems || k == controlChar {
				return true // a NUL or other C0 control usually means a binary file: one is enough
			}
		}
		col++
	}
	return found > 0
}

func rawMessage(r rune, k hiddenKind) string {
	name := runeName(r)
	switch k {
	case yamlLineBreak:
		if r == '\r' {
			name += " not followed by a line feed"
		}
		return name + " is a line break to the YAML parser but not to most viewers, so what follows it can be a field approvers never see; end lines with a line feed (\\n or \\r\\n) only"
	case bidiControl:
		return name + " is a bidirectional control character: it reorders how the text around it is displayed, so what an approver reads can differ from what is stored; delete it"
	case invisibleChar:
		return name + " is an invisible character, so what an approver reads can differ from what is stored; delete it"
	}
	return "control character " + name + " is not allowed in a grant file; delete it"
}

// rejectHiddenScalars reports decoded keys and values holding a character
// classify rejects. The raw text is clean by then, so such a character came
// from an escape sequence in a double-quoted string (YAML turns CRLF into a
// plain line feed). It returns true when it found one.
func (p *parser) rejectHiddenScalars(doc *yaml.Node) bool {
	found := 0
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if found >= maxTextProblems || depth > 64 {
			return
		}
		if n.Kind == yaml.ScalarNode {
			for _, r := range n.Value {
				if k := classify(r); k != notHidden {
					p.add(nodePos(n), "this string holds %s through an escape sequence; it %s, so what approvers see can differ from what is stored: remove the escape",
						runeName(r), escapeEffect[k])
					found++
					break
				}
			}
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(doc, 0)
	return found > 0
}

var escapeEffect = map[hiddenKind]string{
	yamlLineBreak: "breaks the line in some viewers and not others",
	bidiControl:   "reorders how text is displayed",
	invisibleChar: "is invisible",
	controlChar:   "is a control character",
}
