package lifecycle_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/decisiontest"
	"github.com/jitops/jit/controller/internal/gittest"
	"github.com/jitops/jit/controller/lifecycle"
	"github.com/jitops/jit/controller/trailer"
)

const grantFile = `template: postgres-role
requester: alice
duration: 2h
reason: Investigate stuck orders
scope:
  database: orders
`

// ledgerRepo is a default branch with two grants and their records, some
// of which must not count.
type ledgerRepo struct {
	g        *gittest.Repo
	key      *decisiontest.Key
	when     time.Time
	expiresA time.Time
}

func (l *ledgerRepo) tick() time.Time { l.when = l.when.Add(time.Minute); return l.when }

// record commits an empty controller record of ev on main, signed by key,
// whose Jit-Parent is parent (main's head when empty).
func (l *ledgerRepo) record(t *testing.T, key *decisiontest.Key, ev trailer.Event, parent string) plumbing.Hash {
	t.Helper()
	if parent == "" {
		parent = l.g.Head("main").String()
	}
	ev.Parent = parent
	ts, err := ev.Trailers()
	if err != nil {
		t.Fatal(err)
	}
	return l.g.Commit("main", "jit[bot]", key.SignedMessage(t, "jit: "+string(ev.Kind), ts), l.tick(), nil)
}

// decide merges a branch adding file as grant id with a signed decision.
func (l *ledgerRepo) decide(t *testing.T, id, branch string, expires time.Time) {
	t.Helper()
	base := l.g.Head("main")
	head := l.g.Commit(branch, "alice", "request "+id, l.tick(), map[string]string{"access/" + id + ".yaml": grantFile}, base)
	l.key.Merge(t, l.g, "main", l.tick(), head, trailer.Decision{Grants: []string{id}, RequestedBy: []string{"alice"},
		ApprovedBy: []string{"bob"}, EligibleVia: []trailer.Via{{Login: "bob", Owner: "@acme/dba"}}, Policies: []string{"prod"},
		Duration: 2 * time.Hour, ExpiresAt: expires, PullRequest: 1, Head: head.String()})
}

func newLedgerRepo(t *testing.T) *ledgerRepo {
	l := &ledgerRepo{g: gittest.New(t), key: decisiontest.NewKey(t), when: gittest.Start}
	l.g.Commit("main", "sec", "init", l.tick(), map[string]string{".github/jit-signers": l.key.AllowedSigners()})
	return l
}

func TestLedger(t *testing.T) {
	ctx := context.Background()
	l := newLedgerRepo(t)
	expA := gittest.Start.Add(3 * time.Hour)
	l.decide(t, "prod/a", "req-a", expA)
	activatedA := l.record(t, l.key, trailer.Event{Kind: trailer.Activated, Grants: []string{"prod/a"}, ExpiresAt: expA}, "")
	expB := gittest.Start.Add(4 * time.Hour)
	l.decide(t, "prod/b", "req-b", expB)
	// A record signed by a key .github/jit-signers does not hold.
	l.record(t, decisiontest.NewKey(t), trailer.Event{Kind: trailer.Activated, Grants: []string{"prod/b"}, ExpiresAt: expB}, "")
	// A genuine record replayed onto another parent.
	l.record(t, l.key, trailer.Event{Kind: trailer.Revoked, Grants: []string{"prod/b"}}, activatedA.String())
	// B failed once, then is activated.
	l.record(t, l.key, trailer.Event{Kind: trailer.ActivationFailed, Grants: []string{"prod/b"}, ExpiresAt: expB, Error: "boom"}, "")

	r, err := history.Open(l.g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tip := l.g.Head("main").String()
	live := []desired.Grant{{Request: grantReq("prod/a"), ExpiresAt: expA, Decision: decisionOf(t, r, tip, "prod/a")},
		{Request: grantReq("prod/b"), ExpiresAt: expB, Decision: decisionOf(t, r, tip, "prod/b")}}
	led, err := lifecycle.ReadLedger(ctx, r, tip, live, 10)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := led.Activation("prod/a", expA); !ok || e.Kind != trailer.Activated || e.Commit != activatedA.String() {
		t.Errorf("prod/a activation = %+v, %v; want activated in %s", e, ok, activatedA)
	}
	if _, ok := led.Activation("prod/a", expA.Add(time.Hour)); ok {
		t.Errorf("prod/a has an activation for another expiry (an extension must be activated again)")
	}
	if e, ok := led.Activation("prod/b", expB); !ok || e.Kind != trailer.ActivationFailed || e.Error != "boom" {
		t.Errorf("prod/b activation = %+v, %v; want the failure (the forged activation must not count)", e, ok)
	}
	if e, ok := led.Revocation("prod/b"); ok {
		t.Errorf("prod/b revocation = %+v: a replayed record counted", e)
	}
	if len(led.Removed()) != 0 {
		t.Errorf("removed = %v, want none", led.Removed())
	}
}

// TestLedgerRemoved: a grant whose expiry merged is found as removed, with
// its revocation whether recorded before the expiry merge (an expiry) or
// after it (an early revocation).
func TestLedgerRemoved(t *testing.T) {
	ctx := context.Background()
	l := newLedgerRepo(t)
	exp := gittest.Start.Add(time.Hour)
	for _, id := range []string{"prod/a", "prod/b"} {
		l.decide(t, id, "req-"+id, exp)
		l.record(t, l.key, trailer.Event{Kind: trailer.Activated, Grants: []string{id}, ExpiresAt: exp}, "")
	}
	expire := func(id string) {
		base := l.g.Head("main")
		head := l.g.Commit("jit/expire/"+id, "jit[bot]", "Expire "+id, l.tick(), map[string]string{"access/" + id + ".yaml": ""}, base)
		ts, err := trailer.Event{Kind: trailer.Expire, Grants: []string{id}, Reason: trailer.ReasonExpired, Head: head.String()}.Trailers()
		if err != nil {
			t.Fatal(err)
		}
		l.g.Commit("main", "jit[bot]", l.key.SignedMessage(t, "Expire "+id, ts), l.tick(), nil, base, head)
	}
	for i := 0; i < 15; i++ { // unrelated commits: past the window, the walk still reaches the decisions
		l.g.Commit("main", "sec", "docs", l.tick(), map[string]string{"README.md": time.Duration(i).String()})
	}
	// a: revoked, then its expiry pull request merged.
	l.record(t, l.key, trailer.Event{Kind: trailer.Revoked, Grants: []string{"prod/a"}}, "")
	expire("prod/a")
	// b: its deletion merged, revocation not recorded yet.
	expire("prod/b")
	r, err := history.Open(l.g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	led, err := lifecycle.ReadLedger(ctx, r, l.g.Head("main").String(), nil, 5)
	if err != nil {
		t.Fatal(err)
	}
	removed := led.Removed()
	if len(removed) != 2 || removed["prod/a"] == "" || removed["prod/b"] == "" {
		t.Fatalf("removed = %v, want prod/a and prod/b", removed)
	}
	if e, ok := led.Revocation("prod/a"); !ok || e.Kind != trailer.Revoked {
		t.Errorf("prod/a revocation = %+v, %v; want revoked (recorded before the expiry merge)", e, ok)
	}
	if e, ok := led.Revocation("prod/b"); ok {
		t.Errorf("prod/b revocation = %+v; want none", e)
	}
}

func grantReq(id string) grant.Request {
	return grant.Request{ID: id, File: "access/" + id + ".yaml", Requester: "alice"}
}

// decisionOf finds the merge that decided id on main's first-parent history.
func decisionOf(t *testing.T, r *history.Repo, tip, id string) string {
	t.Helper()
	var found string
	err := r.FirstParentChanges(context.Background(), tip, func(c history.Commit, _ []history.Change) bool {
		ts, err := trailer.Parse(c.Message)
		if err != nil || len(ts) == 0 || trailer.IsEvent(ts) {
			return true
		}
		d, err := trailer.DecisionFrom(ts)
		if err == nil && len(d.Grants) == 1 && d.Grants[0] == id {
			found = c.Hash
			return false
		}
		return true
	})
	if err != nil || found == "" {
		t.Fatalf("no decision for %s: %v", id, err)
	}
	return found
}
