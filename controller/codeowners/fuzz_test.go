package codeowners_test

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jitops/jit/controller/codeowners"
)

// The reference matcher: a slow, direct reading of the documented rules,
// written independently of the package's compiled matcher (no index, no
// greedy algorithm; plain recursion over segments and characters). The fuzz
// target checks that both agree on every pattern Parse accepts.

type refTok struct {
	kind byte // 'l' literal, '*', '?'
	lit  string
}

type refSeg struct {
	dstar bool
	toks  []refTok
}

// refCompile splits an accepted pattern into segments, resolving escapes.
func refCompile(p string) (segs []refSeg, anchored, dirOnly bool) {
	var cur refSeg
	raw := "" // unescaped text of the current segment, to spot a bare **
	escaped := false
	flush := func() {
		if raw == "**" && !escaped {
			cur = refSeg{dstar: true}
		}
		segs = append(segs, cur)
		cur, raw, escaped = refSeg{}, "", false
	}
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRuneInString(p[i:])
		switch r {
		case '\\':
			_, m := utf8.DecodeRuneInString(p[i+1:])
			cur.toks = append(cur.toks, refTok{kind: 'l', lit: p[i+1 : i+1+m]})
			raw += p[i : i+1+m]
			escaped = true
			i += 1 + m
			continue
		case '/':
			flush()
		case '*':
			if k := len(cur.toks); k == 0 || cur.toks[k-1].kind != '*' {
				cur.toks = append(cur.toks, refTok{kind: '*'})
			}
			raw += "*"
		case '?':
			cur.toks = append(cur.toks, refTok{kind: '?'})
			raw += "?"
		default:
			cur.toks = append(cur.toks, refTok{kind: 'l', lit: p[i : i+n]})
			raw += p[i : i+n]
		}
		i += n
	}
	flush()
	if len(segs) > 0 && len(segs[0].toks) == 0 && !segs[0].dstar {
		anchored = true
		segs = segs[1:]
	}
	if len(segs) > 0 && len(segs[len(segs)-1].toks) == 0 && !segs[len(segs)-1].dstar {
		dirOnly = true
		segs = segs[:len(segs)-1]
	}
	if len(segs) > 1 {
		anchored = true
	}
	return segs, anchored, dirOnly
}

// memo remembers answers by the lengths of the remaining pattern and
// subject: both are always suffixes of the ones a search started with, so
// the lengths name the subproblem. It keeps the plain recursion polynomial.
type memo map[[2]int]bool

func refSegMatch(toks []refTok, s string, m memo) bool {
	key := [2]int{len(toks), len(s)}
	if v, ok := m[key]; ok {
		return v
	}
	v := false
	switch {
	case len(toks) == 0:
		v = s == ""
	case toks[0].kind == 'l':
		v = strings.HasPrefix(s, toks[0].lit) && refSegMatch(toks[1:], s[len(toks[0].lit):], m)
	case toks[0].kind == '?':
		if s != "" {
			_, n := utf8.DecodeRuneInString(s)
			v = refSegMatch(toks[1:], s[n:], m)
		}
	default: // '*': try every split
		for i := 0; ; {
			if refSegMatch(toks[1:], s[i:], m) {
				v = true
				break
			}
			if i == len(s) {
				break
			}
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
		}
	}
	m[key] = v
	return v
}

func refSegsMatch(pat []refSeg, path []string, m memo) bool {
	key := [2]int{len(pat), len(path)}
	if v, ok := m[key]; ok {
		return v
	}
	v := false
	switch {
	case len(pat) == 0:
		v = len(path) == 0
	case pat[0].dstar:
		for skip := 0; skip <= len(path) && !v; skip++ {
			v = refSegsMatch(pat[1:], path[skip:], m)
		}
	default:
		v = len(path) > 0 && refSegMatch(pat[0].toks, path[0], memo{}) && refSegsMatch(pat[1:], path[1:], m)
	}
	m[key] = v
	return v
}

// refMatch reports whether pattern p owns path: some leading part of the path
// (starting anywhere when unanchored) matches the pattern, and it is a
// directory (the path goes on) where the pattern says so, or the whole path
// where the pattern ends in a lone *.
func refMatch(p, path string) bool {
	path = strings.TrimPrefix(path, "/")
	if path == "" {
		return false
	}
	segs, anchored, dirOnly := refCompile(p)
	ps := strings.Split(path, "/")
	last := segs[len(segs)-1]
	// A trailing /** needs something inside the directory before it, unless
	// every segment is ** (then the leading **/ may match no directory at
	// all, as git reads **/**).
	allDstar := true
	for _, s := range segs {
		allDstar = allDstar && s.dstar
	}
	trailingDstar := last.dstar && len(segs) > 1 && !allDstar
	if trailingDstar && dirOnly {
		// a/**/: the directory matched must itself be inside a, so the
		// trailing ** takes at least one segment (a * segment, then **).
		segs = append(segs[:len(segs)-1:len(segs)-1], refSeg{toks: []refTok{{kind: '*'}}}, refSeg{dstar: true})
	}
	loneStar := !last.dstar && len(last.toks) == 1 && last.toks[0].kind == '*'
	starts := 1
	if !anchored {
		starts = len(ps)
	}
	for i := 0; i < starts; i++ {
		for k := i + 1; k <= len(ps); k++ {
			switch {
			case dirOnly || trailingDstar:
				if k == len(ps) {
					continue
				}
			case loneStar:
				if k != len(ps) {
					continue
				}
			}
			if refSegsMatch(segs, ps[i:k], memo{}) {
				return true
			}
		}
	}
	return false
}

func TestReferenceAgreesWithHmarrTable(t *testing.T) {
	// The reference must itself pass the conformance table (with the
	// exceptions where GitHub's rules differ) before it can judge the package.
	data, err := os.ReadFile("testdata/hmarr-patterns.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range loadHmarr(t, data) {
		for path, want := range c.Paths {
			if ex, ok := hmarrExceptions[c.Pattern][path]; ok {
				want = ex.want
			}
			if got := refMatch(c.Pattern, path); got != want {
				t.Errorf("reference: pattern %q, path %q = %v, want %v", c.Pattern, path, got, want)
			}
		}
	}
}

var matchSeeds = []struct{ pattern, path string }{
	{"*", "a/b"}, {"/*", "a/b"}, {"foo/", "foo"}, {"foo/", "x/foo/y"}, {"/foo/bar/", "foo/bar/baz"},
	{"**/logs", "deep/logs/x"}, {"a/**/b", "a/x/y/b/c"}, {"a/**", "a"}, {"a/**/", "a/b"}, {"**", "x"},
	{"/**", "x/y"}, {"a**b", "axxb"}, {"*.js", "a.js/b"}, {"f?o", "fé"}, {"?", "é"},
	{`f\*o`, "f*o"}, {`\!x`, "!x"}, {`a\ b`, "a b"}, {`\[ab\]`, "[ab]"}, {"*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaa"},
	{"**/**/x", "x"}, {"/a/*/", "a/b/c"}, {"*/", "x/"}, {"x", "/x"}, {"docs/*", "docs/a/b"}, {"é*", "éa/b"},
	{"a/b", "a//b"}, {"*", ""}, {"*/*", "a/"}, {"**/", "0"}, {"**/", "a/b"}, {"**/**", "a"}, {"/**/", "a/b"},
}

func FuzzMatch(f *testing.F) {
	for _, s := range matchSeeds {
		f.Add(s.pattern, s.path)
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		file := codeowners.Parse("CODEOWNERS", []byte(pattern+" @x\n"))
		_, got := file.Match(path) // never panics, whatever was accepted
		if len(file.Rules) != 1 || file.Rules[0].Pattern != pattern || file.Err() != nil {
			return // not a single accepted pattern: nothing to compare
		}
		if len(pattern) > 256 || len(path) > 256 {
			return // keep the slow reference quick enough to fuzz
		}
		if want := refMatch(pattern, path); got != want {
			t.Errorf("pattern %q, path %q: Match = %v, reference = %v", pattern, path, got, want)
		}
	})
}

func TestMatchSeedsAgreeWithReference(t *testing.T) {
	for _, s := range matchSeeds {
		f := codeowners.Parse("CODEOWNERS", []byte(s.pattern+" @x\n"))
		if err := f.Err(); err != nil {
			t.Fatalf("seed %q: %v", s.pattern, err)
		}
		_, got := f.Match(s.path)
		if want := refMatch(s.pattern, s.path); got != want {
			t.Errorf("pattern %q, path %q: Match = %v, reference = %v", s.pattern, s.path, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"* @all\n",
		"# comment\n\n/docs/ @docs # inline\n/docs/x\n",
		"/access/prod/ @acme/dba\n/access/staging/ @acme/dba @acme/developers\n",
		"!neg @a\n\\#x @b\n/ @c\n//x @d\n/x\\",
		"* a@b.c @u bad\r\n*.js\t@js\r\n",
		"\uFEFF* @a\n",
		"/a\x00b @x\n\xff\xfe\n/a @x\r/b\n",
		"   \t  \n\t# x\n  *  \n",
		"/apps/[param]/file.ts @p\nservices/foo:bar/**/* @c\n",
		"**/**/*.go @go\n/a/**/ @a\na/**/b/** @b\n",
		"/日本/ @ü\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file := codeowners.Parse(".github/CODEOWNERS", data)
		lines := strings.Count(string(data), "\n") + 1
		if len(file.Errors) > codeowners.MaxErrors+1 {
			t.Errorf("%d errors recorded, more than MaxErrors+1", len(file.Errors))
		}
		for _, e := range file.Errors {
			if e.Path != ".github/CODEOWNERS" || e.Line < 0 || e.Line > lines || (e.Line > 0 && e.Column < 1) || e.Message == "" || e.Kind == "" {
				t.Errorf("malformed error %+v (file has %d lines)", e, lines)
			}
			if len(e.Source) > 200 || !utf8.ValidString(e.Source) {
				t.Errorf("error source %q is too long or not UTF-8", e.Source)
			}
			if !utf8.ValidString(e.Error()) {
				t.Errorf("error text is not UTF-8: %q", e.Error())
			}
		}
		if (file.Err() == nil) != (len(file.Errors) == 0) {
			t.Errorf("Err() = %v with %d errors", file.Err(), len(file.Errors))
		}
		prev := 0
		for _, r := range file.Rules {
			if r.Line <= prev || r.Line > lines || r.Pattern == "" {
				t.Errorf("rule %+v out of order or outside the file (%d lines)", r, lines)
			}
			prev = r.Line
			// Match never panics, on paths shaped like the rules themselves.
			lit := strings.NewReplacer("*", "x", "?", "y", "\\", "").Replace(r.Pattern)
			for _, p := range []string{lit, strings.Trim(lit, "/"), lit + "/z", "a/" + lit, r.Pattern} {
				if got, ok := file.Match(p); ok && got.Line == 0 {
					t.Errorf("Match(%q) returned a rule without a line", p)
				}
			}
		}
		for _, p := range []string{"", "/", "a", "a/b/c", ".github/CODEOWNERS", strings.Repeat("a/", 100)} {
			file.Match(p)
		}
	})
}
