package coord

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func openLocal(t *testing.T, dir string) Coordinator {
	t.Helper()
	c, err := OpenLocal(dir)
	if err != nil {
		t.Fatalf("OpenLocal(%s): %v", dir, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func inUseMessage(dir, holder string) string {
	return fmt.Sprintf("the local state directory is in use: %s is locked by %s; with local state only one jit process may run; stop the other, or use the pg state backend to run several",
		filepath.Join(dir, LockFile), holder)
}

func TestOpenLocalWritesPID(t *testing.T) {
	dir := t.TempDir()
	c := openLocal(t, dir)
	b, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(os.Getpid()) + "\n"; string(b) != want {
		t.Errorf("lock file holds %q, want %q", b, want)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, LockFile)); len(b) != 0 {
		t.Errorf("after Close the lock file still holds %q: it would name a process that no longer holds the directory", b)
	}
}

func TestOpenLocalSecondOpenInProcessRefused(t *testing.T) {
	dir := t.TempDir()
	first := openLocal(t, dir)
	_, err := OpenLocal(dir)
	if err == nil {
		t.Fatal("a second OpenLocal on the same directory in the same process succeeded")
	}
	if !errors.Is(err, ErrInUse) {
		t.Errorf("error does not wrap ErrInUse: %v", err)
	}
	want := inUseMessage(dir, "pid "+strconv.Itoa(os.Getpid())+" (this process)")
	if err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	openLocal(t, dir) // free again once the first is closed
}

func TestOpenLocalRefusedWhileChildHolds(t *testing.T) {
	dir := t.TempDir()
	ch := startChild(t, "local", "JIT_COORD_TEST_DIR="+dir)
	if ch.line != "held" {
		t.Fatalf("child: %s", ch.line)
	}
	_, err := OpenLocal(dir)
	if want := inUseMessage(dir, "pid "+strconv.Itoa(ch.cmd.Process.Pid)); err == nil || err.Error() != want {
		t.Fatalf("OpenLocal while a child holds the directory:\n got %v\nwant %s", err, want)
	}
	ch.kill(t) // SIGKILL: the kernel frees the flock with the process
	openLocal(t, dir)
}

func TestOpenLocalChildRefusedWhileParentHolds(t *testing.T) {
	dir := t.TempDir()
	openLocal(t, dir)
	ch := startChild(t, "local", "JIT_COORD_TEST_DIR="+dir)
	want := "refused: " + inUseMessage(dir, "pid "+strconv.Itoa(os.Getpid()))
	if ch.line != want {
		t.Errorf("child:\n got %s\nwant %s", ch.line, want)
	}
}

// A child process (terraform) started while the directory is held must not
// inherit the lock, or it would keep the directory after jit ends.
func TestOpenLocalLockNotInherited(t *testing.T) {
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("no sleep binary")
	}
	dir := t.TempDir()
	c := openLocal(t, dir)
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleep.Process.Kill(); _ = sleep.Wait() })
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	openLocal(t, dir)
}

func TestOpenLocalMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	_, err := OpenLocal(dir)
	want := "opening the local state lock: open " + filepath.Join(dir, LockFile) + ": no such file or directory (the local state directory must exist and be writable)"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
}

func TestLocalTryLead(t *testing.T) {
	c := openLocal(t, t.TempDir())
	ctx := context.Background()
	l, ok, err := c.TryLead(ctx, "expiry-timer")
	if err != nil || !ok {
		t.Fatalf("first TryLead: ok=%v err=%v", ok, err)
	}
	if _, ok, err := c.TryLead(ctx, "expiry-timer"); err != nil || ok {
		t.Fatalf("second TryLead while held: ok=%v err=%v, want not ok", ok, err)
	}
	if _, ok, err := c.TryLead(ctx, "other"); err != nil || !ok {
		t.Fatalf("TryLead of another name: ok=%v err=%v", ok, err)
	}
	l.Release()
	assertClosed(t, l.Lost(), "Lost after Release")
	l.Release() // idempotent
	l2, ok, err := c.TryLead(ctx, "expiry-timer")
	if err != nil || !ok {
		t.Fatalf("TryLead after Release: ok=%v err=%v", ok, err)
	}
	l.Release() // an old lease's Release must not free the new holder's
	if _, ok, _ := c.TryLead(ctx, "expiry-timer"); ok {
		t.Fatal("a released lease's second Release freed the next holder's lease")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	assertClosed(t, l2.Lost(), "Lost after Close")
	if _, _, err := c.TryLead(ctx, "expiry-timer"); !errors.Is(err, ErrClosed) {
		t.Errorf("TryLead after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestLocalEmptyNames(t *testing.T) {
	c := openLocal(t, t.TempDir())
	_, err := c.Lock(context.Background(), "")
	if want := "the lock key is empty: pass a grant id"; err == nil || err.Error() != want {
		t.Errorf("Lock(\"\"): %v, want %s", err, want)
	}
	_, _, err = c.TryLead(context.Background(), "")
	if want := `the lease name is empty: pass a name such as "expiry-timer"`; err == nil || err.Error() != want {
		t.Errorf("TryLead(\"\"): %v, want %s", err, want)
	}
}

func TestParsePID(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		pid  int
		ok   bool
	}{
		{"with newline", "1234\n", 1234, true},
		{"without newline", "77", 77, true},
		{"empty", "", 0, false},
		{"only newline", "\n", 0, false},
		{"zero", "0\n", 0, false},
		{"negative", "-5\n", 0, false},
		{"plus sign", "+5\n", 0, false},
		{"spaces", " 5\n", 0, false},
		{"two lines", "5\n6\n", 0, false},
		{"too large", "2147483648\n", 0, false},
		{"largest", "2147483647", 2147483647, true},
		{"garbage", "pid=5", 0, false},
		{"leading zero", "07\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pid, ok := parsePID([]byte(tc.in))
			if pid != tc.pid || ok != tc.ok {
				t.Errorf("parsePID(%q) = %d, %v; want %d, %v", tc.in, pid, ok, tc.pid, tc.ok)
			}
		})
	}
}

func FuzzParsePID(f *testing.F) {
	for _, s := range []string{"1234\n", "", "0", "-1", "99999999999", "12\n34"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pid, ok := parsePID(b)
		if !ok {
			if pid != 0 {
				t.Errorf("refused %q but returned pid %d", b, pid)
			}
			return
		}
		if pid <= 0 || pid > 1<<31-1 {
			t.Errorf("accepted %q as out-of-range pid %d", b, pid)
		}
		if s := strconv.Itoa(pid); string(b) != s && string(b) != s+"\n" {
			t.Errorf("accepted %q as pid %d, which does not write it back", b, pid)
		}
	})
}

// assertClosed fails t unless ch is closed within a few seconds.
func assertClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not closed after 10 s", what)
	}
}

func TestLocalLockExclusion(t *testing.T) {
	c := openLocal(t, t.TempDir())
	testLockExclusion(t, c, c)
}

func TestLocalHolds(t *testing.T) {
	c := openLocal(t, t.TempDir())
	ctx := context.Background()
	if err := c.Holds(ctx, "pass"); err == nil || !strings.Contains(err.Error(), `the lock "pass" is not held by this process`) {
		t.Fatalf("Holds before Lock = %v, want not held", err)
	}
	unlock := mustLock(t, c, "pass")
	if err := c.Holds(ctx, "pass"); err != nil {
		t.Fatalf("Holds while held = %v", err)
	}
	if err := c.Holds(ctx, "other"); err == nil {
		t.Fatal("Holds of a key never locked = nil")
	}
	unlock()
	unlock() // a second unlock changes nothing
	if err := c.Holds(ctx, "pass"); err == nil {
		t.Fatal("Holds after unlock = nil")
	}
	mustLock(t, c, "pass")()
	if err := c.Holds(ctx, "pass"); err == nil {
		t.Fatal("Holds after a second lock and unlock = nil")
	}
}
