package gitattr_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/gitattr"
	"github.com/jitops/jit/controller/grant"
)

// allowed are lines no governed path can be matched by, in the file named.
var allowed = []struct{ file, line string }{
	{".gitattributes", "docs/*.md diff=markdown"},
	{".gitattributes", "/assets/**/*.png binary"},
	{".gitattributes", "/assets/*.png -diff"},
	{".gitattributes", "/src/**/*.go text eol=lf"},
	{".gitattributes", "/build/*.min.js -diff linguist-generated"},
	{".gitattributes", "assets/[a-z]*.png binary"},
	{".gitattributes", `"/assets/a b.png" binary`},
	{".gitattributes", `"/assets/\141.png" binary`},
	{".gitattributes", "/assets/ export-ignore"}, // a directory that holds no governed file
	{".gitattributes", "/Docs/*.md -diff"},       // *.md cannot be CODEOWNERS, whatever the case
	{".gitattributes", "/vendor/**/*.[ch] -diff"},
	{".gitattributes", "[attr]mybinary -diff -merge -text"}, // a definition gives nothing to a path
	{".gitattributes", "# access/** -diff"},
	{".gitattributes", "   "},
	{".gitattributes", "/docs/*.md\r"}, // git reads a carriage return as a blank
	{"docs/.gitattributes", "*.md diff=markdown"},
	{"docs/.gitattributes", "/guide/*.md linguist-documentation"},
	{"src/.gitattributes", "*.go text eol=lf"},
	{"src/.gitattributes", "/access/*.go -diff"}, // src/access is not governed
}

func TestCheckAllows(t *testing.T) {
	for _, tc := range allowed {
		t.Run(tc.file+" "+tc.line, func(t *testing.T) {
			if got := gitattr.Check(tc.file, []byte(tc.line+"\n")); len(got) > 0 {
				t.Errorf("want no problem, got %v", got)
			}
		})
	}
}

// rejected are lines that could give an attribute to a governed path, or
// that cannot be read with certainty; each names the column and a part of
// the message (the governed path found, or the reason).
var rejected = map[string]struct {
	file string
	line string
	col  int
	msg  string
}{
	"grant files":                        {".gitattributes", "access/** -diff", 1, `pattern "access/**" could apply to access/x, a file under access/, where grant files live`},
	"any png":                            {".gitattributes", "*.png binary", 1, `could apply to access/x.png`},
	"everything":                         {".gitattributes", "* text=auto", 1, `could apply to access/x,`},
	"yaml generated":                     {".gitattributes", "*.yaml linguist-generated", 1, `could apply to access/x.yaml`},
	"assets tree holds a .gitattributes": {".gitattributes", "/assets/** binary", 1, `could apply to assets/.gitattributes, a .gitattributes file`},
	"unanchored CODEOWNERS":              {".gitattributes", "CODEOWNERS -diff", 1, `could apply to access/CODEOWNERS`},
	"root CODEOWNERS":                    {".gitattributes", "/CODEOWNERS -diff", 1, `could apply to CODEOWNERS, the CODEOWNERS file`},
	"docs CODEOWNERS":                    {".gitattributes", "docs/CODEOWNERS eol=crlf", 1, `could apply to docs/CODEOWNERS, the CODEOWNERS file`},
	"docs star":                          {".gitattributes", "docs/* -diff", 1, `could apply to docs/CODEOWNERS`},
	"docs file anchors":                  {"docs/.gitattributes", "/CODEOWNERS filter=x", 1, `could apply to docs/CODEOWNERS`},
	"docs everything":                    {"docs/.gitattributes", "* -diff", 1, `could apply to docs/CODEOWNERS`},
	"docs dir tree":                      {"docs/.gitattributes", "/guide/** -diff", 1, `could apply to docs/guide/.gitattributes`},
	"workflows":                          {".gitattributes", ".github/workflows/*.yml -diff", 1, `could apply to .github/workflows/x.yml, a governing file under .github/`},
	"policies":                           {".gitattributes", "policies/*.hcl working-tree-encoding=UTF-16", 1, `could apply to policies/x.hcl, a policy file`},
	"templates":                          {".gitattributes", "/templates/**/*.tf -diff", 1, `could apply to templates/x.tf, a template file`},
	"gitattributes files":                {".gitattributes", ".gitattributes export-ignore", 1, `could apply to access/.gitattributes`},
	"dot git star":                       {".gitattributes", "/.git* -diff", 1, `could apply to .gitattributes, a .gitattributes file`},
	"bracket reaches access":             {".gitattributes", "/[a-c]ccess/*.yaml -diff", 1, `could apply to access/x.yaml`},
	"class name":                         {".gitattributes", "/access/[[:alpha:]]* -diff", 1, `could apply to access/x`},
	"question marks":                     {".gitattributes", "/??????/x.yaml -diff", 1, `could apply to access/x.yaml`},
	"leading double star":                {".gitattributes", "**/*.md -diff", 1, `could apply to access/x.md`},
	"double star only":                   {".gitattributes", "**/** -diff", 1, `could apply to access/x`},
	"upper case":                         {".gitattributes", "ACCESS/*.yaml -diff", 1, `could apply to access/x.yaml (where git ignores case, as on macOS and Windows)`},
	"unset counts":                       {".gitattributes", "templates/** !diff", 1, `could apply to templates/x`},
	"no attributes count":                {".gitattributes", "access/**", 1, `could apply to access/x`},
	"a lone attribute is a pattern":      {".gitattributes", "-diff", 1, `pattern "-diff" could apply to access/-diff`},
	"directory export-ignore":            {".gitattributes", "/policies export-ignore", 1, `could apply to policies, the directory holding the policies`},
	"directory-only pattern":             {".gitattributes", "access/ export-ignore", 1, `could apply to access, the directory holding the grant files`},
	"any directory":                      {".gitattributes", "**/ export-ignore", 1, `could apply to access, the directory holding the grant files`},
	"docs directory":                     {".gitattributes", "/docs export-ignore", 1, `could apply to docs, the directory holding docs/CODEOWNERS`},
	"glob directory":                     {".gitattributes", "/acc*/ export-ignore", 1, `could apply to access, the directory holding the grant files`},
	"inside access":                      {"access/.gitattributes", "/notes.txt -diff", 1, `could apply to access/notes.txt`},
	"inside access, any depth":           {"access/prod/.gitattributes", "*.yaml -diff", 1, `could apply to access/prod/x.yaml`},
	"case of the directory":              {"Access/.gitattributes", "*.yaml -diff", 1, `could apply to access/x.yaml (where git ignores case`},
	"indented":                           {".gitattributes", "  \taccess/** -diff", 4, `pattern "access/**" could apply`},
	"quoted":                             {".gitattributes", `  "access/**" -diff`, 3, `pattern "access/**" could apply`},
	"quoted octal":                       {".gitattributes", `"\141ccess/**" -diff`, 1, `could apply to access/x`},
	"carriage return blank":              {".gitattributes", "access/**\r-diff", 1, `could apply to access/x`},
	"bracket pseudo macro":               {".gitattributes", "[attr] -diff", 1, `pattern "[attr]" could apply to access/a`},
	"negative":                           {".gitattributes", "!access/** -diff", 1, `negative patterns are forbidden in .gitattributes (git ignores the line); to match a name starting with !, write \!`},
	"lone backslash":                     {".gitattributes", `/assets/a\ binary`, 10, `ends with a lone backslash, which git never matches`},
	"escaped slash":                      {".gitattributes", `/assets\/x binary`, 8, `an escaped slash (\/) is still a directory separator`},
	"empty segment":                      {".gitattributes", "/assets//x binary", 9, `empty path segment (//)`},
	"dot segment":                        {".gitattributes", "/./assets/x binary", 2, `has a . segment, which never matches`},
	"bare slash":                         {".gitattributes", "/ binary", 1, `the pattern / matches nothing`},
	"unclosed bracket":                   {".gitattributes", "/assets/[ab binary", 9, `the bracket expression is not closed with ]`},
	"unknown class":                      {".gitattributes", "/assets/[[:foo:]] binary", 9, `[:foo:] is not a character class git knows`},
	"unterminated quote":                 {".gitattributes", `"access/** -diff`, 1, `cannot read the quoted pattern "\"access/**"`},
	"bad escape in quote":                {".gitattributes", `"a\q" -diff`, 1, `cannot read the quoted pattern`},
	"empty quote":                        {".gitattributes", `"" -diff`, 1, `the quoted pattern is empty`},
	"macro below the top":                {"docs/.gitattributes", "[attr]bin -diff", 1, `macro definitions ([attr]bin) are only allowed in the top-level .gitattributes and git ignores this one; move it to /.gitattributes`},
	"quoted macro below the top":         {"docs/.gitattributes", `"[attr]bin" -diff`, 1, `macro definitions ([attr]bin) are only allowed`},
	"macro name":                         {".gitattributes", "[attr]-bin -diff", 1, `"-bin" is not a valid macro name, so git ignores the line`},
	"control character":                  {".gitattributes", "/assets/a\x01b binary", 10, `control character U+0001; git and reviewers would read this line differently: delete it`},
	"control in a comment":               {".gitattributes", "# \x00", 3, `control character U+0000`},
	"invalid UTF-8":                      {".gitattributes", "/assets/é\xff binary", 10, `the line is not valid UTF-8`},
	"long line":                          {".gitattributes", "/assets/" + strings.Repeat("a", 2040) + " binary", 1, `the line is 2055 bytes; git ignores attribute lines of 2048 bytes or more`},
}

func TestCheckRejects(t *testing.T) {
	for name, tc := range rejected {
		t.Run(name, func(t *testing.T) {
			got := gitattr.Check(tc.file, []byte("# first line\n"+tc.line+"\n"))
			if len(got) != 1 || got[0].File != tc.file || got[0].Line != 2 || got[0].Column != tc.col || !strings.Contains(got[0].Message, tc.msg) {
				t.Errorf("want one problem %s:2:%d containing %q; got %v", tc.file, tc.col, tc.msg, got)
			}
		})
	}
}

// TestCheckMessage shows one message whole: what matched, why it matters and
// what to do.
func TestCheckMessage(t *testing.T) {
	got := gitattr.Check(".gitattributes", []byte("*.png binary\n"))
	want := []grant.Problem{{File: ".gitattributes", Line: 1, Column: 1,
		Message: `pattern "*.png" could apply to access/x.png, a file under access/, where grant files live; ` +
			"no git attribute may apply to grant files or governing files (everything under access/, policies/, templates/ and .github/, " +
			"CODEOWNERS, docs/CODEOWNERS and every .gitattributes), because an attribute can hide a diff from reviewers or change what a checkout shows: " +
			"anchor the pattern to a directory outside them and name the files it is for, for example /assets/**/*.png"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCheckWholeFile(t *testing.T) {
	src := "\uFEFFaccess/** -diff\r\n# fine\r\n/assets/*.png binary\r\n\r\n*.yaml -text\n!x y\n/docs/*.md diff=markdown"
	var got []string
	for _, p := range gitattr.Check(".gitattributes", []byte(src)) {
		got = append(got, fmt.Sprintf("%d:%d", p.Line, p.Column))
	}
	if diff := cmp.Diff([]string{"1:1", "5:1", "6:1"}, got); diff != "" {
		t.Errorf("problem positions (-want +got):\n%s", diff)
	}
	if got := gitattr.Check(".gitattributes", nil); len(got) != 0 {
		t.Errorf("an empty file: %v", got)
	}
}

func TestCheckTooLarge(t *testing.T) {
	got := gitattr.Check(".gitattributes", []byte(strings.Repeat("# x\n", 30000)))
	want := []grant.Problem{{File: ".gitattributes", Line: 1, Column: 1,
		Message: "file is 120000 bytes; a .gitattributes may be at most 102400 bytes (100 KiB): keep only the attributes you need"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
