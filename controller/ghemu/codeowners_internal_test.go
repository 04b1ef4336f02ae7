package ghemu

import "testing"

// TestCodeownersPattern checks the documented examples of GitHub's
// "About code owners" page and the usual gitignore rules it inherits.
func TestCodeownersPattern(t *testing.T) {
	tests := []struct {
		pattern string
		path    string
		want    bool
	}{
		{"*", "a/b/c.txt", true},
		{"*.js", "src/app.js", true},
		{"*.js", "src/app.jsx", false},
		{"/build/logs/", "build/logs/x.log", true},
		{"/build/logs/", "a/build/logs/x.log", false},
		{"/build/logs/", "build/logs", false}, // a file, not a directory
		{"docs/*", "docs/getting-started.md", true},
		{"docs/*", "docs/build-app/troubleshooting.md", false},
		{"apps/", "apps/x", true},
		{"apps/", "deep/nested/apps/x", true},
		{"apps/", "apps", false},
		{"/docs/", "docs/a/b.md", true},
		{"/docs/", "x/docs/a.md", false},
		{"**/logs", "build/logs/x", true},
		{"**/logs", "deeply/nested/logs/x", true},
		{"**/logs", "logs/x", true},
		{"foo/bar", "foo/bar/baz", true},
		{"foo/bar", "x/foo/bar", false},
		{"access/prod/", "access/prod/db/a.yaml", true},
		{"a?c", "abc", true},
		{"a?c", "a/c", false},
		{`\*.md`, "*.md", true},
		{`\*.md`, "x.md", false},
		// GitHub reports an unescaped [ or ] ("both [ and ] must be escaped
		// with a \") and skips the line; escaped, brackets are literal. The
		// emulator used to match [param] literally, as hmarr/codeowners does
		// (found by controller/internal/codeownersdiff).
		{"/apps/[param]/file.ts", "apps/[param]/file.ts", false},
		{"/apps/[param]/file.ts", "apps/p/file.ts", false},
		{`/apps/\[param\]/file.ts`, "apps/[param]/file.ts", true},
		{"a]", "a]", false},
		// The docs: escaping a leading # "does not work"; such a line owns
		// nothing (found by the differential test too).
		{`\#notes`, "#notes", false},
		// /* owns only what is directly at the root, like the docs' docs/*
		// ("but not further nested files like docs/build-app/troubleshooting.md")
		// and hmarr's table (/* against foo/bar: false). It is not gitignore's
		// reading, where /* matching the directory a would cover a/a/a.yaml;
		// the emulator used to read it that way (found by the differential
		// test, controller/internal/codeownersdiff).
		{"/*", "a", true},
		{"/*", "a/a/a.yaml", false},
		{"/*", "a/b", false},
		{"/*/", "a/b", true},
		{"**/**", "a", true}, // gitignore: the leading **/ matches no directory
		// ** is special only as a whole segment; elsewhere it is one *
		// (gitignore: "Other consecutive asterisks are considered regular
		// asterisks"). The emulator used to let a**b cross slashes.
		{"a**b", "axb", true},
		{"a**b", "a/x/b", false},
		{"/a/**b", "a/x/b", false},
		// A whole segment of three or more asterisks is ** to git
		// (git check-ignore: a/****/b ignores a/b and a/x/y/b, not a/xb).
		{"a/****/b", "a/b", true},
		{"a/****/b", "a/x/y/b", true},
		{"a/****/b", "a/xb", false},
		// A lone trailing backslash never matches in git; the emulator used
		// to read it as a literal backslash (found by the differential test).
		{`\`, `\`, false},
		{`a\`, `a\`, false},
		{`a\\`, `a\`, true}, // an escaped backslash is a literal one
		// Non-ASCII names match themselves; the emulator used to turn each
		// byte of a multi-byte character into a character of its own (found
		// by the differential test with the pattern ث).
		{"ث", "a/ث", true},
		{`/\é/`, "é/x", true},
		{"/日本/*.md", "日本/a.md", true},
		// a/**/ owns what is inside the directories inside a, not a/x
		// (git check-ignore agrees; the product used to follow hmarr here).
		{"a/**/", "a/0", false},
		{"a/**/", "a/x/y", true},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**", "a/x/y", true},
		{"!x", "x", false},
		{"/", "x", false},
	}
	for _, tc := range tests {
		re := codeownersPattern(tc.pattern)
		got := re != nil && re.MatchString(tc.path)
		if got != tc.want {
			t.Errorf("pattern %q on %q = %v, want %v (re %v)", tc.pattern, tc.path, got, tc.want, re)
		}
	}
}
