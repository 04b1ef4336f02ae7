package gitattr

import (
	"strings"
)

// A pattern is compiled into a sequence of elements, each standing for path
// segments, the shape git's wildmatch gives it with WM_PATHNAME ("*", "?"
// and brackets never match "/", and "**" is special only as a whole
// segment):
//
//	one (glob)   exactly one segment matching the glob
//	one (nil)    exactly one segment, any name
//	star         zero or more segments, any names
//
// A pattern without a slash matches the basename at any depth below the
// .gitattributes file: star, one(glob). A pattern with a slash is anchored to
// that directory; a leading or middle "**" segment is star, a trailing one is
// one(nil), star (git: "a/**" matches everything inside a, not a itself).
type elem struct {
	star bool
	g    glob // nil: any name
}

// A glob matches one path segment. Matching works on bytes, as git does.
type glob []token

type tokKind uint8

const (
	tokLit   tokKind = iota
	tokQuest         // ?: one byte
	tokStar          // *: any run of bytes
	tokClass         // [...]: one byte in (or, negated, not in) the class
)

type token struct {
	kind  tokKind
	lit   string
	class *class
}

// class is a bracket expression: byte ranges and POSIX class names.
type class struct {
	negated bool
	ranges  [][2]byte
	named   []string
}

// posixClasses are the [:name:] classes git's wildmatch knows.
var posixClasses = map[string]func(b byte) bool{
	"alnum":  func(b byte) bool { return isAlpha(b) || isDigit(b) },
	"alpha":  isAlpha,
	"blank":  func(b byte) bool { return b == ' ' || b == '\t' },
	"cntrl":  func(b byte) bool { return b < 0x20 || b == 0x7f },
	"digit":  isDigit,
	"graph":  func(b byte) bool { return b > 0x20 && b < 0x7f },
	"lower":  func(b byte) bool { return b >= 'a' && b <= 'z' },
	"print":  func(b byte) bool { return b >= 0x20 && b < 0x7f },
	"punct":  func(b byte) bool { return b > 0x20 && b < 0x7f && !isAlpha(b) && !isDigit(b) },
	"space":  func(b byte) bool { return b == ' ' || (b >= '\t' && b <= '\r') },
	"upper":  func(b byte) bool { return b >= 'A' && b <= 'Z' },
	"xdigit": func(b byte) bool { return isDigit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F') },
}

func isAlpha(b byte) bool { return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') }
func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func lower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func upper(b byte) byte {
	if b >= 'a' && b <= 'z' {
		return b - ('a' - 'A')
	}
	return b
}

func (c *class) has(b byte) bool {
	in := false
	for _, r := range c.ranges {
		in = in || (b >= r[0] && b <= r[1])
	}
	for _, n := range c.named {
		in = in || posixClasses[n](b)
	}
	return in != c.negated
}

// matches reports whether b is in the class; with fold, a byte also
// matches when its other ASCII case does, which over-approximates every
// case-insensitive reading git could make.
func (c *class) matches(b byte, fold bool) bool {
	return c.has(b) || (fold && (c.has(lower(b)) || c.has(upper(b))))
}

func hasPrefix(s, prefix string, fold bool) bool {
	if !fold {
		return strings.HasPrefix(s, prefix)
	}
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// match reports whether the glob matches the whole segment s: the classic
// wildcard algorithm, backtracking to the last star, exact because every
// other token consumes a fixed number of bytes.
func (g glob) match(s string, fold bool) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for {
		if ti < len(g) {
			t := &g[ti]
			switch t.kind {
			case tokStar:
				starT, starS = ti, si
				ti++
				continue
			case tokQuest:
				if si < len(s) {
					si++
					ti++
					continue
				}
			case tokClass:
				if si < len(s) && t.class.matches(s[si], fold) {
					si++
					ti++
					continue
				}
			case tokLit:
				if hasPrefix(s[si:], t.lit, fold) {
					si += len(t.lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starT < 0 || starS >= len(s) {
			return false
		}
		starS++
		ti, si = starT+1, starS
	}
}

// example returns a segment name the glob matches, for messages; ok is
// false when no printable ASCII name was found (the glob is then still
// treated as matching something: fail closed).
func (g glob) example() (string, bool) {
	var b strings.Builder
	for _, t := range g {
		switch t.kind {
		case tokLit:
			b.WriteString(t.lit)
		case tokQuest, tokStar:
			b.WriteByte('x')
		case tokClass:
			found := false
			for _, c := range []byte("xabcdefghijklmnopqrstuvwyz0123456789_-.") {
				if t.class.has(c) {
					b.WriteByte(c)
					found = true
					break
				}
			}
			for c := byte(0x21); !found && c < 0x7f; c++ {
				if c != '/' && t.class.has(c) {
					b.WriteByte(c)
					found = true
				}
			}
			if !found {
				return "", false
			}
		}
	}
	s := b.String()
	return s, s != "" && g.match(s, false)
}

// literal returns the glob's text when it is a single literal.
func (g glob) literal() (string, bool) {
	if len(g) == 1 && g[0].kind == tokLit {
		return g[0].lit, true
	}
	return "", false
}

// compiled is a parsed pattern.
type compiled struct {
	elems   []elem
	dirOnly bool // a trailing slash: matches directories only
}

// patternError says why a pattern is refused; off is a byte offset into the
// pattern where the problem is.
type patternError struct {
	off int
	msg string
}

// compilePattern parses a gitattributes pattern (quotes already removed)
// by gitignore's rules as gitattributes(5) adopts them. Forms git would
// ignore, or that are easy to misread, are errors: negation, an escaped
// slash, a trailing lone backslash, empty, "." or ".." segments, and bracket
// expressions that cannot be read.
func compilePattern(raw string) (compiled, *patternError) {
	if strings.HasPrefix(raw, "!") {
		return compiled{}, &patternError{msg: "negative patterns are forbidden in .gitattributes (git ignores the line); to match a name starting with !, write \\!"}
	}
	// Escapes first, so that an escaped slash is never taken for a
	// separator and a trailing backslash is caught.
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		switch {
		case i+1 == len(raw):
			return compiled{}, &patternError{off: i, msg: "the pattern ends with a lone backslash, which git never matches; remove it, or write \\\\ for a backslash"}
		case raw[i+1] == '/':
			return compiled{}, &patternError{off: i, msg: "an escaped slash (\\/) is still a directory separator to git and is easy to misread; write / without the backslash"}
		}
		i++
	}
	var c compiled
	p := raw
	if strings.HasSuffix(p, "/") {
		c.dirOnly = true
		p = p[:len(p)-1]
	}
	if p == "" {
		return compiled{}, &patternError{msg: "the pattern / matches nothing; name the files the attributes are for"}
	}
	nodir := !strings.Contains(p, "/")
	off := 0
	if strings.HasPrefix(p, "/") {
		p, off = p[1:], 1
	}
	segs := strings.Split(p, "/")
	if nodir {
		g, err := compileGlob(p, off)
		if err != nil {
			return compiled{}, err
		}
		c.elems = []elem{{star: true}, {g: g}}
		return c, nil
	}
	for i, s := range segs {
		switch {
		case s == "":
			return compiled{}, &patternError{off: off, msg: "the pattern has an empty path segment (//), which never matches; write a single /"}
		case s == "." || s == "..":
			return compiled{}, &patternError{off: off, msg: "the pattern has a " + s + " segment, which never matches a path in git; write the path without it"}
		case strings.Trim(s, "*") == "" && len(s) >= 2:
			if i == len(segs)-1 {
				c.elems = append(c.elems, elem{}, elem{star: true}) // a/**: everything inside a
			} else {
				c.elems = append(c.elems, elem{star: true})
			}
		default:
			g, err := compileGlob(s, off)
			if err != nil {
				return compiled{}, err
			}
			c.elems = append(c.elems, elem{g: g})
		}
		off += len(s) + 1
	}
	return c, nil
}

// compileGlob parses one segment (or a whole basename pattern); off is its
// offset in the pattern, for errors.
func compileGlob(s string, off int) (glob, *patternError) {
	var g glob
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			g = append(g, token{kind: tokLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			i++
			lit.WriteByte(s[i])
		case '*':
			flush()
			if n := len(g); n == 0 || g[n-1].kind != tokStar {
				g = append(g, token{kind: tokStar})
			}
		case '?':
			flush()
			g = append(g, token{kind: tokQuest})
		case '[':
			flush()
			cl, n, err := parseClass(s[i:])
			if err != "" {
				return nil, &patternError{off: off + i, msg: err}
			}
			g = append(g, token{kind: tokClass, class: cl})
			i += n - 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return g, nil
}

const classHelp = "; write the bracket expression as [abc], [a-z], [!abc] or [[:digit:]], or escape the bracket as \\["

// parseClass parses the bracket expression at the start of s as git's
// wildmatch does, returning its length. Forms wildmatch treats as "never
// matches" or reads in surprising ways are errors.
func parseClass(s string) (*class, int, string) {
	c := &class{}
	i := 1
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		c.negated = true
		i++
	}
	first := true
	for {
		if i >= len(s) {
			return nil, 0, "the bracket expression is not closed with ], so git never matches the pattern" + classHelp
		}
		ch := s[i]
		switch {
		case ch == ']' && !first:
			return c, i + 1, ""
		case ch == '[' && i+1 < len(s) && s[i+1] == ':':
			end := strings.Index(s[i+2:], ":]")
			if end < 0 {
				return nil, 0, "the bracket expression holds [: without a matching :]" + classHelp
			}
			name := s[i+2 : i+2+end]
			if posixClasses[name] == nil {
				return nil, 0, "[:" + name + ":] is not a character class git knows, so git never matches the pattern" + classHelp
			}
			c.named = append(c.named, name)
			i += 2 + end + 2
			first = false
			continue
		}
		lo, next, ok := classByte(s, i)
		if !ok {
			return nil, 0, "the bracket expression ends with a lone backslash" + classHelp
		}
		i = next
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			if hi, i, ok = classByte(s, i+1); !ok {
				return nil, 0, "the bracket expression ends with a lone backslash" + classHelp
			}
		}
		c.ranges = append(c.ranges, [2]byte{lo, hi})
		first = false
	}
}

// classByte reads the member at s[i] of a bracket expression, undoing a
// backslash escape; it returns the byte and the index after it, and false
// for a lone backslash at the end.
func classByte(s string, i int) (byte, int, bool) {
	if s[i] != '\\' {
		return s[i], i + 1, true
	}
	if i+1 >= len(s) {
		return 0, 0, false
	}
	return s[i+1], i + 2, true
}
