package grantschema

import (
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode"
)

// Pattern translates a regular expression as terraform's regex() reads it
// (Go's RE2 syntax) into a JSON Schema pattern (ECMA-262) that matches
// exactly the same strings, written so that both dialects read it alike:
// ASCII characters that are special in either are escaped as \xHH, classes
// are spelled out as ranges, groups are non-capturing.
// It reports false for what has no such translation here: case-insensitive
// matching, multi-line anchors, '.' with the s flag, and characters beyond
// the Basic Multilingual Plane (whose escapes the two dialects write
// differently).
func Pattern(re string) (string, bool) {
	r, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	if !emit(&b, r) {
		return "", false
	}
	return b.String(), true
}

func emit(b *strings.Builder, r *syntax.Regexp) bool {
	switch r.Op {
	case syntax.OpEmptyMatch:
		b.WriteString("(?:)")
	case syntax.OpLiteral:
		if r.Flags&syntax.FoldCase != 0 {
			return false
		}
		for _, c := range r.Rune {
			s, ok := literalRune(c)
			if !ok {
				return false
			}
			b.WriteString(s)
		}
	case syntax.OpCharClass:
		return emitClass(b, r.Rune)
	case syntax.OpAnyCharNotNL:
		b.WriteString(`[^\x0a]`)
	case syntax.OpBeginText:
		b.WriteString("^")
	case syntax.OpEndText:
		b.WriteString("$")
	case syntax.OpWordBoundary:
		b.WriteString(`\b`)
	case syntax.OpNoWordBoundary:
		b.WriteString(`\B`)
	case syntax.OpCapture:
		b.WriteString("(?:")
		if !emit(b, r.Sub[0]) {
			return false
		}
		b.WriteString(")")
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		if !emitAtom(b, r.Sub[0]) {
			return false
		}
		switch r.Op {
		case syntax.OpStar:
			b.WriteString("*")
		case syntax.OpPlus:
			b.WriteString("+")
		case syntax.OpQuest:
			b.WriteString("?")
		default:
			switch {
			case r.Max == -1:
				fmt.Fprintf(b, "{%d,}", r.Min)
			case r.Max == r.Min:
				fmt.Fprintf(b, "{%d}", r.Min)
			default:
				fmt.Fprintf(b, "{%d,%d}", r.Min, r.Max)
			}
		}
		// Greedy or not, a quantifier matches the same strings.
	case syntax.OpConcat:
		for _, s := range r.Sub {
			if s.Op == syntax.OpAlternate {
				if !emitGroup(b, s) {
					return false
				}
			} else if !emit(b, s) {
				return false
			}
		}
	case syntax.OpAlternate:
		for i, s := range r.Sub {
			if i > 0 {
				b.WriteString("|")
			}
			if !emit(b, s) {
				return false
			}
		}
	default: // OpNoMatch, OpAnyChar (the s flag), OpBeginLine and OpEndLine (the m flag)
		return false
	}
	return true
}

// emitAtom writes r so that a quantifier after it applies to all of it.
func emitAtom(b *strings.Builder, r *syntax.Regexp) bool {
	switch {
	case r.Op == syntax.OpCharClass, r.Op == syntax.OpAnyCharNotNL, r.Op == syntax.OpCapture:
		return emit(b, r)
	case r.Op == syntax.OpLiteral && len(r.Rune) == 1:
		return emit(b, r)
	}
	return emitGroup(b, r)
}

func emitGroup(b *strings.Builder, r *syntax.Regexp) bool {
	b.WriteString("(?:")
	if !emit(b, r) {
		return false
	}
	b.WriteString(")")
	return true
}

// emitClass writes a character class from its sorted ranges, negated when
// that keeps it within the Basic Multilingual Plane.
func emitClass(b *strings.Builder, ranges []rune) bool {
	neg := false
	if len(ranges) > 0 && ranges[len(ranges)-1] == unicode.MaxRune {
		ranges, neg = complement(ranges), true
	}
	if len(ranges) == 0 {
		return false // every character or none: the dialects write neither alike
	}
	b.WriteString("[")
	if neg {
		b.WriteString("^")
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if hi > 0xFFFF || isSurrogate(lo) || isSurrogate(hi) {
			return false
		}
		b.WriteString(classRune(lo))
		if hi > lo {
			b.WriteString("-" + classRune(hi))
		}
	}
	b.WriteString("]")
	return true
}

// complement returns the ranges of the characters not in the sorted ranges.
func complement(ranges []rune) []rune {
	var out []rune
	next := rune(0)
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] > next {
			out = append(out, next, ranges[i]-1)
		}
		next = ranges[i+1] + 1
	}
	if next <= unicode.MaxRune {
		out = append(out, next, unicode.MaxRune)
	}
	return out
}

// literalRune writes one character outside a class.
func literalRune(c rune) (string, bool) {
	if c > 0xFFFF || isSurrogate(c) {
		return "", false
	}
	if c == '-' {
		return "-", true
	}
	return classRune(c), true
}

// plain are the ASCII characters that mean themselves, inside and outside
// a class, in both dialects (with ASCII letters and digits).
const plain = "_ @:,='\"%~!<>;&#/"

// classRune writes one character in a form both dialects read as that
// character inside and outside classes: ASCII letters, digits and plain
// characters as they are, other ASCII and Latin-1 characters as \xHH, and
// other characters of the Basic Multilingual Plane as themselves (the
// dialects escape them differently: \uHHHH against \x{HHHH}).
func classRune(c rune) string {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c < 0x80 && strings.ContainsRune(plain, c):
		return string(c)
	case c < 0x100:
		return fmt.Sprintf(`\x%02x`, c)
	}
	return string(c)
}

func isSurrogate(c rune) bool { return c >= 0xD800 && c <= 0xDFFF }
