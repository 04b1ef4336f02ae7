package validate_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/gittest"
	"github.com/jitops/jit/controller/validate"
)

// benchTree returns governing files with a CODEOWNERS of `rules` lines and
// `policies` policies (plus a catch-all), and `grants` grant files spread
// over the owned directories.
func benchTree(rules, policies, grants int) (base, added map[string]string) {
	base = tree(nil)
	var co strings.Builder
	co.WriteString("# generated\n*.md @acme/docs\n")
	for i := 0; i < rules-2; i++ {
		switch i % 10 {
		case 9:
			fmt.Fprintf(&co, "/access/team-%d/**/*.yaml @acme/team-%d @acme/leads\n", i, i)
		default:
			fmt.Fprintf(&co, "/access/team-%d/ @acme/team-%d\n", i, i)
		}
	}
	base[".github/CODEOWNERS"] = co.String()
	base["policies/base.hcl"] = "policy \"base\" {\n  paths = [\"access/**\"]\n  templates = [\"pg\"]\n  max_duration = \"24h\"\n  approvals = 1\n}\n"
	for k := 0; k < policies-1; k++ {
		base[fmt.Sprintf("policies/p%02d.hcl", k)] = fmt.Sprintf("policy \"p%02d\" {\n  paths = [\"access/team-%d*/**\", \"access/team-*%d/db/**\"]\n  templates = [\"pg\"]\n  max_duration = \"%dh\"\n  approvals = %d\n}\n",
			k, k, k, 8+k%8, 1+k%3)
	}
	added = map[string]string{}
	for i := 0; i < grants; i++ {
		team := (i * 7) % (rules - 2)
		added[fmt.Sprintf("access/team-%d/db/user-%d.yaml", team, i)] = fmt.Sprintf(
			"template: pg\nrequester: alice\nduration: 2h\nreason: benchmark grant %d\nscope:\n  database: db_%d\n  privileges: read\n", i, i%50)
	}
	return base, added
}

// BenchmarkValidateChange measures `jit validate --base --head` on a pull
// request adding 1,000 grant files, judged by a 5,000-line CODEOWNERS and 50
// policies (the budget is 200 ms and 100 MB on one core).
func BenchmarkValidateChange(b *testing.B) {
	base, added := benchTree(5000, 50, 1000)
	g := gittest.New(b)
	g.Commit("main", "admin", "governance", gittest.Start, base)
	for i := 0; i < 20; i++ { // some history to walk
		g.Commit("main", "jit[bot]", "history", gittest.Start.Add(time.Duration(i+1)*time.Minute), map[string]string{fmt.Sprintf("access/old/g-%d.yaml", i): "x"})
	}
	g.Commit("pr", "alice", "bulk", gittest.Start.Add(time.Hour), added, g.Head("main"))
	// Pack the objects as a clone would have them (gittest writes loose
	// objects, one file each).
	if out, err := exec.Command("git", "-C", g.Dir, "repack", "-adq").CombinedOutput(); err != nil {
		b.Fatalf("git repack: %v\n%s", err, out)
	}
	h, err := history.Open(g.Dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := validate.Change(ctx, validate.ChangeInput{Repo: h, Base: "main", Head: "pr", DefaultBranch: "main", BaseRef: "main", Author: "alice"})
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Grants) != 1000 {
			b.Fatalf("validated %d grants, want 1000", len(r.Grants))
		}
		if !r.Valid {
			b.Fatalf("bench change is invalid: %v", r.Problems[:min(3, len(r.Problems))])
		}
	}
}

// BenchmarkValidateTree measures linting a working tree of 1,000 grants.
func BenchmarkValidateTree(b *testing.B) {
	base, added := benchTree(5000, 50, 1000)
	for k, v := range added {
		base[k] = v
	}
	// A real directory: fstest.MapFS synthesises directories by scanning
	// every key, which would dominate the measurement.
	dir := b.TempDir()
	for p, content := range base {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	fsys := os.DirFS(dir)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := validate.Tree(fsys)
		if !r.Valid || len(r.Grants) != 1000 {
			b.Fatalf("valid=%v grants=%d %v", r.Valid, len(r.Grants), r.Problems[:min(3, len(r.Problems))])
		}
	}
}

// BenchmarkValidateProcess measures the whole `jit validate --base main
// --head pr --author alice` process, a pull request adding one grant, on a
// 20-commit history and on a 100,000-commit history where 20,000 grant ids
// once existed: cold (no ever-existed index under .git/jit) and warm (the
// index covers main's tip). It builds the jit binary once.
//
//	go test -run '^$' -bench ValidateProcess -benchtime 10x ./controller/validate/
func BenchmarkValidateProcess(b *testing.B) {
	if testing.Short() {
		b.Skip("builds jit and a 100,000-commit repository")
	}
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("CI=true but git is not installed: %v", err)
		}
		b.Skip("git not installed")
	}
	bin := filepath.Join(b.TempDir(), "jit")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/jit").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for _, size := range []struct {
		name   string
		grants int
	}{{"commits=20", 4}, {"commits=100000", 20000}} {
		dir := b.TempDir()
		fastImport(b, dir, size.grants)
		index := filepath.Join(dir, ".git", "jit")
		validate := func(b *testing.B) {
			cmd := exec.Command(bin, "validate", "--repo", dir, "--base", "main", "--head", "pr", "--author", "alice")
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("jit validate: %v\n%s", err, out)
			}
		}
		for _, warm := range []bool{false, true} {
			name := size.name + "/cold"
			if warm {
				name = size.name + "/warm"
			}
			b.Run(name, func(b *testing.B) {
				if warm {
					validate(b)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if !warm {
						b.StopTimer()
						if err := os.RemoveAll(index); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					validate(b)
				}
				b.StopTimer()
				files, _ := filepath.Glob(filepath.Join(index, "ever-*.idx"))
				if len(files) != 1 {
					b.Fatalf("index files %v, want one", files)
				}
				info, err := os.Stat(files[0])
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(info.Size()), "index-bytes")
			})
		}
	}
}
