package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/trailer"
)

// Entry is one signed lifecycle record about a grant on the default branch.
type Entry struct {
	Kind trailer.EventKind
	// Commit is the full hash of the record (a controller commit, or the
	// merge of an expiry pull request).
	Commit string
	// ExpiresAt is the record's Jit-Expires-At (activations only).
	ExpiresAt time.Time
	// Error is the record's Jit-Error (failures only).
	Error string
	// Resources are the record's Jit-Resources (terraform addresses).
	Resources []string
}

// Ledger is what the default branch's first-parent history records about
// grants since their latest decisions: only records whose signature holds
// under the .github/jit-signers of their first parent count, so a record
// anyone could have pushed is never taken for the controller's.
type Ledger struct {
	// entries holds, per grant, the records newer than its latest decision,
	// newest first.
	entries map[string][]Entry
	// removed maps grants whose expiry pull request (or early revocation)
	// merged within the window to that merge.
	removed map[string]string
	// decided marks grants whose latest decision the walk reached.
	decided map[string]bool
}

// DefaultLookback is how many first-parent commits beyond the oldest live
// grant's decision ReadLedger reads, to find grants removed from the branch
// whose revocation was never recorded.
const DefaultLookback = 2000

// ReadLedger walks the first-parent history of tip, newest first, until it
// has passed the decision of every grant in live and lookback commits more.
func ReadLedger(ctx context.Context, r *history.Repo, tip string, live []desired.Grant, lookback int) (*Ledger, error) {
	l := &Ledger{entries: map[string][]Entry{}, removed: map[string]string{}, decided: map[string]bool{}}
	waiting := map[string]bool{}
	for _, g := range live {
		waiting[g.Decision] = true
	}
	signers := signerCache{r: r, at: map[string]trailer.AllowedSigners{}}
	beyond := 0
	var walkErr error
	err := r.FirstParentChanges(ctx, tip, func(c history.Commit, _ []history.Change) bool {
		delete(waiting, c.Hash)
		if len(waiting) == 0 {
			beyond++
			// Past the window, only the decisions of grants removed within
			// it are still looked for, up to a hard cap.
			if beyond > lookback && (l.pending() == 0 || beyond > 5*lookback) {
				return false
			}
		}
		if !strings.Contains(c.Message, trailer.KeyGrant+":") {
			return true
		}
		ts, err := trailer.Parse(c.Message)
		if err != nil || len(ts) == 0 || len(c.Parents) == 0 {
			return true
		}
		allowed, err := signers.get(c.Parents[0])
		if err != nil {
			walkErr = err
			return false
		}
		if trailer.Verify(ts, allowed) != nil {
			return true // not the controller's: jit audit flags it
		}
		l.add(c, ts)
		return true
	})
	if walkErr != nil {
		return nil, walkErr
	}
	if err != nil {
		return nil, fmt.Errorf("reading the records on %s: %w", short(tip), err)
	}
	return l, nil
}

// add files one verified record.
func (l *Ledger) add(c history.Commit, ts []trailer.Trailer) {
	if !trailer.IsEvent(ts) {
		d, err := trailer.DecisionFrom(ts)
		if err != nil || len(c.Parents) != 2 || d.Head != c.Parents[1] {
			return
		}
		for _, id := range d.Grants {
			l.decided[id] = true
		}
		return
	}
	ev, err := trailer.EventFrom(ts)
	if err != nil {
		return
	}
	switch {
	case ev.Kind == trailer.Expire:
		if len(c.Parents) != 2 || ev.Head != c.Parents[1] {
			return
		}
	case ev.Parent != c.Parents[0]:
		return // a signed record replayed onto another parent
	}
	for _, id := range ev.Grants {
		if l.decided[id] {
			continue
		}
		if ev.Kind == trailer.Expire {
			if _, ok := l.removed[id]; !ok {
				l.removed[id] = c.Hash
			}
			continue
		}
		l.entries[id] = append(l.entries[id], Entry{Kind: ev.Kind, Commit: c.Hash, ExpiresAt: ev.ExpiresAt, Error: ev.Error, Resources: ev.Resources})
	}
}

// Activation returns the newest activation record (activated or
// activation-failed) of grant id for the expiry expires, if any.
func (l *Ledger) Activation(id string, expires time.Time) (Entry, bool) {
	for _, e := range l.entries[id] {
		if (e.Kind == trailer.Activated || e.Kind == trailer.ActivationFailed) && e.ExpiresAt.Equal(expires.Truncate(time.Second)) {
			return e, true
		}
	}
	return Entry{}, false
}

// ActivatedResources returns the resources named by grant id's newest
// activated record since its latest decision (nil when none names any):
// what a destroy of the grant removes, for a revoked record whose destroy
// was done by a pass that could not record it.
func (l *Ledger) ActivatedResources(id string) []string {
	for _, e := range l.entries[id] {
		if e.Kind == trailer.Activated && len(e.Resources) > 0 {
			return e.Resources
		}
	}
	return nil
}

// Revocation returns the newest revocation record (revoked or
// revoke-failed) of grant id since its latest decision, if any.
func (l *Ledger) Revocation(id string) (Entry, bool) {
	for _, e := range l.entries[id] {
		if e.Kind == trailer.Revoked || e.Kind == trailer.RevokeFailed {
			return e, true
		}
	}
	return Entry{}, false
}

// Removed returns the grants whose expiry or early revocation merged within
// the walk and whose decision the walk reached (so that their whole story
// since that decision was read), with that merge.
func (l *Ledger) Removed() map[string]string {
	out := map[string]string{}
	for id, merge := range l.removed {
		if l.decided[id] {
			out[id] = merge
		}
	}
	return out
}

// pending counts removed grants whose decision the walk has not reached.
func (l *Ledger) pending() int {
	n := 0
	for id := range l.removed {
		if !l.decided[id] {
			n++
		}
	}
	return n
}

// Note adds a record this process has just written, so that the rest of
// the pass sees it without reading the branch again.
func (l *Ledger) Note(id string, e Entry) {
	l.entries[id] = append([]Entry{e}, l.entries[id]...)
}

// signerCache reads .github/jit-signers once per commit.
type signerCache struct {
	r  *history.Repo
	at map[string]trailer.AllowedSigners
}

func (s signerCache) get(commit string) (trailer.AllowedSigners, error) {
	if a, ok := s.at[commit]; ok {
		return a, nil
	}
	tree, err := s.r.FS(commit)
	if err != nil {
		return nil, err
	}
	// A commit without a usable signers file trusts nobody: no record on
	// it counts.
	a, err := desired.Signers(tree, commit)
	switch {
	case errors.Is(err, desired.ErrUnreadable):
		return nil, err
	case err != nil:
		a = nil
	}
	s.at[commit] = a
	return a, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
