package coord

import "sync"

// lease is a Lease whose end runs once: it closes lost first, so a holder
// watching Lost stops acting before the lease is given back, then runs
// release.
type lease struct {
	lost    chan struct{}
	once    sync.Once
	release func()
}

func newLease(release func()) *lease {
	return &lease{lost: make(chan struct{}), release: release}
}

// Lost implements Lease.
func (l *lease) Lost() <-chan struct{} { return l.lost }

// Release implements Lease.
func (l *lease) Release() { l.end() }

func (l *lease) end() {
	l.once.Do(func() {
		close(l.lost)
		if l.release != nil {
			l.release()
		}
	})
}
