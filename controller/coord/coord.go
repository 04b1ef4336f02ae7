// Package coord makes jit controllers that share one terraform state backend
// act one at a time: a lock per grant, so two replicas (or a replica and the
// Actions sweep) never apply, destroy or record the same grant at once, and a
// lease with one holder, so only one process runs the expiry timer.
//
// Two implementations follow the two state backends:
//
//   - OpenLocal, for terraform's local state directory: a flock on
//     DIR/.jit-controller.lock held for the Coordinator's life refuses a
//     second process (and a second Coordinator in the same process), so the
//     per-grant locks and the lease only need to work inside this process.
//   - OpenPostgres, for terraform's pg backend: PostgreSQL session advisory
//     locks in the backend's database, with keys derived from the backend's
//     schema name, so two deployments sharing one database never collide. A
//     process that dies (or whose connection is terminated) loses its locks
//     and its lease at once, and the next TryLead elsewhere takes over.
//
// Locks and leases are advisory: they exclude only other jit processes that
// use this package with the same backend.
package coord

import (
	"context"
	"errors"
)

// Coordinator makes controllers sharing one state backend act one at a time.
// Its methods are safe for concurrent use.
type Coordinator interface {
	// Lock blocks until this process holds the exclusive lock named key (a
	// grant id) or ctx ends, in which case it returns ctx's error (wrapped)
	// and holds nothing. The lock excludes every other holder of key, in this
	// process or another one sharing the backend. unlock releases it; calling
	// unlock again does nothing.
	Lock(ctx context.Context, key string) (unlock func(), err error)
	// Holds returns nil when this process still holds the lock named key,
	// taken with Lock and not unlocked, and an error saying why not
	// otherwise: never locked, unlocked, or lost while held (the pg state
	// backend's session ended or could not be asked, which frees the lock
	// for others). Work done under the lock that others must not repeat
	// (writing a record) asks it first.
	Holds(ctx context.Context, key string) error
	// TryLead tries once to become the one holder of the lease named name
	// ("expiry-timer"). It returns ok=false, err=nil when another holder (in
	// this process or another one) has it, and an error when it cannot tell.
	TryLead(ctx context.Context, name string) (l Lease, ok bool, err error)
	// Close releases every lease, makes Lock calls that are still waiting
	// return ErrClosed, and refuses later calls with ErrClosed. A lock held
	// when Close is called stays held until its unlock runs (or the process
	// ends), so work under it is never left unprotected. Calling Close again
	// does nothing.
	Close() error
}

// Lease is the one-holder right named in TryLead. The holder must stop acting
// on it as soon as Lost is closed.
type Lease interface {
	// Lost returns a channel that is closed once the lease is no longer
	// held: its connection broke, the Coordinator was closed, or Release was
	// called.
	Lost() <-chan struct{}
	// Release gives the lease up, so that the next TryLead anywhere may take
	// it. Calling it again does nothing.
	Release()
}

// ErrClosed is returned (wrapped) by a Coordinator's methods after Close.
var ErrClosed = errors.New("the coordinator is closed")
