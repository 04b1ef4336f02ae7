package validate_test

import (
	"bufio"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"
)

// fastImport writes a history with git fast-import (gittest writes one loose
// object per call, far too slow for 100,000 commits) into a new repository:
// the governing files, then for each of grants grant ids a pull request
// commit adding its file, the merge of that pull request on main, an empty
// activation commit, the expiry (deleting the file of the grant added ten
// grants earlier) and an empty revocation commit: five commits per grant,
// four of them on main's first-parent history. A branch "pr" off main's tip
// adds access/staging/alice-new.yaml by alice.
func fastImport(tb testing.TB, dir string, grants int) {
	tb.Helper()
	run := func(stdin string, args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("git %s: %v\n%s", args[0], err, out)
		}
	}
	run("", "init", "-q", "-b", "main")
	var b strings.Builder
	w := bufio.NewWriter(&b)
	mark := 0
	when := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	commit := func(branch, login, msg string, from, merge int, ops ...string) int {
		mark++
		when += 60
		fmt.Fprintf(w, "commit refs/heads/%s\nmark :%d\nauthor %s <%s@example.com> %d +0000\ncommitter %s <%s@example.com> %d +0000\ndata %d\n%s\n",
			branch, mark, login, login, when, login, login, when, len(msg), msg)
		if from > 0 {
			fmt.Fprintf(w, "from :%d\n", from)
		}
		if merge > 0 {
			fmt.Fprintf(w, "merge :%d\n", merge)
		}
		for _, op := range ops {
			fmt.Fprintln(w, op)
		}
		fmt.Fprintln(w)
		return mark
	}
	inline := func(p, content string) string {
		return fmt.Sprintf("M 100644 inline %s\ndata %d\n%s", p, len(content), content)
	}
	files := tree(nil)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var ops []string
	for _, p := range paths {
		ops = append(ops, inline(p, files[p]))
	}
	main := commit("main", "admin", "governance", 0, 0, ops...)
	file := func(i int) string { return fmt.Sprintf("access/staging/team-%d/user-%d-%d.yaml", i%97, i%1000, i) }
	for i := 0; i < grants; i++ {
		g := strings.Replace(stagingGrant, "requester: bob", fmt.Sprintf("requester: user-%d", i%1000), 1)
		side := commit(fmt.Sprintf("req-%d", i%8), fmt.Sprintf("user-%d", i%1000), "request", main, 0, inline(file(i), g))
		main = commit("main", "jit-bot", fmt.Sprintf("Merge pull request #%d", i+1), main, side, inline(file(i), g))
		main = commit("main", "jit-bot", "activated\n\nJit-Event: activated", main, 0)
		var del []string
		if i >= 10 {
			del = append(del, "D "+file(i-10))
		}
		main = commit("main", "jit-bot", "expire", main, 0, del...)
		main = commit("main", "jit-bot", "revoked\n\nJit-Event: revoked", main, 0)
	}
	commit("pr", "alice", "request", main, 0, inline("access/staging/alice-new.yaml", strings.Replace(stagingGrant, "requester: bob", "requester: alice", 1)))
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	run(b.String(), "fast-import", "--quiet")
	for i := 0; i < 8 && i < grants; i++ {
		run("", "branch", "-D", fmt.Sprintf("req-%d", i))
	}
	run("", "repack", "-adq")
}
