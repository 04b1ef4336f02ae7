package coord

import (
	"context"
	"errors"
	"testing"
	"time"
)

// blocked is how long a Lock that should wait is watched for not returning.
const blocked = 200 * time.Millisecond

type lockResult struct {
	unlock func()
	err    error
}

// lockAsync starts c.Lock(ctx, key) and returns its result when it comes.
func lockAsync(ctx context.Context, c Coordinator, key string) <-chan lockResult {
	ch := make(chan lockResult, 1)
	go func() {
		u, err := c.Lock(ctx, key)
		ch <- lockResult{u, err}
	}()
	return ch
}

func mustLock(t *testing.T, c Coordinator, key string) func() {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, err := c.Lock(ctx, key)
	if err != nil {
		t.Fatalf("Lock(%q): %v", key, err)
	}
	return u
}

func expectWaiting(t *testing.T, ch <-chan lockResult, what string) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("%s returned while the lock was held elsewhere (err %v)", what, r.err)
	case <-time.After(blocked):
	}
}

func expectAcquired(t *testing.T, ch <-chan lockResult, what string) func() {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("%s: %v", what, r.err)
		}
		return r.unlock
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still waiting after 10 s", what)
		return nil
	}
}

// testLockExclusion checks Lock through a and b, which share one backend
// (they may be the same Coordinator): the same key excludes, other keys do
// not, unlock hands the key over and is idempotent, and a wait ends with its
// context.
func testLockExclusion(t *testing.T, a, b Coordinator) {
	unlockA := mustLock(t, a, "grant-1")
	waiting := lockAsync(context.Background(), b, "grant-1")
	expectWaiting(t, waiting, "b.Lock(grant-1)")
	mustLock(t, b, "grant-2")() // another key is free

	unlockA()
	unlockB := expectAcquired(t, waiting, "b.Lock(grant-1) after a's unlock")

	unlockA() // idempotent: must not release what b now holds
	ctx, cancel := context.WithTimeout(context.Background(), blocked)
	defer cancel()
	start := time.Now()
	_, err := a.Lock(ctx, "grant-1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a.Lock(grant-1) while b holds it, ctx deadline: %v, want context.DeadlineExceeded", err)
	}
	if want := `locking "grant-1": waiting for a lock: context deadline exceeded`; err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the wait ended %v after its deadline", d)
	}

	unlockB()
	unlockB()
	mustLock(t, a, "grant-1")()
}

func TestLockAlreadyCancelled(t *testing.T) {
	c := openLocal(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Lock(ctx, "free"); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a cancelled ctx on a free key: %v, want context.Canceled", err)
	}
}

func TestLockCloseEndsWaits(t *testing.T) {
	c, err := OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testCloseEndsWaits(t, c)
}

// testCloseEndsWaits checks that Close ends a waiting Lock with ErrClosed,
// leaves a held lock held until its unlock, and refuses later Locks.
func testCloseEndsWaits(t *testing.T, c Coordinator) {
	unlock := mustLock(t, c, "grant-1")
	waiting := lockAsync(context.Background(), c, "grant-1")
	expectWaiting(t, waiting, "Lock(grant-1)")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-waiting:
		if !errors.Is(r.err, ErrClosed) {
			t.Errorf("waiting Lock after Close: %v, want ErrClosed", r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a waiting Lock did not return within 10 s of Close")
	}
	if _, err := c.Lock(context.Background(), "grant-3"); !errors.Is(err, ErrClosed) {
		t.Errorf("Lock after Close: %v, want ErrClosed", err)
	}
	unlock()
	unlock()
}

func TestKeyedMutexForgetsFreeKeys(t *testing.T) {
	var k keyedMutex
	closed := make(chan struct{})
	release, err := k.lock(context.Background(), closed, "a")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := k.lock(ctx, closed, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock: %v", err)
	}
	release()
	if n := len(k.entries); n != 0 {
		t.Errorf("%d entries left after every holder and waiter left, want 0", n)
	}
}
