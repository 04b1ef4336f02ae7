package request_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jitops/jit/controller/request"
)

const okGrant = "template: postgres-role\nrequester: alice\nduration: 1h\nreason: r\n"

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"access/prod/b.yaml":       {Data: []byte(okGrant)},
		"access/prod/a.yaml":       {Data: []byte(okGrant)},
		"access/README.md":         {Data: []byte("# grants\n")},
		"access/staging/.gitkeep":  {},
		"access/staging/bad.yml":   {Data: []byte(okGrant)},
		"access/staging/c.yaml":    {Data: []byte("template: [\n")},
		"access/prod/big.yaml":     {Data: []byte(strings.Repeat("#", 10<<20))},
		"access/prod/binary.yaml":  {Data: []byte{0x7f, 'E', 'L', 'F', 0, 1, 2}},
		"policies/ignored.yaml":    {Data: []byte("not a grant")},
		"access/prod/notes.txt":    {Data: []byte("hi")},
		"access/.hidden/x.yaml":    {Data: []byte(okGrant)},
		"access/with space/x.yaml": {Data: []byte(okGrant)},
	}
	reqs, problems := request.Load(fsys)
	var ids []string
	for _, r := range reqs {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "prod/a,prod/b" {
		t.Errorf("loaded ids = %v, want [prod/a prod/b]", ids)
	}
	wantProblems := map[string]string{
		"access/staging/bad.yml":  "end in .yaml, not .yml",
		"access/staging/c.yaml":   "invalid YAML",
		"access/prod/big.yaml":    "grant files may be at most 65536 bytes",
		"access/prod/binary.yaml": "control character U+007F",
		"access/prod/notes.txt":   "grant files end in .yaml",
		"access/.hidden":          "may not start with '.'",
		"access/with space":       "contain spaces",
	}
	for file, msg := range wantProblems {
		found := false
		for _, p := range problems {
			found = found || (p.File == file && strings.Contains(p.Message, msg))
		}
		if !found {
			t.Errorf("want a problem for %s containing %q; got %v", file, msg, problems)
		}
	}
	if len(problems) != len(wantProblems) {
		t.Errorf("got %d problems, want %d: %v", len(problems), len(wantProblems), problems)
	}
}

func TestLoadRejectsSymlinks(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "access", "prod"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret.yaml"), []byte(okGrant), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "secret.yaml"), filepath.Join(dir, "access", "prod", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "access", "prod"), filepath.Join(dir, "access", "dirlink")); err != nil {
		t.Fatal(err)
	}
	reqs, problems := request.Load(os.DirFS(dir))
	if len(reqs) != 0 {
		t.Errorf("a symlinked grant was loaded: %+v", reqs)
	}
	if len(problems) != 2 {
		t.Fatalf("want 2 problems (file and directory links), got %v", problems)
	}
	for _, p := range problems {
		if !strings.Contains(p.Message, "symbolic links are not allowed") || p.Line != 1 {
			t.Errorf("unexpected problem %v", p)
		}
	}
}

func TestLoadWithoutAccessDir(t *testing.T) {
	reqs, problems := request.Load(fstest.MapFS{"README.md": {}})
	if len(reqs) != 0 || len(problems) != 0 {
		t.Errorf("Load of a tree without access/ = %v, %v; want nothing", reqs, problems)
	}
}
