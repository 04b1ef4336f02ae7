package coord

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// LockFile is the name of the file in a local state directory that a local
// Coordinator locks for its life.
const LockFile = ".jit-controller.lock"

// ErrInUse is returned (wrapped) by OpenLocal when another Coordinator, in
// this process or another one, holds the state directory.
var ErrInUse = errors.New("the local state directory is in use")

// local is the Coordinator for terraform's local state: one process per
// state directory, so locks and the lease only exclude within it.
type local struct {
	file   *os.File
	keys   keyedMutex
	closed chan struct{}

	mu     sync.Mutex
	leases map[string]*lease // held leases by name; nil once closed
	held   map[string]int    // locks held, by key
}

// OpenLocal returns the Coordinator for terraform's local state directory
// dir, which must exist. It takes an exclusive flock on dir/LockFile (created
// if missing, holding this process's pid while locked) for the Coordinator's
// life, so a second Coordinator on dir, in another process or in this one, is
// refused with an error wrapping ErrInUse that names the file and the holder's
// pid. The lock goes with the process: one that dies frees the directory. The
// descriptor is close-on-exec, so child processes (terraform) never hold it.
//
// Within the process, Lock is a mutex per key and TryLead grants each name to
// one holder at a time.
func OpenLocal(dir string) (Coordinator, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the local state lock: %w (the local state directory must exist and be writable)", err)
	}
	if err := flock(f); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, inUse(path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(pid, 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("writing this process's pid into %s: %w", path, err)
	}
	return &local{file: f, closed: make(chan struct{}), leases: map[string]*lease{}, held: map[string]int{}}, nil
}

// flock takes an exclusive, non-blocking flock on f, retrying when a signal
// interrupts it.
func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// inUse builds the refusal for a lock file that another holder has locked,
// naming the holder from the pid it wrote.
func inUse(path string) error {
	holder := "a process that has not written its pid yet"
	if b, err := os.ReadFile(path); err == nil {
		if pid, ok := parsePID(b); ok {
			holder = "pid " + strconv.Itoa(pid)
			if pid == os.Getpid() {
				holder += " (this process)"
			}
		}
	}
	return fmt.Errorf("%w: %s is locked by %s; with local state only one jit process may run; stop the other, or use the pg state backend to run several",
		ErrInUse, path, holder)
}

// parsePID reads a lock file's content: a positive decimal pid without
// leading zeros and an optional final newline, nothing else.
func parsePID(b []byte) (int, bool) {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" || s[0] == '0' || len(s) > 10 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 || pid > 1<<31-1 {
		return 0, false
	}
	return pid, true
}

// Lock implements Coordinator.
func (c *local) Lock(ctx context.Context, key string) (func(), error) {
	if key == "" {
		return nil, errEmptyName("lock key", "a grant id")
	}
	release, err := c.keys.lock(ctx, c.closed, key)
	if err != nil {
		return nil, fmt.Errorf("locking %q: %w", key, err)
	}
	c.mu.Lock()
	c.held[key]++
	c.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			if c.held[key]--; c.held[key] <= 0 {
				delete(c.held, key)
			}
			c.mu.Unlock()
			release()
		})
	}, nil
}

// Holds implements Coordinator. A local lock lives in this process (and the
// state directory's flock with it), so it is lost only by unlocking it.
func (c *local) Holds(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held[key] == 0 {
		return fmt.Errorf("the lock %q is not held by this process", key)
	}
	return nil
}

// TryLead implements Coordinator.
func (c *local) TryLead(_ context.Context, name string) (Lease, bool, error) {
	if name == "" {
		return nil, false, errEmptyName("lease name", `a name such as "expiry-timer"`)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leases == nil {
		return nil, false, fmt.Errorf("leading %q: %w", name, ErrClosed)
	}
	if c.leases[name] != nil {
		return nil, false, nil
	}
	var l *lease
	l = newLease(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.leases[name] == l {
			delete(c.leases, name)
		}
	})
	c.leases[name] = l
	return l, true, nil
}

// Close implements Coordinator. It empties the lock file while still holding
// it (a pid left behind would name a process that no longer holds the
// directory), then closes it, which frees the directory.
func (c *local) Close() error {
	c.mu.Lock()
	leases := c.leases
	c.leases = nil
	c.mu.Unlock()
	if leases == nil {
		return nil
	}
	close(c.closed)
	for _, l := range leases {
		l.end()
	}
	err := c.file.Truncate(0)
	if cerr := c.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("releasing the local state lock %s: %w", c.file.Name(), err)
	}
	return nil
}

// errEmptyName refuses an empty lock key or lease name; example says what
// belongs there.
func errEmptyName(what, example string) error {
	return fmt.Errorf("the %s is empty: pass %s", what, example)
}
