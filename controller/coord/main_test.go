package coord

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/internal/pgtest"
)

// childEnv selects what the test binary does when a test starts it as a
// child process: "local" opens DIR's local Coordinator, "lead" takes the
// lease "expiry-timer" on a PostgreSQL Coordinator. The child prints one line
// saying what happened, then holds on until its stdin closes or it is killed.
const childEnv = "JIT_COORD_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		pgtest.Main(m)
	case "local":
		c, err := OpenLocal(os.Getenv("JIT_COORD_TEST_DIR"))
		holdOn(err, "held")
		c.Close()
	case "lead":
		ctx := context.Background()
		c, err := OpenPostgres(ctx, os.Getenv("JIT_COORD_TEST_CONN"), os.Getenv("JIT_COORD_TEST_SCHEMA"), nil)
		if err == nil {
			var ok bool
			_, ok, err = c.TryLead(ctx, "expiry-timer")
			if err == nil && !ok {
				err = fmt.Errorf("not leading")
			}
		}
		holdOn(err, "leading")
	}
	os.Exit(0)
}

// holdOn reports err, or says ok and waits for stdin to close.
func holdOn(err error, ok string) {
	if err != nil {
		fmt.Printf("refused: %v\n", err)
		os.Exit(3)
	}
	fmt.Println(ok)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// child is a running child process of the test binary.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	line  string // the first line it printed
}

// startChild starts the test binary as a child in mode with env, and waits
// for the first line it prints. The child is killed when t ends.
func startChild(t *testing.T, mode string, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+mode), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := &child{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { ch.kill(t) })
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- strings.TrimSuffix(line, "\n")
	}()
	select {
	case ch.line = <-lines:
	case <-time.After(30 * time.Second):
		t.Fatalf("child %s printed nothing in 30 s", mode)
	}
	return ch
}

// kill kills the child at once (SIGKILL: no deferred cleanup runs, as when a
// controller is killed) and waits for it. Killing it again does nothing.
func (ch *child) kill(t *testing.T) {
	t.Helper()
	if ch.cmd.ProcessState != nil {
		return
	}
	_ = ch.cmd.Process.Kill()
	_ = ch.cmd.Wait()
	ch.stdin.Close()
}
