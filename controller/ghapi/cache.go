package ghapi

import (
	"sync"
	"time"
)

// cached is an answer and when it was fetched.
type cached[T any] struct {
	v  T
	at time.Time
}

// fresh reports whether e exists and is younger than maxAge at now
// (maxAge 0: never).
func fresh[T any](e cached[T], ok bool, maxAge time.Duration, now time.Time) bool {
	return ok && maxAge > 0 && now.Sub(e.at) < maxAge
}

// keyedLock serialises work per key (a head sha, a pull request number), so
// two concurrent writers never both create what one should.
type keyedLock[K comparable] struct {
	mu    sync.Mutex
	locks map[K]*keyLock
}

type keyLock struct {
	sync.Mutex
	users int
}

// lock locks key and returns its unlock; the entry is dropped when the last
// user unlocks.
func (l *keyedLock[K]) lock(key K) func() {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[K]*keyLock{}
	}
	k := l.locks[key]
	if k == nil {
		k = &keyLock{}
		l.locks[key] = k
	}
	k.users++
	l.mu.Unlock()
	k.Lock()
	return func() {
		k.Unlock()
		l.mu.Lock()
		if k.users--; k.users == 0 {
			delete(l.locks, key)
		}
		l.mu.Unlock()
	}
}
