package desired_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/trailer"
)

// auditorScript is the shell procedure the README gives auditors to verify
// one commit by hand, with its first line (C=<merge commit>) left out: the
// test sets C in the environment.
func auditorScript(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "### Verifying one commit by hand")
	if ok {
		_, rest, ok = strings.Cut(rest, "```sh\n")
	}
	script, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 || !strings.HasPrefix(script, "C=") {
		t.Fatal("README.md has no sh block starting with C= under \"Verifying one commit by hand\"")
	}
	_, script, _ = strings.Cut(script, "\n")
	return script
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("CI=true but %s is missing: %v", tool, err)
			}
			t.Skipf("skipping: %s is missing", tool)
		}
	}
}

// TestAuditorCanVerifyByHand runs the README's procedure with the real git
// and ssh-keygen on a merge the App would write: it must accept it, and
// reject the same merge with one trailer changed.
func TestAuditorCanVerifyByHand(t *testing.T) {
	needTools(t, "bash", "git", "ssh-keygen", "awk", "fold")
	script := auditorScript(t)
	f := newFixture(t)
	at := t0.Add(time.Hour)
	head := f.request("pr", at, map[string]string{grantFile: grantYAML})
	good := f.key.Merge(t, f.g, "main", at, head, decision(at))
	forged := strings.Replace(f.key.Message(t, withHead(decision(at), head.String())), "Jit-Duration: 2h", "Jit-Duration: 4h", 1)
	bad := f.g.Commit("forged", "mallory", forged, at, nil, f.g.Head("main"), head)

	run := func(commit string) (string, error) {
		cmd := exec.Command("bash", "-eu", "-o", "pipefail", "-c", script)
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "C="+commit, "GIT_DIR="+f.g.Dir+"/.git")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(good.String()); err != nil || !strings.Contains(out, `Good "jit" signature`) {
		t.Errorf("the README procedure rejects a genuine decision: %v\n%s", err, out)
	}
	if out, err := run(bad.String()); err == nil {
		t.Errorf("the README procedure accepts a changed trailer:\n%s", out)
	}
}

func withHead(d trailer.Decision, head string) trailer.Decision {
	d.Head = head
	return d
}
