package codeowners_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/jitops/jit/controller/codeowners"
)

// A caller reads the file GitHub would use, parses it, fails closed on any
// error and otherwise asks for the owners of each changed file.
func Example() {
	files := map[string]string{
		".github/CODEOWNERS": "/access/prod/ @acme/dba\n/access/staging/ @acme/dba @acme/developers\n",
		"CODEOWNERS":         "* @ignored-because-.github-wins\n",
	}
	read := func(p string) ([]byte, bool, error) {
		s, ok := files[p]
		return []byte(s), ok, nil
	}
	path, data, found, err := codeowners.Find(read)
	if err != nil || !found {
		fmt.Println("no CODEOWNERS:", err)
		return
	}
	f := codeowners.Parse(path, data)
	if err := f.Err(); err != nil {
		fmt.Println("CODEOWNERS has errors, nobody is eligible:", err)
		return
	}
	for _, p := range []string{"access/prod/db/alice-inc-1.yaml", "access/staging/bob.yaml", "README.md"} {
		r, ok := f.Match(p)
		fmt.Println(p, f.Owners(p), ok, r.Line)
	}
	// Output:
	// access/prod/db/alice-inc-1.yaml [@acme/dba] true 1
	// access/staging/bob.yaml [@acme/dba @acme/developers] true 2
	// README.md [] false 0
}

// A file with a bad line still applies its other lines, as GitHub does, but
// Err reports the line so that the caller can refuse to decide.
func ExampleFile_Err() {
	f := codeowners.Parse(".github/CODEOWNERS", []byte("/access/ @acme/dba\n/access/prod/ dba-team\n"))
	fmt.Println(f.Owners("access/prod/x.yaml"))
	fmt.Println(f.Err())
	// Output:
	// [@acme/dba]
	// .github/CODEOWNERS:2:15: invalid owner "dba-team": owners are @username, @org/team-name or an email address, so GitHub skips this line; did you mean @dba-team?
}

// Find works with any tree: here a checked-out directory.
func ExampleFind() {
	dir, _ := os.MkdirTemp("", "codeowners-example")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "docs"), 0o755)
	os.WriteFile(filepath.Join(dir, "docs", "CODEOWNERS"), []byte("* @docs\n"), 0o644)
	path, _, found, err := codeowners.Find(func(p string) ([]byte, bool, error) {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if os.IsNotExist(err) {
			return nil, false, nil
		}
		return data, err == nil, err
	})
	fmt.Println(path, found, err)
	// Output:
	// docs/CODEOWNERS true <nil>
}
