package mirror

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/jitops/jit/controller/history"
)

// benchMirror is a mirror holding n commits on main, each adding one grant
// file under access/, written with git fast-import (one pack, as a fetch
// leaves it).
func benchMirror(b *testing.B, n int) *Mirror {
	b.Helper()
	requireGit(b)
	m, err := Open(context.Background(), Config{
		Dir: filepath.Join(b.TempDir(), "mirror"), URL: "https://127.0.0.1/acme/access.git",
		Token: func(context.Context) (string, error) { return "unused", nil },
	})
	if err != nil {
		b.Fatal(err)
	}
	var stream bytes.Buffer
	for i := range n {
		msg := fmt.Sprintf("grant %d", i)
		body := fmt.Sprintf("role: reader\nreason: benchmark %d\n", i)
		fmt.Fprintf(&stream, "commit refs/heads/main\nmark :%d\ncommitter Alice <alice@example.com> %d +0000\ndata %d\n%s\n", i+1, 1700000000+i, len(msg), msg)
		if i > 0 {
			fmt.Fprintf(&stream, "from :%d\n", i)
		}
		fmt.Fprintf(&stream, "M 100644 inline access/team%d/grant-%d.yaml\ndata %d\n%s\n", i%20, i, len(body), body)
	}
	cmd := exec.Command(m.git, "fast-import", "--quiet")
	cmd.Env = gitEnv(m.gitDir)
	cmd.Stdin = &stream
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git fast-import: %v\n%s", err, out)
	}
	return m
}

// BenchmarkHistoryOpenClose measures history.Open + Close on a mirror of
// 1,000 commits: the cost of opening the mirror once per evaluation.
func BenchmarkHistoryOpenClose(b *testing.B) {
	m := benchMirror(b, 1000)
	for b.Loop() {
		r, err := history.Open(m.Dir())
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadResolve is one Read resolving main and reading its tree's
// file list: an evaluation's open plus a first look.
func BenchmarkReadResolve(b *testing.B) {
	m := benchMirror(b, 1000)
	ctx := context.Background()
	for b.Loop() {
		err := m.Read(ctx, func(r *history.Repo) error {
			sha, err := r.Resolve("refs/heads/main")
			if err != nil {
				return err
			}
			_, err = r.CommitInfo(sha)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
