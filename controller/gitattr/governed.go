package gitattr

import "strings"

// The governed paths, as segment sequences (lit: that name; any: one segment
// of any name; star: zero or more segments). A pattern is rejected when its
// language and one of these intersect: the search below decides that
// without listing files, so paths that do not exist yet (tomorrow's grant
// files) are covered.
var (
	governedFiles = []target{
		{"a file under access/, where grant files live", []elem{lit("access"), {}, {star: true}}},
		{"a policy file", []elem{lit("policies"), {}, {star: true}}},
		{"a template file", []elem{lit("templates"), {}, {star: true}}},
		{"a governing file under .github/", []elem{lit(".github"), {}, {star: true}}},
		{"the CODEOWNERS file", []elem{lit("CODEOWNERS")}},
		{"the CODEOWNERS file", []elem{lit("docs"), lit("CODEOWNERS")}},
		{"a .gitattributes file", []elem{{star: true}, lit(".gitattributes")}},
	}
	// Git also looks attributes up for directories (git archive drops a
	// directory marked export-ignore, with every file in it), so patterns
	// may not match the directories that hold governed files either.
	governedDirs = []target{
		{"the directory holding the grant files", []elem{lit("access"), {star: true}}},
		{"the directory holding the policies", []elem{lit("policies"), {star: true}}},
		{"the directory holding the templates", []elem{lit("templates"), {star: true}}},
		{"the directory holding .github/ governing files", []elem{lit(".github"), {star: true}}},
		{"the directory holding docs/CODEOWNERS", []elem{lit("docs")}},
	}
)

type target struct {
	what  string
	elems []elem
}

func lit(s string) elem { return elem{g: glob{{kind: tokLit, lit: s}}} }

// witness is a governed path a pattern could apply to.
type witness struct {
	path     string
	what     string
	caseOnly bool // matches only when git ignores case (core.ignorecase)
}

// governedMatch returns a governed path that pattern c, written in the
// .gitattributes of directory dir ("" for the top level), could apply to.
// It first looks for an exact match, then for one that needs git to ignore
// case, as it does on case-insensitive file systems.
func governedMatch(dir string, c compiled) (witness, bool) {
	elems := make([]elem, 0, len(c.elems)+4)
	if dir != "" {
		for _, s := range strings.Split(dir, "/") {
			elems = append(elems, lit(s))
		}
	}
	elems = append(elems, c.elems...)
	targets := governedDirs
	if !c.dirOnly {
		targets = append(append([]target{}, governedFiles...), governedDirs...)
	}
	for _, fold := range []bool{false, true} {
		for _, t := range targets {
			s := search{p: elems, g: t.elems, fold: fold, failed: map[[2]int]bool{}}
			if segs, ok := s.from(0, 0); ok {
				return witness{path: strings.Join(segs, "/"), what: t.what, caseOnly: fold}, true
			}
		}
	}
	return witness{}, false
}

// search decides whether some path is in both segment languages p and g,
// returning one. States are positions in p and g; each move advances at
// least one of them, so the state graph has no cycles and remembering the
// failed states keeps the search linear in their number.
type search struct {
	p, g   []elem
	fold   bool
	failed map[[2]int]bool
}

func (s *search) from(i, j int) ([]string, bool) {
	if i == len(s.p) && j == len(s.g) {
		return nil, true
	}
	key := [2]int{i, j}
	if s.failed[key] {
		return nil, false
	}
	if i < len(s.p) && s.p[i].star {
		if rest, ok := s.from(i+1, j); ok {
			return rest, true
		}
	}
	if j < len(s.g) && s.g[j].star {
		if rest, ok := s.from(i, j+1); ok {
			return rest, true
		}
	}
	if i < len(s.p) && j < len(s.g) && !(s.p[i].star && s.g[j].star) {
		if seg, ok := s.segment(s.p[i].g, s.g[j].g); ok {
			ni, nj := i+1, j+1
			if s.p[i].star {
				ni = i
			}
			if s.g[j].star {
				nj = j
			}
			if rest, ok := s.from(ni, nj); ok {
				return append([]string{seg}, rest...), true
			}
		}
	}
	s.failed[key] = true
	return nil, false
}

// segment returns a name both a and b accept (nil accepts any). The
// governed side is always a literal or any; when the pattern side is a glob
// against any name, it is assumed satisfiable even if no example is found.
func (s *search) segment(a, b glob) (string, bool) {
	if l, ok := b.literal(); ok {
		return l, a == nil || a.match(l, s.fold)
	}
	if a == nil {
		return "x", true
	}
	if ex, ok := a.example(); ok {
		return ex, true
	}
	return "?", true
}
