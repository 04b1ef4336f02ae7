package codeowners

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// fullScan is the definition the index must agree with: the last rule, in
// file order, whose pattern matches.
func fullScan(f *File, path string) int {
	path = strings.TrimPrefix(path, "/")
	if path == "" {
		return -1
	}
	segs := strings.Split(path, "/")
	for i := len(f.Rules) - 1; i >= 0; i-- {
		if f.pats[i].match(segs) {
			return i
		}
	}
	return -1
}

// TestIndexAgreesWithFullScan checks the index on files mixing every kind of
// rule it files differently, against paths built from the same pieces.
func TestIndexAgreesWithFullScan(t *testing.T) {
	pieces := []string{"a", "b", "svc", "svc-1", "sv", "x.go", "y.yaml", "logs", "(a)", "é"}
	shapes := []string{
		"/%s/", "/%s/%s", "%s", "%s/", "**/%s", "/%s/*", "/*/%s/", "*.go", "*.yaml", "/%s-*/",
		"%s*", "/%s/**/%s", "?%s", "*", "/*", "**/", "/%s/*/%s/", "/sv*/", "s*", "/%s/%s*",
	}
	r := rand.New(rand.NewPCG(7, 8))
	pick := func() string { return pieces[r.IntN(len(pieces))] }
	for trial := range 300 {
		var b strings.Builder
		for range 1 + r.IntN(40) {
			shape := shapes[r.IntN(len(shapes))]
			args := make([]any, strings.Count(shape, "%s"))
			for i := range args {
				args[i] = pick()
			}
			p := fmt.Sprintf(shape, args...)
			owner := " @o"
			if r.IntN(5) == 0 {
				owner = ""
			}
			b.WriteString(p + owner + "\n")
		}
		f := Parse("CODEOWNERS", []byte(b.String()))
		if err := f.Err(); err != nil {
			t.Fatalf("trial %d: generated file has errors: %v\n%s", trial, err, b.String())
		}
		for range 50 {
			var segs []string
			for range 1 + r.IntN(5) {
				segs = append(segs, pick())
			}
			path := strings.Join(segs, "/")
			if got, want := f.idx.match(f.pats, path), fullScan(f, path); got != want {
				t.Fatalf("trial %d: path %q: index picks rule %d, full scan %d\n%s", trial, path, got, want, b.String())
			}
		}
	}
}

func FuzzIndex(f *testing.F) {
	f.Add([]byte("* @a\n/access/ @b\n/access/prod/ @c\n*.yaml @d\n**/logs @e\n/svc-*/ @f\n/*/x/ @g\n"), "access/prod/logs/a.yaml")
	f.Add([]byte("a/**/b @a\n/a/*/c @b\n?b @c\nb @d\n"), "a/b/b/c")
	f.Add([]byte("/sv*/ @a\n/svc/ @b\ns* @c\n"), "svc/x")
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		file := Parse("CODEOWNERS", data)
		if got, want := file.idx.match(file.pats, path), fullScan(file, path); got != want {
			t.Errorf("path %q: index picks rule %d, full scan %d", path, got, want)
		}
	})
}

// TestIndexDeepPatterns covers patterns deeper than the trie's key depth.
func TestIndexDeepPatterns(t *testing.T) {
	deep := strings.Repeat("a/", maxKeyDepth+3)
	rules := []string{
		"/" + deep + "b* @1",
		"/" + deep + "c/ @2",
		"/" + deep + "*/d @3",
		"**/" + deep + "e @4",
		"/" + deep + "? @5",
	}
	f := Parse("CODEOWNERS", []byte(strings.Join(rules, "\n")))
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{deep + "bx", deep + "c/x", deep + "x/d", "z/" + deep + "e", deep + "q", deep + "qq", "a/a/b", deep + "c"} {
		if got, want := f.idx.match(f.pats, path), fullScan(f, path); got != want {
			t.Errorf("path %q: index picks rule %d, full scan %d", path, got, want)
		}
		if want := fullScan(f, path); path != "a/a/b" && path != deep+"qq" && path != deep+"c" && want < 0 {
			t.Errorf("path %q matches no rule; the test means it to", path)
		}
	}
}
