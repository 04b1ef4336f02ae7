package codeownersdiff_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/jitops/jit/controller/codeowners"
	"github.com/jitops/jit/controller/ghemu"
)

// productOwns is the product's answer: a one-line CODEOWNERS file with the
// pattern and one owner; a line the product reports as invalid is skipped
// (as GitHub skips it) and owns nothing. judged is false where the product
// deliberately refuses a pattern whose meaning GitHub does not document and
// tools disagree on (an escaped slash, a segment of three or more
// asterisks; its message says the line "cannot be relied on"): callers fail
// closed on any CODEOWNERS error, so the product takes no ownership view
// there to compare, while the emulator follows git.
func productOwns(pattern, path string) (owned, judged bool) {
	f := codeowners.Parse("CODEOWNERS", []byte(pattern+" @x\n"))
	if err := f.Err(); err != nil || len(f.Rules) != 1 {
		return false, err == nil || !strings.Contains(err.Error(), "cannot be relied on")
	}
	_, owned = f.Match(path)
	return owned, true
}

// comparable says whether a pattern and a path are inputs both matchers
// read the same way before matching: one pattern word (no blanks, no
// control characters, not a comment) and a clean repository path.
func comparable(pattern, path string) bool {
	if pattern == "" || strings.HasPrefix(pattern, "#") || !utf8.ValidString(pattern) || !utf8.ValidString(path) {
		return false
	}
	for _, r := range pattern + path {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	if path == "" || strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") {
		return false
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return len(pattern) <= 200 && len(path) <= 200
}

// seeds hold every disagreement found so far, each settled by GitHub's
// rules in the matcher that was wrong, with a regression case there:
//
//	/* vs a/a/a.yaml          emulator (owned it); ghemu TestCodeownersPattern
//	**/** vs a               product (did not own it); codeowners
//	                         TestDoubleStarPatternsOwnRootFiles
//	/apps/[param]/f, \#x      emulator (owned them; GitHub skips the line)
//	a**b vs a/x/b            emulator (let ** inside a name cross slashes)
//	a/****/b vs a/b          product now refuses (TestRejectedLines), emulator
//	                         follows git
//	a\/b vs a/b              product refused silently by never matching; now an
//	                         error (TestRejectedLines)
var seeds = []struct{ pattern, path string }{
	{"/*", "a/a/a.yaml"}, {"**/**", "a"}, {"/*", "a"}, {"*", "a/b"}, {"docs/*", "docs/a/b"},
	{"/build/logs/", "build/logs"}, {"apps/", "x/apps/y"}, {"**/logs", "logs/x"}, {"a/**/b", "a/b"},
	{"a/**", "a"}, {"**/", "a"}, {"/**/", "a/b"}, {`\*.md`, "*.md"}, {"/apps/[param]/f", "apps/[param]/f"},
	{`\#x`, "#x"}, {"!x", "x"}, {"/", "x"}, {"a//b", "a/b"}, {"f?o", "fé"}, {"***", "a/b"},
	{"a**b", "axb"}, {"a/**b", "a/xb"}, {`a\/b`, "a/b"}, {"**/**/", "a/b"}, {"/**/**", "a"},
	{"access/prod/", "access/prod/db/a.yaml"}, {"*.yaml", "access/x.yaml"}, {"/access/*/", "access/a/b.yaml"},
	{"a/****/b", "a/b"}, {"a**b", "a/x/b"}, {"/a/**b", "a/x/b"}, {"a***b", "ab"}, {`/apps/\[p\]/f`, "apps/[p]/f"},
}

func FuzzProductAgreesWithEmulator(f *testing.F) {
	for _, s := range seeds {
		f.Add(s.pattern, s.path)
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		// Random paths rarely match random patterns, so paths shaped like
		// the pattern itself are compared too.
		lit := strings.NewReplacer("**", "x/y", "*", "x", "?", "q", "\\", "").Replace(pattern)
		lit = strings.Trim(lit, "/")
		for _, p := range []string{path, lit, lit + "/z", "a/" + lit, "a/" + lit + "/z", path + "/" + lit} {
			if !comparable(pattern, p) {
				continue
			}
			product, judged := productOwns(pattern, p)
			if !judged {
				return
			}
			if emulator := ghemu.CodeownersPatternOwns(pattern, p); product != emulator {
				t.Errorf("pattern %q, path %q: product owns = %v, emulator owns = %v", pattern, p, product, emulator)
			}
		}
	})
}
