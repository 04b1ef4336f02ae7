package repodocs

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository root, two directories above this package.
const root = "../../.."

// walk calls f with the slash path (relative to root) and content of every
// file in the repository that git would ship, skipping git's own directory,
// build outputs and local working directories.
func walk(t *testing.T, f func(path string, content []byte)) {
	t.Helper()
	skip := map[string]bool{".git": true, "bin": true, ".jit": true, ".terraform": true, "node_modules": true}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skip[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		f(filepath.ToSlash(rel), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadmeGoVersionIsGoMods(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	sc := bufio.NewScanner(strings.NewReader(string(mod)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go "); ok {
			want = strings.TrimSpace(v)
		}
	}
	if want == "" {
		t.Fatal("go.mod has no go line")
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	mentions := regexp.MustCompile(`\bGo (1\.[0-9]+(?:\.[0-9]+)?)\b`).FindAllStringSubmatch(string(readme), -1)
	if len(mentions) == 0 {
		t.Fatalf("README.md names no Go version; it should say Go %s (go.mod's go line)", want)
	}
	for _, m := range mentions {
		if m[1] != want {
			t.Errorf("README.md says Go %s, go.mod's go line says %s: make them agree", m[1], want)
		}
	}
}

// unshipped are references to material that users of the repository do not
// have (the team's own design notes and reference drop).
var unshipped = regexp.MustCompile(`DESIGN\.md|\.\./shared/|\bshared/github\b|STYLE\.md`)

func TestNothingPointsOutsideTheRepository(t *testing.T) {
	walk(t, func(path string, content []byte) {
		if strings.HasSuffix(path, "repodocs_test.go") {
			return
		}
		for i, line := range strings.Split(string(content), "\n") {
			if m := unshipped.FindString(line); m != "" {
				t.Errorf("%s:%d: refers to %q, which users of this repository do not have; say it here or in docs/", path, i+1, m)
			}
		}
	})
}

// mdLink matches a Markdown inline link's target.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

func TestMarkdownLinksResolve(t *testing.T) {
	checked := 0
	walk(t, func(path string, content []byte) {
		if !strings.HasSuffix(path, ".md") || strings.Contains(path, "/testdata/") {
			return
		}
		inFence := false
		for i, line := range strings.Split(string(content), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				inFence = !inFence
			}
			if inFence {
				continue
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				target, _, _ = strings.Cut(target, "#")
				p := filepath.Join(root, filepath.FromSlash(filepath.Dir(path)), filepath.FromSlash(target))
				if _, err := os.Stat(p); err != nil {
					t.Errorf("%s:%d: link to %q: no such file in the repository", path, i+1, m[1])
				}
				checked++
			}
		}
	})
	if checked == 0 {
		t.Fatal("no relative links found: the walk is broken")
	}
}
