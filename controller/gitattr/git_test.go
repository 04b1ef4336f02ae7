package gitattr_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jitops/jit/controller/gitattr"
)

// The table cases checked against the real git: every allowed line gives
// no attribute to any governed probe path, and for every rejected line the
// governed path its message names really gets an attribute from git.

// governedProbes are governed files, including ones beside and below the
// .gitattributes files the table uses.
var governedProbes = []string{
	"access/x.yaml", "access/prod/db/alice-inc-1234.yaml", "access/README.md", "access/.gitattributes",
	"access/x.png", "access/x.md", "access/CODEOWNERS", "access/-diff",
	"policies/prod.hcl", "templates/postgres-role/main.tf", "templates/x.png",
	".github/CODEOWNERS", ".github/jit-signers", ".github/workflows/validate.yml",
	"CODEOWNERS", "docs/CODEOWNERS", ".gitattributes", "docs/.gitattributes",
	"assets/.gitattributes", "assets/x/.gitattributes", "src/.gitattributes", "src/access/.gitattributes",
	"docs/guide/.gitattributes",
}

func gitPath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the real git")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git is required under CI=true: %v", err)
		}
		t.Skipf("git not found: %v", err)
	}
	return git
}

// checkAttr writes file with content into a new repository and returns what
// `git check-attr --all` says about paths.
func checkAttr(t *testing.T, git, file, content string, ignoreCase bool, paths ...string) string {
	t.Helper()
	dir := t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return string(out)
	}
	run("init", "-q", ".")
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(file)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	ic := "core.ignorecase=false"
	if ignoreCase {
		ic = "core.ignorecase=true"
	}
	return run(append([]string{"-c", ic, "check-attr", "--all", "--"}, paths...)...)
}

func TestAllowedLinesGiveGitNoAttribute(t *testing.T) {
	git := gitPath(t)
	for _, tc := range allowed {
		for _, ic := range []bool{false, true} {
			if out := checkAttr(t, git, tc.file, tc.line+"\n", ic, governedProbes...); out != "" {
				t.Errorf("%s: %q (core.ignorecase=%v) gives governed paths attributes:\n%s", tc.file, tc.line, ic, out)
			}
		}
	}
}

var witnessPattern = regexp.MustCompile(`could apply to (\S+?)( \(where git ignores case|,)`)

func TestRejectedLinesGiveGitAnAttribute(t *testing.T) {
	git := gitPath(t)
	checked := 0
	for name, tc := range rejected {
		problems := gitattr.Check(tc.file, []byte(tc.line+"\n"))
		if len(problems) != 1 {
			t.Fatalf("%s: want one problem, got %v", name, problems)
		}
		msg := problems[0].Message
		m := witnessPattern.FindStringSubmatch(msg)
		if m == nil || strings.Contains(msg, "the directory holding") {
			continue // not about a governed file: nothing check-attr could show
		}
		if m[2] != "," && strings.ToLower(tc.file) != tc.file {
			continue // git finds Access/.gitattributes for access/ only on a case-insensitive file system
		}
		shown := false // check-attr --all lists set, unset and valued attributes, not !attr
		for _, a := range strings.Fields(tc.line)[1:] {
			shown = shown || !strings.HasPrefix(a, "!")
		}
		if !shown {
			continue
		}
		checked++
		out := checkAttr(t, git, tc.file, tc.line+"\n", m[2] != ",", m[1])
		if !strings.HasPrefix(out, m[1]+": ") {
			t.Errorf("%s: %q in %s: git gives %s no attribute (check-attr: %q)", name, tc.line, tc.file, m[1], out)
		}
	}
	if checked < 30 {
		t.Errorf("only %d rejected cases were checked against git; the table or the witness pattern changed", checked)
	}
}
