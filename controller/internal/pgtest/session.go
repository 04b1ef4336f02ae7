package pgtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/jitops/jit/controller/internal/syncbuf"
)

// endMarker follows each query's output so Query knows where it ends.
const endMarker = "--pgtest-end-of-output--"

// Session is a long-lived psql connection as one user, for tests that need a
// session open while something else happens (for example a role being
// dropped, which must terminate it).
type Session struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Reader
	stderr *syncbuf.Buffer
	cancel context.CancelFunc
	mu     sync.Mutex
	dead   error
}

// OpenSession logs in as user with password to db over TCP (so the password
// is checked), and proves the session works with SELECT 1. It fails t when the
// login fails. The session is closed when t ends.
func (c *Cluster) OpenSession(t testing.TB, db, user, password string) *Session {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := c.psqlCommand(ctx, db, user, "PGPASSWORD="+password)
	s := &Session{cmd: cmd, cancel: cancel, stderr: &syncbuf.Buffer{}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatalf("pgtest: session pipe: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatalf("pgtest: session pipe: %v", err)
	}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("pgtest: starting psql: %v", err)
	}
	s.stdin, s.out = stdin, bufio.NewReader(stdout)
	t.Cleanup(s.Close)
	if out, err := s.Query("SELECT 1;"); err != nil || out != "1" {
		t.Fatalf("pgtest: opening a session on %s as %q: output %q, %v", db, user, out, err)
	}
	return s
}

// Query sends sql on the session and returns its output (unaligned, tuples
// only, without the final newline). It returns an error when the session has
// ended, for example because its backend was terminated; the error carries
// psql's message. After an error every later Query fails too.
func (s *Session) Query(sql string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead != nil {
		return "", s.dead
	}
	if _, err := fmt.Fprintf(s.stdin, "%s\n\\echo %s\n", sql, endMarker); err != nil {
		return "", s.fail(err)
	}
	var lines []string
	for {
		line, err := s.out.ReadString('\n')
		if err != nil {
			return "", s.fail(err)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == endMarker {
			return strings.Join(lines, "\n"), nil
		}
		lines = append(lines, line)
	}
}

// fail records that the session has ended, waiting for psql to exit so its
// message is complete.
func (s *Session) fail(err error) error {
	_ = s.stdin.Close()
	waitErr := s.cmd.Wait()
	if waitErr == nil {
		waitErr = err
	}
	s.dead = fmt.Errorf("session ended: %w: %s", waitErr, strings.TrimSpace(s.stderr.String()))
	return s.dead
}

// Close ends the session; it is safe to call more than once.
func (s *Session) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead == nil {
		_ = s.stdin.Close()
		_ = s.cmd.Wait()
		s.dead = errors.New("session closed")
	}
	s.cancel()
}
