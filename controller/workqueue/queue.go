// Package workqueue is a bounded, keyed work queue: a fixed pool of workers
// handles items in batches, one batch per key at a time, in arrival order.
// It knows nothing of GitHub; jit serve keys it by pull request so that the
// webhooks for one pull request are handled in order and coalesced, while
// different pull requests proceed in parallel.
package workqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// ErrFull is returned by Add when the queue already holds its capacity of
// pending items; the item is not kept.
var ErrFull = errors.New("work queue is full")

// ErrStopped is returned by Add once Stop has been called; the item is not kept.
var ErrStopped = errors.New("work queue is stopped; no new items are taken")

// Queue runs handle(ctx, key, items) on a fixed pool of workers. Items for
// one key are handled one batch at a time, in arrival order; items that
// arrive for a key while it waits (or while its batch runs) are coalesced
// into its next batch. Capacity bounds the pending items (all keys
// together); Add beyond it returns ErrFull and keeps nothing. A key never
// runs on two workers at once. Keys wait their turn in the order they became
// ready, so a busy key cannot starve the others.
//
// A handle that panics does not kill its worker: the panic is recovered,
// logged at error on Logger and counted (Panics), and the key's next batch
// runs as usual.
type Queue[T any] struct {
	// Logger receives recovered panics; nil discards them (they are still
	// counted). Set it before Start.
	Logger *slog.Logger

	capacity, workers int
	handle            func(ctx context.Context, key string, items []T)
	panics            atomic.Int64

	mu      sync.Mutex
	wake    *sync.Cond
	pending map[string][]T  // items not yet handed to handle, per key
	running map[string]bool // keys whose batch is being handled
	ready   []string        // keys with pending items and no running batch, oldest first
	n       int             // pending items, all keys
	started bool
	stopped bool // no new items; workers exit once nothing is ready
	abandon bool // Stop's deadline passed: workers exit at once
	onDepth func(int)
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

// New returns a queue of at most capacity pending items, handled by workers
// goroutines calling handle once Start is called. capacity and workers below
// 1 are raised to 1. handle owns the items slice it is given.
func New[T any](capacity, workers int, handle func(ctx context.Context, key string, items []T)) *Queue[T] {
	q := &Queue[T]{
		capacity: max(capacity, 1),
		workers:  max(workers, 1),
		handle:   handle,
		pending:  map[string][]T{},
		running:  map[string]bool{},
	}
	q.wake = sync.NewCond(&q.mu)
	return q
}

// OnDepth, when set before Start, is called with Len() after every change
// (for a gauge). It is called with the queue's lock held, so the values
// arrive in order; f must be quick and must not call the queue.
func (q *Queue[T]) OnDepth(f func(int)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.onDepth = f
}

// Start starts the workers; they run until Stop. Handle receives a context
// derived from ctx, which Stop cancels when its own deadline passes. A
// second Start does nothing.
func (q *Queue[T]) Start(ctx context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started || q.stopped {
		return
	}
	q.started = true
	ctx, q.cancel = context.WithCancel(ctx)
	q.done.Add(q.workers)
	for range q.workers {
		go q.work(ctx)
	}
}

// Add queues item for key. It never blocks on work: it returns ErrFull when
// the queue holds its capacity of pending items and ErrStopped after Stop,
// keeping nothing in either case.
func (q *Queue[T]) Add(key string, item T) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return ErrStopped
	}
	if q.n >= q.capacity {
		return ErrFull
	}
	items, waiting := q.pending[key]
	q.pending[key] = append(items, item)
	q.n++
	if !waiting && !q.running[key] {
		q.ready = append(q.ready, key)
		q.wake.Signal()
	}
	q.depthChanged()
	return nil
}

// Len returns the number of pending items: added and not yet handed to handle.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// Panics returns how many calls of handle have panicked.
func (q *Queue[T]) Panics() int64 { return q.panics.Load() }

// Stop stops taking items, lets running batches and pending ones finish
// until ctx is done, and returns how many items were left unhandled (the
// caller logs them: never silently dropped). When ctx ends first, the
// context given to running handles is cancelled and Stop returns at once
// with the pending count; batches already handed to handle are not counted,
// as handle owns them. A queue that was never started returns its pending
// count at once.
func (q *Queue[T]) Stop(ctx context.Context) int {
	q.mu.Lock()
	q.stopped = true
	q.wake.Broadcast()
	started := q.started
	q.mu.Unlock()
	if !started {
		return q.Len()
	}
	finished := make(chan struct{})
	go func() {
		q.done.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-ctx.Done():
		q.mu.Lock()
		q.abandon = true
		q.wake.Broadcast()
		q.mu.Unlock()
	}
	q.cancel()
	return q.Len()
}

// work is one worker: it takes the oldest ready key's pending items as a
// batch and handles them, until the queue is stopped and idle, or abandoned.
func (q *Queue[T]) work(ctx context.Context) {
	defer q.done.Done()
	for {
		key, items, ok := q.next()
		if !ok {
			return
		}
		q.run(ctx, key, items)
		q.finish(key)
	}
}

// next waits for a ready key and takes its batch; ok is false when the
// worker should exit.
func (q *Queue[T]) next() (key string, items []T, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ready) == 0 || q.abandon {
		if q.abandon || q.stopped {
			return "", nil, false
		}
		q.wake.Wait()
	}
	key, q.ready = q.ready[0], q.ready[1:]
	items = q.pending[key]
	delete(q.pending, key)
	q.n -= len(items)
	q.running[key] = true
	q.depthChanged()
	return key, items, true
}

// finish marks key's batch done and puts the key back in line when items
// arrived for it meanwhile.
func (q *Queue[T]) finish(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.running, key)
	if len(q.pending[key]) > 0 {
		q.ready = append(q.ready, key)
		q.wake.Signal()
	}
}

// run calls handle, recovering a panic so the worker survives it.
func (q *Queue[T]) run(ctx context.Context, key string, items []T) {
	defer func() {
		if v := recover(); v != nil {
			q.panics.Add(1)
			if q.Logger != nil {
				q.Logger.Error("work queue handler panicked",
					"key", key, "items", len(items), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			}
		}
	}()
	q.handle(ctx, key, items)
}

// depthChanged reports Len to OnDepth; q.mu is held.
func (q *Queue[T]) depthChanged() {
	if q.onDepth != nil {
		q.onDepth(q.n)
	}
}
