package codeowners

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// A pattern is compiled once into a sequence of elements, each matching whole
// path segments, so that matching needs no regular expression:
//
//	elemLit   one segment equal to a literal
//	elemGlob  one segment matching a glob of literals, * and ?
//	elemAny   zero or more segments (**)
//
// gitignore's rules become the shape of the sequence. An unanchored pattern
// starts with elemAny (it matches at any depth). What follows the pattern's
// own segments decides what below a match is covered:
//
//	foo, /foo, f*   + elemAny              the path itself or anything below it
//	foo/, foo/**    + anySegment, elemAny  only what is below it (a directory)
//	foo/**/         + 2 x anySegment, elemAny  what is below a directory inside it
//	foo/*, /*       nothing                only files directly inside (GitHub's
//	                                       docs: docs/* does not match
//	                                       docs/build-app/troubleshooting.md)
//
// Patterns made only of ** are special: **, /** and **/** match every path,
// while **/, /**/ and **/**/ match every path below some directory.
type pattern struct {
	elems []elem
}

type elemKind uint8

const (
	elemLit elemKind = iota
	elemGlob
	elemAny
)

type elem struct {
	kind elemKind
	lit  string // elemLit
	glob []gtok // elemGlob
}

type gop uint8

const (
	opLit gop = iota
	opStar
	opQuest
)

// gtok is one piece of a glob segment: a literal run, * or ?.
type gtok struct {
	op  gop
	lit string
}

var anySegment = elem{kind: elemGlob, glob: []gtok{{op: opStar}}}

// patternError locates a problem within the pattern text: off is a byte
// offset into the pattern as written.
type patternError struct {
	off        int
	msg        string
	suggestion string
}

// rawSeg is one "/"-separated piece of the pattern while compiling; lit
// collects the current literal run so that long runs are built in linear time.
// A run written without escapes stays a substring of the pattern (pending);
// only runs joined across escapes are copied into buf.
// A segment that is one literal keeps it in only, without a token slice.
type rawSeg struct {
	off     int
	toks    []gtok
	only    string
	pending string
	buf     []byte
	dstar   bool
}

func (s *rawSeg) empty() bool {
	return !s.dstar && len(s.toks) == 0 && s.only == "" && s.pending == "" && len(s.buf) == 0
}

// spill moves a lone literal into the token list, once the segment turns
// out to be a glob.
func (s *rawSeg) spill() {
	if s.only != "" {
		s.toks = append(s.toks, gtok{op: opLit, lit: s.only})
		s.only = ""
	}
}

func (s *rawSeg) addLit(t string) {
	switch {
	case len(s.buf) > 0:
		s.buf = append(s.buf, t...)
	case s.pending == "":
		s.pending = t
	default:
		s.buf = append(append(s.buf, s.pending...), t...)
		s.pending = ""
	}
}

func (s *rawSeg) flush() {
	lit := s.pending
	if len(s.buf) > 0 {
		lit = string(s.buf)
	}
	s.pending, s.buf = "", nil
	switch {
	case lit == "":
	case len(s.toks) == 0 && s.only == "":
		s.only = lit
	default:
		s.spill()
		s.toks = append(s.toks, gtok{op: opLit, lit: lit})
	}
}

func (s *rawSeg) addOp(op gop) {
	s.flush()
	s.spill()
	if op == opStar {
		if n := len(s.toks); n > 0 && s.toks[n-1].op == opStar {
			return // gitignore: other consecutive asterisks are regular asterisks
		}
	}
	s.toks = append(s.toks, gtok{op: op})
}

// compile turns a pattern as written (escapes included) into a pattern, or
// reports why GitHub would reject or skip it.
func compile(raw string) (pattern, *patternError) {
	if raw == "" {
		return pattern{}, &patternError{msg: "empty pattern"}
	}
	if raw[0] == '!' {
		return pattern{}, &patternError{
			msg:        "negation (!) does not work in CODEOWNERS, so GitHub skips this line",
			suggestion: "to remove owners from a path, add a later line with the path and no owners",
		}
	}
	if strings.HasPrefix(raw, `\#`) {
		return pattern{}, &patternError{
			msg:        `escaping a leading # with \ does not work in CODEOWNERS, so GitHub skips this line`,
			suggestion: "match the name with ? in place of the # (for example ?notes.md)",
		}
	}

	var segBuf [8]rawSeg // most patterns have few segments: no allocation
	segs := segBuf[:1]
	cur := &segs[0]
	for i := 0; i < len(raw); {
		c := raw[i]
		switch c {
		case '\\':
			if i+1 >= len(raw) {
				return pattern{}, &patternError{off: i, msg: "pattern ends with a lone backslash", suggestion: `remove it, or write \\ for a literal backslash`}
			}
			if raw[i+1] == '/' {
				// gitignore reads \/ as a separator, a literal slash inside a
				// name could never match, and GitHub does not say which it
				// does: refuse to guess (callers fail closed on errors).
				return pattern{}, &patternError{off: i,
					msg:        `an escaped slash (\/) is read as a separator by git and as part of a name by others, so this line cannot be relied on`,
					suggestion: "write / without the backslash"}
			}
			_, n := utf8.DecodeRuneInString(raw[i+1:])
			cur.addLit(raw[i+1 : i+1+n])
			i += 1 + n
		case '/':
			cur.flush()
			segs = append(segs, rawSeg{off: i + 1})
			cur = &segs[len(segs)-1]
			i++
		case '*':
			j := i
			for j < len(raw) && raw[j] == '*' {
				j++
			}
			wholeSeg := cur.empty() && (j == len(raw) || raw[j] == '/')
			switch {
			case j-i == 2 && wholeSeg:
				cur.dstar = true
			case j-i > 2 && wholeSeg:
				// git's wildmatch reads a whole segment of three or more
				// asterisks as **; gitignore(5) calls other runs "regular
				// asterisks"; GitHub does not say: refuse to guess.
				return pattern{}, &patternError{off: i,
					msg:        fmt.Sprintf("a path segment of %d asterisks is read as ** by git and as * by others, so this line cannot be relied on", j-i),
					suggestion: "write ** for any number of directories or * for one name"}
			default:
				cur.addOp(opStar)
			}
			i = j
		case '?':
			cur.addOp(opQuest)
			i++
		case '[', ']':
			// GitHub answers "both [ and ] must be escaped with a \" and
			// skips the line; escaped, they match literally.
			return pattern{}, &patternError{
				off:        i,
				msg:        fmt.Sprintf("unescaped %q: [ ] character ranges do not work in CODEOWNERS and GitHub skips this line", c),
				suggestion: `escape both brackets to match them literally, for example /apps/\[param\]/`,
			}
		default:
			j := i + 1
			for j < len(raw) && !strings.ContainsRune(`\/*?[]`, rune(raw[j])) {
				j++
			}
			cur.addLit(raw[i:j])
			i = j
		}
	}

	cur.flush()
	leadingSlash := segs[0].empty()
	if leadingSlash {
		segs = segs[1:]
	}
	dirOnly := false
	if len(segs) > 0 && segs[len(segs)-1].empty() {
		dirOnly = true
		segs = segs[:len(segs)-1]
	}
	if len(segs) == 0 {
		return pattern{}, &patternError{
			msg:        "the pattern / never matches anything",
			suggestion: "did you mean * (every file)?",
		}
	}
	for _, s := range segs {
		if s.empty() {
			return pattern{}, &patternError{off: s.off, msg: "the pattern has an empty path segment (//) and never matches anything", suggestion: "write a single /"}
		}
	}
	// A slash at the start or in the middle anchors the pattern to the root.
	anchored := leadingSlash || len(segs) > 1

	allDstar := true
	for _, s := range segs {
		allDstar = allDstar && s.dstar
	}
	if allDstar {
		// **, /** and **/** match everything (git: the leading "**/" of
		// **/** matches zero directories, so the last ** matches a file at
		// the root); **/, /**/ and **/**/ match only what is inside some
		// directory, so not the files at the root.
		if !dirOnly {
			return pattern{elems: []elem{anySegment, {kind: elemAny}}}, nil
		}
		return pattern{elems: []elem{anySegment, anySegment, {kind: elemAny}}}, nil
	}

	elems := make([]elem, 0, len(segs)+3)
	if !anchored {
		elems = append(elems, elem{kind: elemAny})
	}
	for _, s := range segs {
		switch {
		case s.dstar:
			if len(elems) > 0 && elems[len(elems)-1].kind == elemAny {
				continue
			}
			elems = append(elems, elem{kind: elemAny})
		case len(s.toks) == 0:
			elems = append(elems, elem{kind: elemLit, lit: s.only})
		default:
			elems = append(elems, elem{kind: elemGlob, glob: s.toks})
		}
	}

	last := elems[len(elems)-1]
	loneStar := len(segs) > 0 && !segs[len(segs)-1].dstar && len(last.glob) == 1 && last.glob[0].op == opStar
	switch {
	case last.kind == elemAny && !dirOnly:
		// A trailing /** matches everything inside, not the directory itself.
		elems = append(elems[:len(elems)-1], anySegment, elem{kind: elemAny})
	case last.kind == elemAny:
		// a/**/ matches the directories inside a (a/** read as directories),
		// so it owns what is inside those: a/x/y, never the file a/x (git
		// check-ignore agrees; hmarr's table does not, see conformance_test.go).
		elems = append(elems[:len(elems)-1], anySegment, anySegment, elem{kind: elemAny})
	case dirOnly:
		elems = append(elems, anySegment)
		elems = append(elems, elem{kind: elemAny})
	case loneStar:
		// files directly inside only
	default:
		elems = append(elems, elem{kind: elemAny})
	}
	return pattern{elems: elems}, nil
}

// match reports whether the pattern matches the whole path segment list.
// Every element except elemAny consumes exactly one segment, so the classic
// greedy wildcard algorithm (remember the last elemAny, retry one segment
// further on a mismatch) is exact and takes O(len(elems)*len(segs)).
func (p *pattern) match(segs []string) bool {
	e := p.elems
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(segs) {
		if pi < len(e) {
			switch el := &e[pi]; el.kind {
			case elemAny:
				starP, starS = pi, si
				pi++
				continue
			case elemLit:
				if el.lit == segs[si] {
					pi++
					si++
					continue
				}
			case elemGlob:
				if globMatch(el.glob, segs[si]) {
					pi++
					si++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP+1, starS
	}
	for pi < len(e) && e[pi].kind == elemAny {
		pi++
	}
	return pi == len(e)
}

// globMatch reports whether s matches the glob; * matches any run of
// characters and ? exactly one character (never a "/": s is one segment).
// Greedy with backtracking to the last *, so O(len(glob)*len(s)).
func globMatch(g []gtok, s string) bool {
	if len(g) == 2 && g[0].op == opStar && g[1].op == opLit {
		return strings.HasSuffix(s, g[1].lit) // the common *.ext
	}
	ti, si := 0, 0
	starT, starS := -1, 0
	for {
		if ti < len(g) {
			t := &g[ti]
			switch t.op {
			case opStar:
				starT, starS = ti, si
				ti++
				continue
			case opQuest:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case opLit:
				if strings.HasPrefix(s[si:], t.lit) {
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
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		ti, si = starT+1, starS
	}
}
