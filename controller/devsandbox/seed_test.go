package devsandbox

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/policy"
)

func tarOf(t *testing.T, entries map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		h := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(entries[n])), Typeflag: tar.TypeReg}
		if strings.HasSuffix(n, "/") {
			h.Typeflag, h.Size, h.Mode = tar.TypeDir, 0, 0o755
		}
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(entries[n])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestUntar: the seed's archive is unpacked under its directory only; a
// name leaving it is refused, naming the entry, and nothing is written
// outside.
func TestUntar(t *testing.T) {
	for name, tc := range map[string]struct {
		entries map[string]string
		want    []string // files written, relative
		err     string
	}{
		"tree":     {entries: map[string]string{"access/": "", "access/README.md": "hi", "policies/p.hcl": "x"}, want: []string{"access/README.md", "policies/p.hcl"}},
		"dotdot":   {entries: map[string]string{"../evil": "x"}, err: `archive entry "../evil" leaves the directory`},
		"absolute": {entries: map[string]string{"/etc/evil": "x"}, err: `archive entry "/etc/evil" leaves the directory`},
		"inner":    {entries: map[string]string{"a/../../evil": "x"}, err: `archive entry "a/../../evil" leaves the directory`},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "content")
			err := untar(bytes.NewReader(tarOf(t, tc.entries)), dir)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("untar: %v, want %q", err, tc.err)
				}
				if _, err := os.Stat(filepath.Join(root, "evil")); err == nil {
					t.Error("a file was written outside the directory")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					got = append(got, filepath.ToSlash(rel))
				}
				return err
			})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSandboxPolicy: the seeded policy parses with jit's policy parser;
// with a cluster its grants use the controller's environment (no target),
// without one they are bound to a target configured nowhere, so that they
// are never applied to a server the user's PG* variables might name.
func TestSandboxPolicy(t *testing.T) {
	for name, tc := range map[string]struct {
		postgres bool
		targets  []string
	}{
		"with PostgreSQL":    {true, nil},
		"without PostgreSQL": {false, []string{Target}},
	} {
		t.Run(name, func(t *testing.T) {
			ps, problems := policy.Parse(SandboxPolicyFile, []byte(sandboxPolicy(tc.postgres)))
			if len(problems) > 0 || len(ps) != 1 {
				t.Fatalf("policies %+v, problems %v", ps, problems)
			}
			p := ps[0]
			if diff := cmp.Diff([]string{"access/sandbox/**"}, p.Paths); diff != "" {
				t.Errorf("paths (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.targets, p.Targets); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadInfo: a missing or broken sandbox description says what to do.
func TestReadInfo(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadInfo(dir); err == nil || !strings.HasSuffix(err.Error(), "is jit dev running with --data "+dir+"?") {
		t.Errorf("missing: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, InfoFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadInfo(dir); err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, InfoFile)+": ") || !strings.HasSuffix(err.Error(), "; restart jit dev") {
		t.Errorf("broken: %v", err)
	}
	want := Info{DataDir: dir, APIURL: "http://x/api/v3/", Users: []User{{Login: "bob", Team: "dba", Token: "t"}}}
	if err := WriteInfo(want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if u, ok := got.User("BOB"); !ok || u.Token != "t" {
		t.Errorf("User(BOB) = %+v, %v", u, ok)
	}
	fi, err := os.Stat(filepath.Join(dir, InfoFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, mode %v; it holds tokens, want 0600", InfoFile, err, fi.Mode())
	}
}

// TestDevSeedSchemaModelines: the seeded tree holds grant.schema.json as
// committed at HEAD, and every yaml-language-server $schema modeline of a
// seeded grant points at a seeded file.
func TestDevSeedSchemaModelines(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "content")
	if err := seedContent(ctx, ".", dir, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItest jit-dev", true); err != nil {
		t.Fatal(err)
	}
	head, err := exec.Command("git", "show", "HEAD:grant.schema.json").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "grant.schema.json")); err != nil || !bytes.Equal(got, head) {
		t.Fatalf("the seeded grant.schema.json is not HEAD's (%v)", err)
	}
	const modeline = "# yaml-language-server: $schema="
	modelines := 0
	err = filepath.WalkDir(filepath.Join(dir, "access"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			ref, ok := strings.CutPrefix(line, modeline)
			if !ok {
				continue
			}
			modelines++
			if _, err := os.Stat(filepath.Join(filepath.Dir(p), filepath.FromSlash(ref))); err != nil {
				rel, _ := filepath.Rel(dir, p)
				t.Errorf("%s: its modeline's schema %s is not in the seeded tree (%v)", rel, ref, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if modelines == 0 {
		t.Error("no seeded grant has a $schema modeline; the test checks nothing")
	}
}
