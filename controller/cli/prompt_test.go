package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession is a command running in a detached tmux session on a private
// server, read with capture-pane and driven with send-keys.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T, env []string, command string) *tmuxSession {
	t.Helper()
	requireTool(t, "tmux")
	s := &tmuxSession{t: t, socket: fmt.Sprintf("jit-test-%d", time.Now().UnixNano())}
	args := []string{"-L", s.socket, "-f", "/dev/null", "new-session", "-d", "-s", "jit", "-x", "200", "-y", "60"}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	// The tmux server outlives the client and inherits its output, so
	// capturing the output would wait for the server to exit.
	errFile := filepath.Join(t.TempDir(), "tmux.err")
	ef, err := os.Create(errFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("tmux", append(args, command)...)
	cmd.Stderr = ef
	err = cmd.Run()
	ef.Close()
	if err != nil {
		msg, _ := os.ReadFile(errFile)
		t.Fatalf("tmux new-session: %v\n%s", err, msg)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

// screen returns the pane's text, wrapped lines joined.
func (s *tmuxSession) screen() string {
	out, err := exec.Command("tmux", "-L", s.socket, "capture-pane", "-p", "-J", "-S", "-200", "-t", "jit").CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux capture-pane: %v\n%s", err, out)
	}
	return string(out)
}

// waitFor waits until the screen shows text and returns the screen.
func (s *tmuxSession) waitFor(text string) string {
	s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		sc := s.screen()
		if strings.Contains(sc, text) {
			return sc
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen never showed %q:\n%s", text, sc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// answer waits for prompt and types line and Enter.
func (s *tmuxSession) answer(prompt, line string) {
	s.t.Helper()
	s.waitFor(prompt)
	args := []string{"-L", s.socket, "send-keys", "-t", "jit"}
	if line != "" {
		args = append(args, "-l", line)
		if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
			s.t.Fatalf("tmux send-keys: %v\n%s", err, out)
		}
		args = args[:len(args)-2]
	}
	if out, err := exec.Command("tmux", append(args, "Enter")...).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
}

// terminalFixture builds the jit binary, for a test driving it in tmux,
// and then makes the user fixture. It skips with -short.
func terminalFixture(t *testing.T) (string, *userFixture) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds jit and drives it in tmux")
	}
	requireTool(t, "tmux")
	// Built before the fixture points HOME elsewhere, so that go build
	// uses the usual build cache.
	bin := filepath.Join(t.TempDir(), "jit")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/jitops/jit/cmd/jit").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin, newUserFixture(t)
}

// terminalEnv is the environment of jit run as alice in tmux.
func (f *userFixture) terminalEnv() []string {
	return []string{"GITHUB_TOKEN=" + f.srv.Token("alice"), "JIT_GITHUB_URL=" + f.srv.APIURL, "HOME=" + os.Getenv("HOME"),
		"GIT_CONFIG_NOSYSTEM=1", "GH_TOKEN=", "JIT_GITHUB_REPO="}
}

// TestRequestInteractive runs the jit binary in a terminal (tmux) with no
// flags but --repo, answers its questions as a person would, and checks
// the pull request that results.
func TestRequestInteractive(t *testing.T) {
	bin, f := terminalFixture(t)
	s := newTmux(t, f.terminalEnv(), bin+" request --repo "+f.clone+"; echo \"jit exited $?\"; sleep 600")

	sc := s.waitFor("Template [postgres-role]: ")
	if !strings.Contains(sc, "1) postgres-role") {
		t.Errorf("templates not listed:\n%s", sc)
	}
	s.answer("Template [postgres-role]: ", "1")
	sc = s.waitFor("connection_limit (number) [3]: ")
	if !strings.Contains(sc, "Template postgres-role takes these inputs") {
		t.Errorf("inputs not introduced:\n%s", sc)
	}
	s.answer("connection_limit (number) [3]: ", "")
	s.answer("  database (string): ", "")
	s.answer("database is required", "orders")
	s.answer("privileges (string) [read]: ", "write")
	s.answer("Duration [1h]: ", "90m")
	s.answer("Reason: ", "Rehearse: the migration # tonight")
	s.answer("Ticket (empty for none): ", "INC-7")
	s.answer("Grant file [access/prod/alice-inc-7.yaml]: ", "access/prod/orders/alice-inc-7.yaml")
	sc = s.waitFor("jit exited ")
	if !strings.Contains(sc, "jit exited 0") {
		t.Fatalf("jit request failed:\n%s", sc)
	}

	pr := f.pull(t, "jit/request/prod/orders/alice-inc-7")
	if pr.Author != "alice" || pr.Title != "jit: alice requests postgres-role on database=orders, privileges=write for 90m" {
		t.Errorf("pull request %+v", pr)
	}
	if !strings.Contains(sc, fmt.Sprintf("opened %s/acme/access/pull/%d", f.srv.URL, pr.Number)) || !strings.Contains(sc, "needs 1 approval") {
		t.Errorf("screen lacks the pull request and its approvers:\n%s", sc)
	}
	got, _ := f.branchFile(t, pr.HeadRef, "access/prod/orders/alice-inc-7.yaml")
	const want = `template: postgres-role
requester: alice
duration: 90m
reason: "Rehearse: the migration # tonight"
ticket: INC-7
scope:
  database: orders
  privileges: write
`
	if got != want {
		t.Errorf("grant file:\n%s\nwant:\n%s", got, want)
	}
}
