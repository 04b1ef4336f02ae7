package codeowners_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jitops/jit/controller/codeowners"
)

// ownersOf returns the owners of path as written ("@a @b"), "-" when the
// matching rule has no owners, and "" when no rule matches.
func ownersOf(f *codeowners.File, path string) string {
	r, ok := f.Match(path)
	if !ok {
		return ""
	}
	if len(r.Owners) == 0 {
		return "-"
	}
	s := make([]string, len(r.Owners))
	for i, o := range r.Owners {
		s[i] = o.String()
	}
	return strings.Join(s, " ")
}

func TestMatchRules(t *testing.T) {
	type check struct{ path, want string }
	tests := map[string]struct {
		file   string
		checks []check
	}{
		"comment lines and blank lines are ignored": {
			file:   "# owners of everything\n\n   # indented comment\n* @all\n",
			checks: []check{{"README.md", "@all"}},
		},
		"inline comment after owners": {
			file:   "*.js @js-owner #This is an inline comment.\n",
			checks: []check{{"app.js", "@js-owner"}},
		},
		"inline comment right after the pattern leaves no owners": {
			file:   "* @all\n/docs #no owners here\n",
			checks: []check{{"docs/a.md", "-"}, {"src/a.go", "@all"}},
		},
		"a # inside a pattern is part of it": {
			file:   "notes/#draft.md @n\n",
			checks: []check{{"notes/#draft.md", "@n"}, {"notes/draft.md", ""}},
		},
		"all owners on one line, in order": {
			file:   "/scripts/ @doctocat @octocat acme@example.com @acme/ops\n",
			checks: []check{{"scripts/run.sh", "@doctocat @octocat acme@example.com @acme/ops"}},
		},
		"last match wins": {
			file:   "* @global\n*.js @js\n/build/ @build\n",
			checks: []check{{"build/app.js", "@build"}, {"src/app.js", "@js"}, {"README", "@global"}},
		},
		"owners are not merged across lines": {
			file:   "/apps/ @a\n/apps/ @b\n",
			checks: []check{{"apps/x", "@b"}},
		},
		"a line without owners un-owns": {
			file:   "/apps/ @octocat\n/apps/github\n",
			checks: []check{{"apps/github/readme.md", "-"}, {"apps/github", "-"}, {"apps/other.md", "@octocat"}},
		},
		"an earlier line still applies below an un-owning line": {
			file:   "/apps/github\n/apps/ @octocat\n",
			checks: []check{{"apps/github/readme.md", "@octocat"}},
		},
		"unowned when nothing matches": {
			file:   "/docs/ @docs\n",
			checks: []check{{"src/main.go", ""}},
		},
		"* owns everything": {
			file:   "* @all\n",
			checks: []check{{"a", "@all"}, {"a/b/c.txt", "@all"}, {".github/CODEOWNERS", "@all"}},
		},
		"*.js matches at any depth": {
			file:   "*.js @js\n",
			checks: []check{{"a.js", "@js"}, {"src/deep/a.js", "@js"}, {"a.jsx", ""}, {"a.js/inner.txt", "@js"}},
		},
		"leading slash anchors to the root": {
			file:   "/build/logs/ @logs\n",
			checks: []check{{"build/logs/x.log", "@logs"}, {"build/logs/a/b.log", "@logs"}, {"src/build/logs/x.log", ""}},
		},
		"a slash in the middle anchors to the root": {
			file:   "docs/guides @g\n",
			checks: []check{{"docs/guides/a.md", "@g"}, {"src/docs/guides/a.md", ""}},
		},
		"no slash matches at any depth": {
			file:   "apps @a\n",
			checks: []check{{"apps", "@a"}, {"x/apps", "@a"}, {"x/apps/y.js", "@a"}, {"x/apps.js", ""}},
		},
		"only a trailing slash matches directories at any depth": {
			file:   "apps/ @a\n",
			checks: []check{{"apps/x.js", "@a"}, {"deep/down/apps/x.js", "@a"}, {"apps", ""}, {"deep/apps", ""}},
		},
		"a trailing slash does not match a file of that name": {
			file:   "/logs/ @l\n",
			checks: []check{{"logs", ""}, {"logs/today", "@l"}},
		},
		"a directory match owns everything below it": {
			file:   "/docs/ @d\n",
			checks: []check{{"docs/a", "@d"}, {"docs/a/b/c/d.md", "@d"}},
		},
		"docs/* matches files directly inside only": {
			file:   "docs/* @docs\n",
			checks: []check{{"docs/getting-started.md", "@docs"}, {"docs/build-app/troubleshooting.md", ""}, {"docs", ""}},
		},
		"* does not cross a slash": {
			file:   "/src/*.go @go\n",
			checks: []check{{"src/main.go", "@go"}, {"src/pkg/main.go", ""}},
		},
		"? matches one character but not a slash": {
			file:   "/v?/ @v\n/a?b @ab\n",
			checks: []check{{"v1/x", "@v"}, {"v12/x", ""}, {"a/b", ""}, {"axb", "@ab"}, {"aéb", "@ab"}},
		},
		"leading **/ matches in every directory": {
			file:   "**/logs @logs\n",
			checks: []check{{"logs/x", "@logs"}, {"build/logs/x", "@logs"}, {"deeply/nested/logs/x", "@logs"}, {"deeply/nested/logs", "@logs"}},
		},
		"middle /**/ matches zero or more directories": {
			file:   "/a/**/b @ab\n",
			checks: []check{{"a/b", "@ab"}, {"a/x/b", "@ab"}, {"a/x/y/b/c", "@ab"}, {"x/a/b", ""}},
		},
		"a/**/ owns what is inside the directories inside a": {
			file:   "/a/**/ @a\n",
			checks: []check{{"a/x/y", "@a"}, {"a/x/y/z", "@a"}, {"a/x", ""}, {"a", ""}},
		},
		"trailing /** matches everything inside but not the directory itself": {
			file:   "/a/** @a\n",
			checks: []check{{"a/x", "@a"}, {"a/x/y", "@a"}, {"a", ""}},
		},
		"** alone matches everything": {
			file:   "** @all\n",
			checks: []check{{"a", "@all"}, {"a/b", "@all"}},
		},
		"**/ matches inside every directory but not files at the root": {
			file:   "**/ @dirs\n",
			checks: []check{{"a/b", "@dirs"}, {"a/b/c", "@dirs"}, {"a", ""}},
		},
		"three or more asterisks inside a name are one *": {
			file:   "/a***b @s\n",
			checks: []check{{"axb", "@s"}, {"ab", "@s"}, {"a/b", ""}},
		},
		"escaped * and ? are literal": {
			file:   `f\*o @star` + "\n" + `f\?o @q` + "\n",
			checks: []check{{"f*o", "@star"}, {"foo", ""}, {"f?o", "@q"}},
		},
		"escaped space is part of the pattern": {
			file:   `/my\ docs/ @d` + "\n",
			checks: []check{{"my docs/a.md", "@d"}, {"my/a.md", ""}},
		},
		"escaped brackets are literal": {
			file:   `/apps/\[param\]/file.ts @p` + "\n" + `/\[abc\] @r` + "\n",
			checks: []check{{"apps/[param]/file.ts", "@p"}, {"apps/p/file.ts", ""}, {"apps/param/file.ts", ""}, {"[abc]", "@r"}, {"a", ""}},
		},
		"colon, caret and other punctuation are literal": {
			file:   "services/foo:bar/**/* @c\n/^x|{y}~ @p\n",
			checks: []check{{"services/foo:bar/baz.json", "@c"}, {"services/foo:bar/a/b.json", "@c"}, {"services/foobar/baz.json", ""}, {"^x|{y}~", "@p"}},
		},
		"matching is case-sensitive": {
			file:   "/Docs/ @d\n",
			checks: []check{{"Docs/a", "@d"}, {"docs/a", ""}},
		},
		"owners keep their case": {
			file:   "* @Alice @ACME/DBA\n",
			checks: []check{{"x", "@Alice @ACME/DBA"}},
		},
		"CRLF line endings": {
			file:   "* @all\r\n/docs/ @docs\r\n",
			checks: []check{{"docs/a", "@docs"}, {"b", "@all"}},
		},
		"leading blanks and tabs before the pattern": {
			file:   "  \t/docs/\t@docs  \n",
			checks: []check{{"docs/a", "@docs"}},
		},
		"path with a leading slash is read as repository-relative": {
			file:   "/docs/ @docs\n",
			checks: []check{{"/docs/a", "@docs"}},
		},
		"empty path is unowned": {
			file:   "* @all\n",
			checks: []check{{"", ""}},
		},
		"an invalid line is skipped and the previous match applies": {
			file:   "/access/ @acme/dba\n/access/prod/ not-an-owner\n",
			checks: []check{{"access/prod/x.yaml", "@acme/dba"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := codeowners.Parse(".github/CODEOWNERS", []byte(tc.file))
			for _, c := range tc.checks {
				if got := ownersOf(f, c.path); got != c.want {
					t.Errorf("owners of %q = %q, want %q (errors: %v)", c.path, got, c.want, f.Err())
				}
			}
		})
	}
}

// TestDoubleStarPatternsOwnRootFiles settles a disagreement the differential
// fuzz test (controller/internal/codeownersdiff) found between this package
// and the GitHub emulator: does **/** own a file at the root? GitHub's docs
// give CODEOWNERS gitignore's pattern rules, with exceptions (no !, no [ ],
// no \#) that do not touch **. gitignore(5): "A leading "**" followed by a
// slash means match in all directories", so the leading **/ also matches no
// directory at all, and the ** left over then matches the root file; git
// itself agrees (`git check-ignore --no-index a` with a .gitignore of
// **/** reports a as ignored, git 2.39). The package used to read **/** like
// **/ (only inside some directory); it now owns root files. (hmarr/codeowners
// reads it the old way; it is not GitHub.)
func TestDoubleStarPatternsOwnRootFiles(t *testing.T) {
	tests := map[string]map[string]bool{
		"**/**":    {"a": true, "a/b": true, "a/b/c": true},
		"/**/**":   {"a": true, "a/b": true},
		"**/**/**": {"a": true, "a/b/c": true},
		// A trailing slash still asks for a directory: root files stay out.
		"**/**/": {"a": false, "a/b": true},
		"/**/":   {"a": false, "a/b": true},
		"**/":    {"a": false, "a/b": true},
		// A name before the trailing /** still needs something inside it.
		"x/**/**": {"x": false, "x/a": true},
	}
	for pattern, paths := range tests {
		f := codeowners.Parse("CODEOWNERS", []byte(pattern+" @o\n"))
		if err := f.Err(); err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		for path, want := range paths {
			if _, got := f.Match(path); got != want {
				t.Errorf("pattern %q, path %q: owned = %v, want %v", pattern, path, got, want)
			}
		}
	}
}

func TestMatchReturnsTheDecidingRule(t *testing.T) {
	f := codeowners.Parse("CODEOWNERS", []byte("* @all\n\n# prod\n/access/prod/ @acme/dba\n"))
	r, ok := f.Match("access/prod/db/alice.yaml")
	if !ok {
		t.Fatal("no rule matched")
	}
	want := codeowners.Rule{Line: 4, Pattern: "/access/prod/", Owners: []codeowners.Owner{{Kind: codeowners.Team, Value: "acme/dba"}}}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("Match mismatch (-want +got):\n%s", diff)
	}
	if got := f.Owners("access/prod/db/alice.yaml"); len(got) != 1 || got[0].Org() != "acme" || got[0].Slug() != "dba" {
		t.Errorf("Owners = %v, want [@acme/dba] with org acme and slug dba", got)
	}
	if got := f.Owners("nothing-matches-but-star"); len(got) != 1 || got[0].String() != "@all" {
		t.Errorf("Owners = %v, want [@all]", got)
	}
}

func TestOwnerKinds(t *testing.T) {
	f := codeowners.Parse("CODEOWNERS", []byte("* @octocat @octo-org/octo_team.x docs@example.com @emu_user_acme first.last+tag@mail.example.co.uk\n"))
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	want := []codeowners.Owner{
		{Kind: codeowners.User, Value: "octocat"},
		{Kind: codeowners.Team, Value: "octo-org/octo_team.x"},
		{Kind: codeowners.Email, Value: "docs@example.com"},
		{Kind: codeowners.User, Value: "emu_user_acme"},
		{Kind: codeowners.Email, Value: "first.last+tag@mail.example.co.uk"},
	}
	if diff := cmp.Diff(want, f.Rules[0].Owners); diff != "" {
		t.Errorf("owners (-want +got):\n%s", diff)
	}
	for _, o := range want {
		if o.Kind.String() == "" || strings.HasPrefix(o.Kind.String(), "OwnerKind") {
			t.Errorf("kind %d has no name", o.Kind)
		}
	}
	if got := (codeowners.Owner{Kind: codeowners.User, Value: "x"}).Org(); got != "" {
		t.Errorf("Org of a user = %q, want empty", got)
	}
}

// TestRejectedLines checks the error for every kind of line GitHub skips:
// its position, kind and message, and that the line adds no rule.
func TestRejectedLines(t *testing.T) {
	tests := map[string]struct {
		file       string
		line, col  int
		kind       codeowners.Kind
		msg        string // substring of Error()
		rulesAfter int
	}{
		"negation": {
			file: "* @a\n!/docs/ @b\n", line: 2, col: 1, kind: codeowners.KindInvalidPattern,
			msg: `.github/CODEOWNERS:2:1: pattern "!/docs/": negation (!) does not work in CODEOWNERS, so GitHub skips this line; to remove owners`, rulesAfter: 1,
		},
		"escaped leading #": {
			file: `\#notes @a` + "\n", line: 1, col: 1, kind: codeowners.KindInvalidPattern,
			msg: `escaping a leading # with \ does not work in CODEOWNERS`,
		},
		"unescaped bracket": {
			file: "* @a\n/apps/[param]/file.ts @b\n", line: 2, col: 7, kind: codeowners.KindInvalidPattern,
			msg: `.github/CODEOWNERS:2:7: pattern "/apps/[param]/file.ts": unescaped '[': [ ] character ranges do not work in CODEOWNERS and GitHub skips this line; escape both brackets to match them literally, for example /apps/\[param\]/`, rulesAfter: 1,
		},
		"unescaped closing bracket": {
			file: "a] @b\n", line: 1, col: 2, kind: codeowners.KindInvalidPattern,
			msg: `unescaped ']'`,
		},
		"bare slash": {
			file: "* @a\n/ @b\n", line: 2, col: 1, kind: codeowners.KindInvalidPattern,
			msg: `.github/CODEOWNERS:2:1: pattern "/": the pattern / never matches anything; did you mean * (every file)?`, rulesAfter: 1,
		},
		"empty segment": {
			file: "/docs//x @a\n", line: 1, col: 7, kind: codeowners.KindInvalidPattern,
			msg: "empty path segment (//)",
		},
		// Found by the differential fuzz test: gitignore reads \/ as a
		// separator (git check-ignore: a\/b ignores a/b), this package read
		// it as a slash inside one name (never matching), and GitHub does not
		// document it. Such a line is now an error, so callers fail closed.
		"escaped slash": {
			file: "* @a\n/docs\\/x @b\n", line: 2, col: 6, kind: codeowners.KindInvalidPattern,
			msg: `.github/CODEOWNERS:2:6: pattern "/docs\\/x": an escaped slash (\/) is read as a separator by git and as part of a name by others, so this line cannot be relied on; write / without the backslash`, rulesAfter: 1,
		},
		// Found by the differential fuzz test: a/****/b owned a/b in the
		// emulator (git reads a whole segment of asterisks as **) and not
		// here (as one *); gitignore(5) and GitHub's docs leave it open.
		"segment of three asterisks": {
			file: "/a/***/b @b\n", line: 1, col: 4, kind: codeowners.KindInvalidPattern,
			msg: `pattern "/a/***/b": a path segment of 3 asterisks is read as ** by git and as * by others, so this line cannot be relied on; write ** for any number of directories or * for one name`,
		},
		"trailing backslash": {
			file: "  /docs\\", line: 1, col: 8, kind: codeowners.KindInvalidPattern,
			msg: "pattern ends with a lone backslash",
		},
		"owner without @": {
			file: "/docs/ octocat\n", line: 1, col: 8, kind: codeowners.KindInvalidOwner,
			msg: `.github/CODEOWNERS:1:8: invalid owner "octocat": owners are @username, @org/team-name or an email address, so GitHub skips this line; did you mean @octocat?`,
		},
		"owner with bad characters": {
			file: "# c\n\n/docs/ @ok @bad!name\n", line: 3, col: 12, kind: codeowners.KindInvalidOwner,
			msg: `invalid owner "@bad!name": "bad!name" is not a valid GitHub username, so GitHub skips this line; usernames have only letters, digits and hyphens`,
		},
		"username starting with a hyphen": {
			file: "* @-x\n", line: 1, col: 3, kind: codeowners.KindInvalidOwner,
			msg: `"-x" is not a valid GitHub username`,
		},
		"word that is no owner": {
			file: "/docs/ see-wiki!\n", line: 1, col: 8, kind: codeowners.KindInvalidOwner,
			msg: `invalid owner "see-wiki!": owners are @username, @org/team-name or an email address, so GitHub skips this line; write each owner as @username, @org/team-name or an email address, or start a comment with #`,
		},
		"team with empty slug": {
			file: "* @acme/\n", line: 1, col: 3, kind: codeowners.KindInvalidOwner,
			msg: `"" is not a valid team name`,
		},
		"team with bad org": {
			file: "* @ac$me/dba\n", line: 1, col: 3, kind: codeowners.KindInvalidOwner,
			msg: `"ac$me" is not a valid organisation name`,
		},
		"nested team path": {
			file: "* @acme/dba/x\n", line: 1, col: 3, kind: codeowners.KindInvalidOwner,
			msg: `"dba/x" is not a valid team name`,
		},
		"bare @": {
			file: "* @\n", line: 1, col: 3, kind: codeowners.KindInvalidOwner,
			msg: `invalid owner "@"`,
		},
		"email without a dot in the domain": {
			file: "* a@localhost\n", line: 1, col: 3, kind: codeowners.KindInvalidOwner,
			msg: `invalid owner "a@localhost": not a valid email address`,
		},
		"email with two @": {
			file: "* a@b@c.d\n", line: 1, col: 3, kind: codeowners.KindInvalidOwner,
			msg: `not a valid email address`,
		},
		"column counts characters, not bytes": {
			file: "/日本/ nope\n", line: 1, col: 6, kind: codeowners.KindInvalidOwner,
			msg: `.github/CODEOWNERS:1:6: invalid owner "nope"`,
		},
		"invalid UTF-8": {
			file: "* @a\n/ok/\xff\xfe @b\n", line: 2, col: 5, kind: codeowners.KindInvalidText,
			msg: "the line is not valid UTF-8, so it is skipped", rulesAfter: 1,
		},
		"NUL byte": {
			file: "/a\x00b @x\n* @a\n", line: 1, col: 3, kind: codeowners.KindInvalidText,
			msg: "the line contains the control character U+0000, so it is skipped", rulesAfter: 1,
		},
		"stray carriage return": {
			file: "/a @x\r/b @y\n", line: 1, col: 6, kind: codeowners.KindInvalidText,
			msg: "carriage return that does not end the line",
		},
		"byte order mark": {
			file: "\uFEFF* @a\n", line: 1, col: 1, kind: codeowners.KindInvalidText,
			msg: ".github/CODEOWNERS:1:1: the file starts with a UTF-8 byte order mark", rulesAfter: 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := codeowners.Parse(".github/CODEOWNERS", []byte(tc.file))
			if len(f.Errors) != 1 {
				t.Fatalf("got %d errors, want 1: %v", len(f.Errors), f.Err())
			}
			e := f.Errors[0]
			if e.Line != tc.line || e.Column != tc.col || e.Kind != tc.kind || e.Path != ".github/CODEOWNERS" {
				t.Errorf("error at %s:%d:%d kind %q, want .github/CODEOWNERS:%d:%d kind %q", e.Path, e.Line, e.Column, e.Kind, tc.line, tc.col, tc.kind)
			}
			if !strings.Contains(e.Error(), tc.msg) {
				t.Errorf("error = %q, want it to contain %q", e.Error(), tc.msg)
			}
			if e.Source == "" && e.Line > 0 {
				t.Errorf("error has no source line")
			}
			if len(f.Rules) != tc.rulesAfter {
				t.Errorf("got %d rules, want %d (the bad line must be skipped, the others kept)", len(f.Rules), tc.rulesAfter)
			}
			err := f.Err()
			var list codeowners.ErrorList
			if !errors.As(err, &list) || len(list) != 1 || list[0].Error() != e.Error() {
				t.Errorf("Err() = %v, want an ErrorList holding the error", err)
			}
		})
	}
}

func TestEveryBadOwnerOnALineIsReported(t *testing.T) {
	f := codeowners.Parse("CODEOWNERS", []byte("!x @ok bad also-bad @fine\n"))
	var got []string
	for _, e := range f.Errors {
		got = append(got, fmt.Sprintf("%d:%d %s", e.Line, e.Column, e.Kind))
	}
	want := []string{"1:1 Invalid pattern", "1:8 Invalid owner", "1:12 Invalid owner"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if len(f.Rules) != 0 {
		t.Errorf("the line must be skipped, got rules %v", f.Rules)
	}
}

func TestTooLarge(t *testing.T) {
	for name, size := range map[string]int{"exactly 3 MB": codeowners.MaxSize, "10 MB": 10 << 20} {
		t.Run(name, func(t *testing.T) {
			data := []byte(strings.Repeat("* @a\n", size/5+1)[:size])
			f := codeowners.Parse("docs/CODEOWNERS", data)
			if len(f.Rules) != 0 {
				t.Errorf("got %d rules, want none: GitHub does not load the file at all", len(f.Rules))
			}
			if _, ok := f.Match("a"); ok {
				t.Error("a path matched in a file that is not loaded")
			}
			want := fmt.Sprintf("docs/CODEOWNERS:0:0: the file is %d bytes and GitHub does not load a CODEOWNERS file of 3 MB (3145728 bytes) or more, so no path has code owners; shrink the file", size)
			if err := f.Err(); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Err() = %v, want prefix %q", err, want)
			}
			if f.Errors[0].Kind != codeowners.KindTooLarge {
				t.Errorf("kind = %q, want %q", f.Errors[0].Kind, codeowners.KindTooLarge)
			}
		})
	}
	t.Run("one byte under is loaded", func(t *testing.T) {
		data := []byte(strings.Repeat("#", codeowners.MaxSize-7) + "\n* @a\n")
		if len(data) != codeowners.MaxSize-1 {
			t.Fatalf("test data is %d bytes", len(data))
		}
		f := codeowners.Parse("CODEOWNERS", data)
		if err := f.Err(); err != nil {
			t.Fatal(err)
		}
		if got := ownersOf(f, "x"); got != "@a" {
			t.Errorf("owners = %q, want @a", got)
		}
	})
}

func TestTooManyErrors(t *testing.T) {
	f := codeowners.Parse("CODEOWNERS", []byte(strings.Repeat("!x @a\n", codeowners.MaxErrors+50)+"* @a\n"))
	if len(f.Errors) != codeowners.MaxErrors+1 {
		t.Fatalf("got %d errors, want %d", len(f.Errors), codeowners.MaxErrors+1)
	}
	last := f.Errors[len(f.Errors)-1]
	if last.Kind != codeowners.KindTooManyErrors || last.Line != codeowners.MaxErrors+1 ||
		last.Error() != "CODEOWNERS:1001:1: more than 1000 errors; the rest are not listed" {
		t.Errorf("last error = %q (kind %q)", last.Error(), last.Kind)
	}
	if len(f.Rules) != 1 {
		t.Errorf("got %d rules, want the one valid line", len(f.Rules))
	}
}

func TestLongSourceIsClipped(t *testing.T) {
	line := "/x @" + strings.Repeat("é", 300) + "!"
	f := codeowners.Parse("CODEOWNERS", []byte(line))
	if len(f.Errors) != 1 {
		t.Fatalf("errors: %v", f.Err())
	}
	src := f.Errors[0].Source
	if len(src) > 200 || !strings.HasPrefix(line, src) || len(src) < 190 {
		t.Errorf("source is %d bytes, want a prefix of the line of at most 200 bytes cut at a character boundary", len(src))
	}
}

func TestNoErrors(t *testing.T) {
	f := codeowners.Parse("CODEOWNERS", []byte("# only comments\n\n"))
	if err := f.Err(); err != nil {
		t.Errorf("Err() = %v, want nil", err)
	}
	var nilFile *codeowners.File
	if _, ok := nilFile.Match("a"); ok || nilFile.Err() != nil {
		t.Error("a nil File must match nothing and report no error")
	}
}

func TestFind(t *testing.T) {
	type tree map[string]string
	tests := map[string]struct {
		files    tree
		fail     string // location whose read fails
		wantPath string
		wantErr  string
	}{
		".github first": {
			files:    tree{".github/CODEOWNERS": "g", "CODEOWNERS": "r", "docs/CODEOWNERS": "d"},
			wantPath: ".github/CODEOWNERS",
		},
		"root before docs": {
			files:    tree{"CODEOWNERS": "r", "docs/CODEOWNERS": "d"},
			wantPath: "CODEOWNERS",
		},
		"docs last": {
			files:    tree{"docs/CODEOWNERS": "d"},
			wantPath: "docs/CODEOWNERS",
		},
		"an empty file is found": {
			files:    tree{".github/CODEOWNERS": "", "CODEOWNERS": "r"},
			wantPath: ".github/CODEOWNERS",
		},
		"none": {files: tree{"README.md": "x"}},
		"read error stops the search": {
			files: tree{"docs/CODEOWNERS": "d"}, fail: "CODEOWNERS",
			wantErr: "looking for CODEOWNERS at CODEOWNERS: disk on fire",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var asked []string
			read := func(p string) ([]byte, bool, error) {
				asked = append(asked, p)
				if p == tc.fail {
					return nil, false, errors.New("disk on fire")
				}
				s, ok := tc.files[p]
				return []byte(s), ok, nil
			}
			path, data, found, err := codeowners.Find(read)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if found || path != "" {
					t.Errorf("found %q despite the error", path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if path != tc.wantPath || found != (tc.wantPath != "") {
				t.Fatalf("Find = %q, %v; want %q", path, found, tc.wantPath)
			}
			if found && string(data) != tc.files[path] {
				t.Errorf("data = %q, want %q", data, tc.files[path])
			}
			// Only the locations up to the one found are read, in order.
			n := len(codeowners.Locations)
			for i, l := range codeowners.Locations {
				if l == path {
					n = i + 1
				}
			}
			if diff := cmp.Diff(codeowners.Locations[:n], asked); diff != "" {
				t.Errorf("locations read (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDocsExample reads a file built from the examples on GitHub's "About
// code owners" page, in their order, and checks the owners the page states.
func TestDocsExample(t *testing.T) {
	const file = `# This is a comment.
# Each line is a file pattern followed by one or more owners.

# These owners will be the default owners for everything in the repo.
*       @global-owner1 @global-owner2

# In this example, @js-owner owns any .js files.
*.js    @js-owner #This is an inline comment.

# Email addresses can be used too.
*.go docs@example.com

# Teams can be specified as code owners as well.
*.txt @octo-org/octocats

# @doctocat owns any files in the build/logs directory at the root.
/build/logs/ @doctocat

# docs@example.com owns files directly in docs/, not in its subdirectories.
docs/*  docs@example.com

# @octocat owns any file in an apps directory anywhere.
apps/ @octocat

# @doctocat owns any file in the /docs directory at the root.
/docs/ @doctocat

# @octocat owns any file in a logs directory anywhere.
**/logs @octocat

# /apps/github has no owners, the rest of /apps/ is owned by @octocat.
/apps/ @octocat
/apps/github

# Either @doctocat or @octocat for anything in /scripts.
/scripts/ @doctocat @octocat
`
	f := codeowners.Parse(".github/CODEOWNERS", []byte(file))
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"README.md":                          "@global-owner1 @global-owner2",
		"src/app.js":                         "@js-owner",
		"main.go":                            "docs@example.com",
		"notes/a.txt":                        "@octo-org/octocats",
		"build/logs/today.log":               "@octocat", // **/logs comes later and wins
		"build/logs.txt":                     "@octo-org/octocats",
		"docs/getting-started.md":            "@doctocat", // /docs/ comes after docs/*
		"docs/build-app/troubleshooting.md":  "@doctocat",
		"src/apps/main.c":                    "@octocat",
		"apps/github/index.js":               "-",
		"apps/other/index.js":                "@octocat",
		"scripts/deploy.sh":                  "@doctocat @octocat",
		"deeply/nested/logs/output.txt":      "@octocat",
		"deeply/nested/not-logs/output.text": "@global-owner1 @global-owner2",
	} {
		if got := ownersOf(f, path); got != want {
			t.Errorf("owners of %q = %q, want %q", path, got, want)
		}
	}
}

func TestHostileFiles(t *testing.T) {
	t.Run("binary data", func(t *testing.T) {
		data := make([]byte, 64<<10)
		x := uint32(1)
		for i := range data {
			x = x*1664525 + 1013904223 // a fixed LCG: the same bytes every run
			data[i] = byte(x >> 24)
		}
		f := codeowners.Parse("CODEOWNERS", data)
		if f.Err() == nil || len(f.Errors) == 0 {
			t.Fatal("binary data parsed without errors")
		}
		for _, e := range f.Errors[:1] {
			if e.Kind != codeowners.KindInvalidText || e.Line != 1 {
				t.Errorf("first error = %v (kind %q), want invalid text on line 1", e, e.Kind)
			}
		}
	})
	t.Run("very long valid line", func(t *testing.T) {
		dir := strings.Repeat("d/", 500_000)
		f := codeowners.Parse("CODEOWNERS", []byte("/"+dir+" @deep\n"))
		if err := f.Err(); err != nil {
			t.Fatal(err)
		}
		if got := ownersOf(f, dir+"x"); got != "@deep" {
			t.Errorf("owners = %q, want @deep", got)
		}
		if got := ownersOf(f, "d/x"); got != "" {
			t.Errorf("owners of d/x = %q, want none", got)
		}
	})
	t.Run("very long invalid line keeps errors short", func(t *testing.T) {
		f := codeowners.Parse("CODEOWNERS", []byte("/x "+strings.Repeat("bad", 1_000_000)))
		if len(f.Errors) != 1 {
			t.Fatalf("got %d errors", len(f.Errors))
		}
		if n := len(f.Errors[0].Error()); n > 400 {
			t.Errorf("error text is %d bytes, want it short", n)
		}
	})
}

// TestConcurrentMatch lets the race detector check that a File is only read
// by Match.
func TestConcurrentMatch(t *testing.T) {
	f := codeowners.Parse("CODEOWNERS", []byte("* @a\n/access/ @b\n**/logs @c\n/svc-*/ @d\n*.yaml @e\n"))
	done := make(chan string)
	for g := range 4 {
		go func() {
			got := ""
			for i := range 200 {
				got = ownersOf(f, fmt.Sprintf("access/t-%d/logs/%d.yaml", g, i))
			}
			done <- got
		}()
	}
	for range 4 {
		if got := <-done; got != "@e" {
			t.Errorf("owners = %q, want @e", got)
		}
	}
}
