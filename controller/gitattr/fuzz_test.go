package gitattr_test

import (
	"strings"
	"testing"

	"github.com/jitops/jit/controller/gitattr"
)

// The fuzz target's judge: an independent reading of gitattributes(5) and
// git's wildmatch, character by character over the whole relative path (the
// package instead compiles patterns to segment sequences and intersects
// them with the governed set). Every line Check accepts is run against
// governed probe paths, fixed ones and ones built from the line itself; a
// match is a hole in Check.

// wild matches pattern p against text t as wildmatch does with WM_PATHNAME:
// "*", "?" and brackets never match "/"; "**" between slashes (or at an end)
// matches across them, and "**/" also matches nothing. judged is false for
// bracket forms this small judge does not read.
type wild struct {
	p, t   string
	memo   map[[2]int]bool
	judged bool
}

func wildMatch(p, t string) (match, judged bool) {
	w := &wild{p: p, t: t, memo: map[[2]int]bool{}, judged: true}
	m := w.at(0, 0)
	return m, w.judged
}

func (w *wild) at(pi, ti int) bool {
	key := [2]int{pi, ti}
	if v, ok := w.memo[key]; ok {
		return v
	}
	v := w.step(pi, ti)
	w.memo[key] = v
	return v
}

func (w *wild) step(pi, ti int) bool {
	p, t := w.p, w.t
	if pi == len(p) {
		return ti == len(t)
	}
	switch c := p[pi]; c {
	case '\\':
		return pi+1 < len(p) && ti < len(t) && t[ti] == p[pi+1] && w.at(pi+2, ti+1)
	case '?':
		return ti < len(t) && t[ti] != '/' && w.at(pi+1, ti+1)
	case '[':
		in, end, ok := judgeClass(p[pi:])
		if !ok {
			w.judged = false
			return false
		}
		return ti < len(t) && t[ti] != '/' && in(t[ti]) && w.at(pi+end, ti+1)
	case '*':
		q := pi
		for q < len(p) && p[q] == '*' {
			q++
		}
		double := q-pi >= 2 && (pi == 0 || p[pi-1] == '/') && (q == len(p) || p[q] == '/')
		if double && q < len(p) && w.at(q+1, ti) {
			return true
		}
		for k := ti; k <= len(t); k++ {
			if w.at(q, k) {
				return true
			}
			if k < len(t) && t[k] == '/' && !double {
				return false
			}
		}
		return false
	default:
		return ti < len(t) && t[ti] == c && w.at(pi+1, ti+1)
	}
}

// judgeClass reads a bracket expression: ! or ^ negation, ] first as a
// member, \ escapes, ranges, and a few [:name:] classes.
func judgeClass(s string) (in func(byte) bool, end int, ok bool) {
	i := 1
	neg := i < len(s) && (s[i] == '!' || s[i] == '^')
	if neg {
		i++
	}
	var members []func(byte) bool
	for first := true; ; first = false {
		if i >= len(s) {
			return nil, 0, false
		}
		if s[i] == ']' && !first {
			i++
			break
		}
		if strings.HasPrefix(s[i:], "[:") {
			j := strings.Index(s[i:], ":]")
			if j < 0 {
				return nil, 0, false
			}
			f, known := map[string]func(byte) bool{
				"alpha": func(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' },
				"digit": func(b byte) bool { return '0' <= b && b <= '9' },
				"lower": func(b byte) bool { return 'a' <= b && b <= 'z' },
				"upper": func(b byte) bool { return 'A' <= b && b <= 'Z' },
			}[s[i+2:i+j]]
			if !known {
				return nil, 0, false
			}
			members = append(members, f)
			i += j + 2
			continue
		}
		lo := s[i]
		if lo == '\\' {
			if i+1 >= len(s) {
				return nil, 0, false
			}
			i++
			lo = s[i]
		}
		i++
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			hi = s[i+1]
			i += 2
			if hi == '\\' {
				if i >= len(s) {
					return nil, 0, false
				}
				hi = s[i]
				i++
			}
		}
		l, h := lo, hi
		members = append(members, func(b byte) bool { return l <= b && b <= h })
	}
	return func(b byte) bool {
		m := false
		for _, f := range members {
			m = m || f(b)
		}
		return m != neg
	}, i, true
}

// judgeLine returns the pattern of an attribute line the judge can read.
func judgeLine(line string) (string, bool) {
	line = strings.TrimLeft(line, " \t\r")
	if line == "" || line[0] == '#' || line[0] == '"' || line[0] == '!' {
		return "", false
	}
	pat := line
	if i := strings.IndexAny(line, " \t\r"); i >= 0 {
		pat = line[:i]
	}
	if strings.HasPrefix(pat, "[attr]") && len(pat) > len("[attr]") {
		return "", false
	}
	return pat, true
}

// judgeMatch says whether a pattern in the .gitattributes of dir gives an
// attribute to path (a directory when isDir).
func judgeMatch(dir, pat, path string, isDir bool) (match, judged bool) {
	if dir != "" {
		if !strings.HasPrefix(path, dir+"/") {
			return false, true
		}
		path = path[len(dir)+1:]
	}
	if strings.HasSuffix(pat, "/") {
		if !isDir {
			return false, true
		}
		pat = pat[:len(pat)-1]
	}
	if !strings.Contains(pat, "/") {
		return wildMatch(pat, path[strings.LastIndex(path, "/")+1:])
	}
	return wildMatch(strings.TrimPrefix(pat, "/"), path)
}

// judgeGoverned is the governed set, written out again, in any letter case
// (git ignores case on case-insensitive file systems).
func judgeGoverned(path string, isDir bool) bool {
	p := strings.ToLower(path)
	for _, d := range []string{"access", "policies", "templates", ".github"} {
		if strings.HasPrefix(p, d+"/") || (isDir && p == d) {
			return true
		}
	}
	if isDir {
		return p == "docs"
	}
	return p == "codeowners" || p == "docs/codeowners" || p == ".gitattributes" || strings.HasSuffix(p, "/.gitattributes")
}

var fuzzFiles = []string{".gitattributes", "docs/.gitattributes", "assets/.gitattributes", "access/.gitattributes", "src/a/.gitattributes"}

var probeFiles = append([]string{"ACCESS/X.YAML", "Access/x.yaml", "codeowners", "Docs/CodeOwners", ".GITATTRIBUTES", "TEMPLATES/a/B.TF"}, governedProbes...)

var probeDirs = []string{"access", "policies", "templates", ".github", "docs", "access/prod", "ACCESS", "Docs"}

// probesFor builds governed paths shaped like the pattern: its wildcards
// filled in, under each governed directory and above a .gitattributes.
func probesFor(dir, pat string) []string {
	lit := strings.NewReplacer("**", "x/y", "*", "x", "?", "q", "\\", "", "[", "", "]", "", "!", "").Replace(pat)
	lit = strings.Trim(lit, "/")
	if dir != "" {
		lit = dir + "/" + lit
	}
	out := []string{lit, lit + "/.gitattributes", lit + "/CODEOWNERS"}
	for _, g := range []string{"access/", "policies/", "templates/", ".github/", "docs/"} {
		out = append(out, g+lit, g+strings.TrimPrefix(lit, dir+"/"))
	}
	return out
}

func FuzzCheck(f *testing.F) {
	for _, tc := range allowed {
		f.Add(uint8(0), []byte(tc.line+"\n"))
	}
	for _, tc := range rejected {
		f.Add(uint8(1), []byte(tc.line))
	}
	f.Add(uint8(2), []byte("[attr]b -diff\n*.png b\n/x/**/y/ export-ignore\n\"a\\\"b\" x\n"))
	f.Add(uint8(3), []byte("\uFEFF/a/[!a-c]?/\\*.md -diff\r\n"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		file := fuzzFiles[int(which)%len(fuzzFiles)]
		dir := strings.TrimSuffix(strings.TrimSuffix(file, ".gitattributes"), "/")
		problems := gitattr.Check(file, data)
		if len(data) > gitattr.MaxSize {
			if len(problems) != 1 {
				t.Fatalf("an oversized file gives %d problems, want 1", len(problems))
			}
			return
		}
		lines := strings.Split(strings.TrimPrefix(string(data), "\uFEFF"), "\n")
		bad := map[int]bool{}
		for i, p := range problems {
			if p.File != file || p.Line < 1 || p.Line > len(lines) || p.Column < 1 || p.Message == "" {
				t.Fatalf("problem out of the file: %v (%d lines)", p, len(lines))
			}
			if i > 0 && problems[i-1].Line >= p.Line {
				t.Fatalf("problems not one per line in order: %v", problems)
			}
			bad[p.Line] = true
		}
		for n, line := range lines {
			if bad[n+1] {
				continue
			}
			pat, ok := judgeLine(line)
			if !ok || len(pat) > 256 {
				continue // keep the judge's quadratic matcher quick enough to fuzz
			}
			for _, probe := range append(append([]string{}, probeFiles...), probesFor(dir, pat)...) {
				if !judgeGoverned(probe, false) {
					continue
				}
				if m, judged := judgeMatch(dir, pat, probe, false); judged && m {
					t.Fatalf("%s line %d %q was accepted but matches the governed file %s", file, n+1, line, probe)
				}
			}
			for _, probe := range append(append([]string{}, probeDirs...), probesFor(dir, pat)...) {
				if !judgeGoverned(probe, true) {
					continue
				}
				if m, judged := judgeMatch(dir, pat, probe, true); judged && m {
					t.Fatalf("%s line %d %q was accepted but matches the governed directory %s", file, n+1, line, probe)
				}
			}
		}
	})
}

// TestJudgeAgreesWithTable keeps the judge honest: it must see every
// rejected table line that is about a governed path as matching one.
func TestJudgeAgreesWithTable(t *testing.T) {
	for name, tc := range rejected {
		pat, ok := judgeLine(tc.line)
		problems := gitattr.Check(tc.file, []byte(tc.line))
		if !ok || len(problems) != 1 || !strings.Contains(problems[0].Message, "could apply to") || strings.Contains(problems[0].Message, "where git ignores case") {
			continue
		}
		w := witnessPattern.FindStringSubmatch(problems[0].Message)[1]
		dir := strings.TrimSuffix(strings.TrimSuffix(tc.file, ".gitattributes"), "/")
		isDir := strings.Contains(problems[0].Message, "the directory holding")
		if m, judged := judgeMatch(dir, pat, w, isDir); !judged || !m {
			t.Errorf("%s: the judge says %q does not match %s (judged %v)", name, pat, w, judged)
		}
	}
}
