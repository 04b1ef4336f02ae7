package codeowners_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jitops/jit/controller/codeowners"
)

// BenchmarkMatch matches 1,000 paths against a 5,000-rule file; one op is
// all 1,000 paths.
func BenchmarkMatch(b *testing.B) {
	f := codeowners.Parse(".github/CODEOWNERS", codeowners.GenCodeowners(5000))
	if err := f.Err(); err != nil {
		b.Fatal(err)
	}
	paths := codeowners.GenPaths(1000, 5000)
	owned := 0
	for _, p := range paths {
		if _, ok := f.Match(p); ok {
			owned++
		}
	}
	if owned != len(paths) {
		b.Fatalf("only %d of %d paths owned; * should own all", owned, len(paths))
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range paths {
			f.Match(p)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(paths)), "ns/path")
}

// BenchmarkParse parses a 5,000-line file, index included.
func BenchmarkParse(b *testing.B) {
	data := codeowners.GenCodeowners(5000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		codeowners.Parse(".github/CODEOWNERS", data)
	}
}

// BenchmarkMatchScaling shows how matching 1,000 paths grows with the number
// of rules.
func BenchmarkMatchScaling(b *testing.B) {
	for _, n := range []int{500, 5000, 50000} {
		f := codeowners.Parse(".github/CODEOWNERS", codeowners.GenCodeowners(n))
		paths := codeowners.GenPaths(1000, n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, p := range paths {
					f.Match(p)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(paths)), "ns/path")
		})
	}
}

// BenchmarkHostile bounds the time spent on hostile files and paths.
func BenchmarkHostile(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	binary := make([]byte, codeowners.MaxSize-1)
	for i := range binary {
		binary[i] = byte(r.IntN(256))
	}
	inputs := []struct {
		name string
		data []byte
	}{
		{"10MB", []byte(strings.Repeat("* @a\n", 2<<20))},
		{"binary-3MB", binary},
		{"one-3MB-line-of-bad-owners", []byte("* " + strings.Repeat("bad ", (codeowners.MaxSize-8)/4))},
		{"one-3MB-pattern-of-escapes", []byte(strings.Repeat(`\a`, (codeowners.MaxSize-8)/2) + " @a")},
		{"3MB-of-error-lines", []byte(strings.Repeat("!x @a\n", (codeowners.MaxSize-1)/6))},
		{"3MB-of-CRLF-rules", []byte(strings.Repeat("/a/b/c/ @acme/team\r\n", (codeowners.MaxSize-1)/21))},
		{"NULs", []byte(strings.Repeat("/a\x00 @b\n", 100000))},
		{"BOM", append([]byte("\uFEFF"), codeowners.GenCodeowners(5000)...)},
	}
	for _, in := range inputs {
		b.Run("parse/"+in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				codeowners.Parse("CODEOWNERS", in.data)
			}
		})
	}
	matches := []struct{ name, pattern, path string }{
		{"star-backtracking", strings.Repeat("*a", 200) + "*b", strings.Repeat("a", 4000)},
		{"dstar-backtracking", strings.Repeat("**/a/", 50) + "b", strings.Repeat("a/", 2000) + "c"},
		{"deep-path-any-depth", "x", strings.Repeat("d/", 2000) + "y"},
	}
	for _, m := range matches {
		f := codeowners.Parse("CODEOWNERS", []byte(m.pattern+" @a\n"))
		if err := f.Err(); err != nil {
			b.Fatal(err)
		}
		b.Run("match/"+m.name, func(b *testing.B) {
			for b.Loop() {
				f.Match(m.path)
			}
		})
	}
}
