package workqueue_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/workqueue"
)

// waitFor fails the test when ch is not closed within a few seconds.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// recorder records the batches handle saw, per key.
type recorder struct {
	mu      sync.Mutex
	batches map[string][][]int
	all     int
	done    chan struct{} // closed when all reaches want
	want    int
}

func newRecorder(want int) *recorder {
	return &recorder{batches: map[string][][]int{}, done: make(chan struct{}), want: want}
}

func (r *recorder) handle(_ context.Context, key string, items []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches[key] = append(r.batches[key], items)
	r.all += len(items)
	if r.all == r.want {
		close(r.done)
	}
}

func stop(t *testing.T, q interface{ Stop(context.Context) int }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if left := q.Stop(ctx); left != 0 {
		t.Errorf("Stop left %d items", left)
	}
}

func TestItemsOfOneKeyAreHandledInArrivalOrder(t *testing.T) {
	const n = 500
	rec := newRecorder(2 * n)
	q := workqueue.New(2*n, 4, rec.handle)
	q.Start(context.Background())
	for i := range n {
		for _, key := range []string{"a", "b"} {
			if err := q.Add(key, i); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, rec.done, "all items")
	stop(t, q)
	for _, key := range []string{"a", "b"} {
		var got []int
		for _, b := range rec.batches[key] {
			got = append(got, b...)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("key %s: item %d is %d; items out of order: %v", key, i, v, got)
			}
		}
	}
}

func TestItemsArrivingWhileAKeyRunsAreCoalescedIntoItsNextBatch(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var batches [][]int
	done := make(chan struct{})
	q := workqueue.New(10, 1, func(_ context.Context, _ string, items []int) {
		mu.Lock()
		batches = append(batches, items)
		n := len(batches)
		mu.Unlock()
		if n == 1 {
			close(started)
			<-release
		}
		if n == 2 {
			close(done)
		}
	})
	var depths []int
	q.OnDepth(func(d int) { depths = append(depths, d) })
	q.Start(context.Background())
	if err := q.Add("pr-1", 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, started, "first batch")
	for _, v := range []int{2, 3, 4} {
		if err := q.Add("pr-1", v); err != nil {
			t.Fatal(err)
		}
	}
	if got := q.Len(); got != 3 {
		t.Errorf("Len while the key runs = %d, want 3", got)
	}
	close(release)
	waitFor(t, done, "second batch")
	stop(t, q)
	if diff := cmp.Diff([][]int{{1}, {2, 3, 4}}, batches); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1, 0, 1, 2, 3, 0}, depths); diff != "" {
		t.Errorf("OnDepth values (-want +got):\n%s", diff)
	}
}

func TestDifferentKeysRunInParallel(t *testing.T) {
	var barrier sync.WaitGroup
	barrier.Add(2)
	both := make(chan struct{})
	go func() { barrier.Wait(); close(both) }()
	q := workqueue.New(10, 2, func(ctx context.Context, _ string, _ []int) {
		barrier.Done()
		select { // each batch waits for the other: only two workers at once get here
		case <-both:
		case <-ctx.Done():
		}
	})
	q.Start(context.Background())
	for _, key := range []string{"a", "b"} {
		if err := q.Add(key, 1); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, both, "both keys running at once")
	stop(t, q)
}

func TestAKeyNeverRunsOnTwoWorkers(t *testing.T) {
	const keys, adders, perAdder = 5, 16, 200
	var inFlight [keys]atomic.Int32
	var handled atomic.Int64
	var overlap atomic.Bool
	q := workqueue.New(keys*adders*perAdder, 8, func(_ context.Context, key string, items []int) {
		k := int(key[0] - 'a')
		if inFlight[k].Add(1) != 1 {
			overlap.Store(true)
		}
		time.Sleep(time.Microsecond)
		inFlight[k].Add(-1)
		handled.Add(int64(len(items)))
	})
	q.Start(context.Background())
	var wg sync.WaitGroup
	for a := range adders {
		wg.Go(func() {
			for i := range perAdder {
				if err := q.Add(string(rune('a'+(a+i)%keys)), i); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	stop(t, q)
	if overlap.Load() {
		t.Error("a key ran on two workers at once")
	}
	if got := handled.Load(); got != adders*perAdder {
		t.Errorf("handled %d items, want %d", got, adders*perAdder)
	}
}

func TestAddBeyondCapacityIsRefusedUntilTheQueueDrains(t *testing.T) {
	release := make(chan struct{})
	rec := newRecorder(4)
	q := workqueue.New(3, 1, func(ctx context.Context, key string, items []int) {
		<-release
		rec.handle(ctx, key, items)
	})
	for i := range 3 { // not started: everything stays pending
		if err := q.Add(fmt.Sprint("k", i), i); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Add("k9", 9); !errors.Is(err, workqueue.ErrFull) {
		t.Fatalf("Add at capacity = %v, want ErrFull", err)
	}
	if err := q.Add("k0", 9); !errors.Is(err, workqueue.ErrFull) {
		t.Fatalf("Add at capacity to a waiting key = %v, want ErrFull", err)
	}
	if got := q.Len(); got != 3 {
		t.Errorf("Len after refused adds = %d, want 3 (nothing kept)", got)
	}
	q.Start(context.Background())
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for q.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := q.Add("k9", 9); err != nil {
		t.Fatalf("Add after draining = %v", err)
	}
	waitFor(t, rec.done, "all items")
	stop(t, q)
	if diff := cmp.Diff(map[string][][]int{"k0": {{0}}, "k1": {{1}}, "k2": {{2}}, "k9": {{9}}}, rec.batches); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
}

func TestStopDrainsPendingItemsAndRefusesNewOnes(t *testing.T) {
	rec := newRecorder(50)
	q := workqueue.New(100, 2, rec.handle)
	for i := range 50 {
		if err := q.Add(fmt.Sprint(i%7), i); err != nil {
			t.Fatal(err)
		}
	}
	q.Start(context.Background())
	stop(t, q)
	if rec.all != 50 {
		t.Errorf("handled %d items before Stop returned, want 50", rec.all)
	}
	if err := q.Add("x", 1); !errors.Is(err, workqueue.ErrStopped) {
		t.Errorf("Add after Stop = %v, want ErrStopped", err)
	}
}

func TestStopAtItsDeadlineCountsTheAbandonedItemsAndCancelsHandle(t *testing.T) {
	running := make(chan struct{})
	cancelled := make(chan struct{})
	q := workqueue.New(100, 1, func(ctx context.Context, _ string, items []int) {
		close(running)
		<-ctx.Done() // a slow handle that honours cancellation
		close(cancelled)
	})
	q.Start(context.Background())
	if err := q.Add("a", 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, running, "first batch")
	for i := range 5 {
		if err := q.Add(fmt.Sprint("b", i), i); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if left := q.Stop(ctx); left != 5 {
		t.Errorf("Stop left %d items, want the 5 never handed to handle", left)
	}
	waitFor(t, cancelled, "handle's context to be cancelled")
}

func TestStopBeforeStartReturnsThePendingCount(t *testing.T) {
	q := workqueue.New(10, 1, func(context.Context, string, []int) { t.Error("handle called") })
	_ = q.Add("a", 1)
	_ = q.Add("a", 2)
	if left := q.Stop(context.Background()); left != 2 {
		t.Errorf("Stop = %d, want 2", left)
	}
	q.Start(context.Background()) // after Stop: starts no workers, so handle is never called
	if err := q.Add("a", 3); !errors.Is(err, workqueue.ErrStopped) {
		t.Errorf("Add after Stop = %v, want ErrStopped", err)
	}
}

func TestAPanickingHandleDoesNotKillItsWorker(t *testing.T) {
	var logs bytes.Buffer
	rec := newRecorder(2)
	q := workqueue.New(10, 1, func(ctx context.Context, key string, items []int) {
		if key == "boom" {
			panic("kaboom")
		}
		rec.handle(ctx, key, items)
	})
	q.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	q.Start(context.Background())
	for _, key := range []string{"ok", "boom", "ok2"} {
		if err := q.Add(key, 1); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, rec.done, "the keys after the panic")
	stop(t, q)
	if got := q.Panics(); got != 1 {
		t.Errorf("Panics = %d, want 1", got)
	}
	for _, want := range []string{`"msg":"work queue handler panicked"`, `"key":"boom"`, `"panic":"kaboom"`, `"stack":`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
}

func TestAPanicWithoutALoggerIsStillCounted(t *testing.T) {
	done := make(chan struct{})
	q := workqueue.New(10, 1, func(_ context.Context, key string, _ []int) {
		if key == "after" {
			close(done)
			return
		}
		panic(errors.New("boom"))
	})
	q.Start(context.Background())
	_ = q.Add("boom", 1)
	_ = q.Add("after", 1)
	waitFor(t, done, "the key after the panic")
	stop(t, q)
	if got := q.Panics(); got != 1 {
		t.Errorf("Panics = %d, want 1", got)
	}
}

func BenchmarkAddAndHandle(b *testing.B) {
	var handled atomic.Int64
	q := workqueue.New(1<<20, 4, func(_ context.Context, _ string, items []int) { handled.Add(int64(len(items))) })
	q.Start(context.Background())
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = fmt.Sprint("acme/access#", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		for q.Add(keys[i%len(keys)], i) != nil { // full: let the workers catch up
			time.Sleep(time.Microsecond)
		}
	}
	if left := q.Stop(context.Background()); left != 0 {
		b.Fatalf("%d items left", left)
	}
	if handled.Load() != int64(b.N) {
		b.Fatalf("handled %d of %d", handled.Load(), b.N)
	}
}
