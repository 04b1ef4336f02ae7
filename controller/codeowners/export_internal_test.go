package codeowners

// Test-only exports and the benchmark that needs the package's internals.

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// GenCodeowners generates a CODEOWNERS file of n rules shaped like a large
// access repository's: mostly anchored team directories, with globs,
// any-depth names, **/ patterns and a few rules no index can narrow.
func GenCodeowners(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("# generated for benchmarks\n* @acme/platform\n*.yaml @acme/yaml-reviewers\n**/logs @acme/logs\n")
	for i := 0; i < n-3; i++ {
		team := r.IntN(n/4 + 1)
		switch k := i % 50; {
		case k < 30:
			fmt.Fprintf(&b, "/access/team-%d/ @acme/team-%d @lead-%d\n", team, team, team)
		case k < 38:
			fmt.Fprintf(&b, "/access/team-%d/db/ @acme/dba-%d\n", team, team)
		case k < 40:
			fmt.Fprintf(&b, "/access/team-%d/db/user-%d.yaml\n", team, r.IntN(20)) // un-own one grant
		case k < 43:
			fmt.Fprintf(&b, "*.ext%d @acme/ext-%d\n", i%97, i%97)
		case k < 45:
			fmt.Fprintf(&b, "**/logs-%d @acme/logs\n", team)
		case k < 47:
			fmt.Fprintf(&b, "build-%d/ @acme/build\n", team)
		case k < 48:
			fmt.Fprintf(&b, "/docs/section-%d/* @acme/docs\n", team)
		case k < 49:
			fmt.Fprintf(&b, "/services/*/team-%d/ @acme/svc-%d\n", team, team)
		default:
			fmt.Fprintf(&b, "/svc-%d-*/ @acme/svc\n", team)
		}
	}
	return []byte(b.String())
}

// GenPaths generates n grant paths like access/team-N/db/user-k.yaml, with
// some other repository files mixed in.
func GenPaths(n, teams int) []string {
	r := rand.New(rand.NewPCG(3, 4))
	paths := make([]string, n)
	for i := range paths {
		t := r.IntN(teams/4 + 1)
		switch i % 10 {
		case 8:
			paths[i] = fmt.Sprintf("services/api/team-%d/main.go", t)
		case 9:
			paths[i] = fmt.Sprintf("docs/section-%d/guide.md", t)
		default:
			paths[i] = fmt.Sprintf("access/team-%d/db/user-%d.yaml", t, r.IntN(20))
		}
	}
	return paths
}

// BenchmarkMatchFullScan is the baseline the index is measured against: the
// same compiled matcher, but every rule tested from the last line up, with no
// index. One op is 1,000 paths against 5,000 rules.
func BenchmarkMatchFullScan(b *testing.B) {
	f := Parse(".github/CODEOWNERS", GenCodeowners(5000))
	paths := GenPaths(1000, 5000)
	full := func(path string) int {
		var buf [32]string
		segs := splitPath(strings.TrimPrefix(path, "/"), buf[:0])
		for i := len(f.Rules) - 1; i >= 0; i-- {
			if f.pats[i].match(segs) {
				return i
			}
		}
		return -1
	}
	for _, p := range paths {
		if got, want := full(p), f.idx.match(f.pats, p); got != want {
			b.Fatalf("%s: full scan picks rule %d, index picks %d", p, got, want)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range paths {
			full(p)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(paths)), "ns/path")
}
