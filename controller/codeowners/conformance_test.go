package codeowners_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/jitops/jit/controller/codeowners"
)

// hmarrCase is one entry of testdata/hmarr-patterns.json (see testdata/README.md):
// a pattern and, for each path, whether the pattern alone matches it.
type hmarrCase struct {
	Name    string          `json:"name"`
	Pattern string          `json:"pattern"`
	Paths   map[string]bool `json:"paths"`
}

// hmarrExceptions lists the assertions where GitHub's documentation and the
// hmarr table disagree; there, this package follows GitHub. Key: pattern, then
// path; value: what GitHub's rules give and why.
var hmarrExceptions = map[string]map[string]struct {
	want bool
	why  string
}{
	// Found by the differential fuzz test (controller/internal/codeownersdiff):
	// the emulator did not own a/0 with a/**/, this package did, as hmarr's
	// table says for foo/bar. GitHub gives CODEOWNERS gitignore's rules, and
	// there a trailing slash matches only directories: foo/**/ matches the
	// directories inside foo, so it owns what is inside them (foo/bar/baz),
	// not a file directly in foo. git agrees: with a .gitignore of foo/**/,
	// `git check-ignore --no-index foo/bar` ignores nothing, foo/bar/baz is
	// ignored (git 2.39). (Newer hmarr versions add /apps/[param]/file.ts,
	// which hmarr reads with literal brackets; that is not in this snapshot.)
	"foo/**/": {
		"foo/bar": {false, "gitignore: a trailing slash matches directories only, and foo/bar is a file directly in foo"},
	},
}

func TestConformanceHmarrPatterns(t *testing.T) {
	data, err := os.ReadFile("testdata/hmarr-patterns.json")
	if err != nil {
		t.Fatal(err)
	}
	cases := loadHmarr(t, data)
	assertions := 0
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			f := codeowners.Parse("CODEOWNERS", []byte(c.Pattern+" @x\n"))
			if err := f.Err(); err != nil {
				t.Fatalf("pattern %q: %v", c.Pattern, err)
			}
			for path, want := range c.Paths {
				assertions++
				if ex, ok := hmarrExceptions[c.Pattern][path]; ok {
					want = ex.want
				}
				_, got := f.Match(path)
				if got != want {
					t.Errorf("pattern %q, path %q: owned = %v, want %v", c.Pattern, path, got, want)
				}
			}
		})
	}
	// The snapshot's size, so that a truncated or edited copy is noticed.
	if len(cases) != 27 || assertions != 145 {
		t.Errorf("testdata/hmarr-patterns.json has %d patterns and %d assertions, want 27 and 145", len(cases), assertions)
	}
}

func loadHmarr(t *testing.T, data []byte) []hmarrCase {
	t.Helper()
	var cases []hmarrCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("testdata/hmarr-patterns.json: %v", err)
	}
	return cases
}
