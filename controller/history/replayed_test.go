package history_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/internal/gittest"
)

// TestReplayedMerges builds a default branch with fresh merges, merges of a
// head already merged, a merge of an older commit of the branch itself, a
// side branch whose commits have skewed clocks, and an octopus merge, and
// checks that exactly the merges whose second parent was already reachable
// from their first parent are reported, agreeing with IsAncestor.
func TestReplayedMerges(t *testing.T) {
	g := gittest.New(t)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	base := g.Commit("main", "admin", "initial", at(0), map[string]string{"a": "1"})
	a := g.Commit("pr-a", "alice", "request a", at(1), map[string]string{"access/a.yaml": "a"}, base)
	m1 := g.Commit("main", "jit", "merge a", at(2), nil, base, a)
	x := g.Commit("main", "bob", "revoke a", at(3), map[string]string{"access/a.yaml": ""})
	m2 := g.Commit("main", "jit", "merge a again", at(4), nil, x, a)
	// A side branch whose second commit claims to be far older than its
	// parent and than everything on main.
	b := g.Commit("pr-b", "carol", "request b", at(5), map[string]string{"access/b.yaml": "b"}, base)
	b2 := g.Commit("pr-b", "carol", "fix b", at(-100), map[string]string{"access/b.yaml": "b2"})
	m3 := g.Commit("main", "jit", "merge b", at(6), nil, m2, b2)
	y := g.Commit("main", "bob", "later", at(7), map[string]string{"c": "1"})
	m4 := g.Commit("main", "jit", "merge b's first head", at(8), nil, y, b)
	// The branch's own older commit merged back in.
	m5 := g.Commit("main", "jit", "merge an older main", at(9), nil, m4, x)
	// An octopus merge of a new head and an old one: only the second
	// parent counts.
	d := g.Commit("pr-d", "dave", "request d", at(10), map[string]string{"access/d.yaml": "d"}, m5)
	m6 := g.Commit("main", "jit", "octopus", at(11), nil, m5, d, a)
	m7 := g.Commit("main", "jit", "octopus, old second", at(12), nil, m6, a, g.Commit("pr-e", "erin", "e", at(11), map[string]string{"e": "1"}, m6))
	h := open(t, g)
	tip := resolve(t, h, "main")

	got, err := h.ReplayedMerges(ctx, tip)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{m2.String(): true, m4.String(): true, m5.String(): true, m7.String(): true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReplayedMerges (-want +got):\n%s", diff)
	}
	// The answer agrees with IsAncestor(m^2, m^1) for every merge.
	for _, m := range []plumbing.Hash{m1, m2, m3, m4, m5, m6, m7} {
		c, err := h.CommitInfo(m.String())
		if err != nil {
			t.Fatal(err)
		}
		anc, err := h.IsAncestor(ctx, c.Parents[1], c.Parents[0])
		if err != nil {
			t.Fatal(err)
		}
		if anc != got[m.String()] {
			t.Errorf("merge %q: ReplayedMerges says %t, IsAncestor(second parent, first parent) says %t", c.Message, got[m.String()], anc)
		}
	}
	// An older tip sees only its own history.
	old, err := h.ReplayedMerges(ctx, m3.String())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]bool{m2.String(): true}, old); diff != "" {
		t.Errorf("ReplayedMerges at the third merge (-want +got):\n%s", diff)
	}
}

func TestReplayedMergesRefusals(t *testing.T) {
	g := gittest.New(t)
	g.Commit("main", "admin", "initial", t0, map[string]string{"a": "1"})
	h := open(t, g)
	if _, err := h.ReplayedMerges(ctx, "main"); err == nil || !strings.Contains(err.Error(), "not a full 40-hex commit hash") {
		t.Errorf("ReplayedMerges of a branch name: err = %v, want a demand for a full hash", err)
	}
	missing := strings.Repeat("ab", 20)
	if _, err := h.ReplayedMerges(ctx, missing); err == nil || !strings.Contains(err.Error(), "abababababab") {
		t.Errorf("ReplayedMerges of a missing commit: err = %v, want an error naming it", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.ReplayedMerges(cancelled, resolve(t, h, "main")); !errors.Is(err, context.Canceled) {
		t.Errorf("ReplayedMerges with a cancelled context: err = %v, want context.Canceled", err)
	}
}
