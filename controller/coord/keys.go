package coord

import (
	"context"
	"fmt"
	"sync"
)

// keyedMutex is a set of mutexes named by string, whose Lock honours a
// context. Entries exist only while someone holds or waits for them.
type keyedMutex struct {
	mu      sync.Mutex
	entries map[string]*keyEntry
}

type keyEntry struct {
	token chan struct{} // holds one value while the key is free
	refs  int           // holders and waiters
}

// lock blocks until the caller holds key, ctx ends or closed is closed. On
// success it returns a release function that must be called exactly once.
func (k *keyedMutex) lock(ctx context.Context, closed <-chan struct{}, key string) (func(), error) {
	if err := waitErr(ctx, closed); err != nil {
		return nil, err
	}
	k.mu.Lock()
	if k.entries == nil {
		k.entries = map[string]*keyEntry{}
	}
	e := k.entries[key]
	if e == nil {
		e = &keyEntry{token: make(chan struct{}, 1)}
		e.token <- struct{}{}
		k.entries[key] = e
	}
	e.refs++
	k.mu.Unlock()

	select {
	case <-e.token:
		return func() { k.release(key, e, true) }, nil
	case <-ctx.Done():
	case <-closed:
	}
	k.release(key, e, false)
	return nil, waitErr(ctx, closed)
}

// release drops one reference to e; held says whether the caller held the
// token, which goes back for the next waiter.
func (k *keyedMutex) release(key string, e *keyEntry, held bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e.refs--
	if held {
		e.token <- struct{}{}
	}
	if e.refs == 0 {
		delete(k.entries, key)
	}
}

// waitErr is the error that ends a wait: ctx's (wrapped), ErrClosed, or nil
// while neither has ended.
func waitErr(ctx context.Context, closed <-chan struct{}) error {
	select {
	case <-closed:
		return ErrClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("waiting for a lock: %w", err)
	}
	return nil
}
