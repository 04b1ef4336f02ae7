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
		{"/apps/[param]/file.ts", "apps/[param]/file.ts", true},
		{"/apps/[param]/file.ts", "apps/p/file.ts", false},
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
