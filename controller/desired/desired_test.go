package desired_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/decisiontest"
	"github.com/jitops/jit/controller/internal/gittest"
	"github.com/jitops/jit/controller/trailer"
)

var t0 = gittest.Start

const grantFile = "access/prod/alice-inc-1.yaml"

const grantYAML = `template: pg
requester: alice
duration: 2h
reason: Investigate stuck orders
ticket: INC-1
scope:
  database: orders
`

const prodPolicy = `policy "prod" {
  paths        = ["access/prod/**"]
  templates    = ["pg"]
  max_duration = "4h"
  approvals    = 1
}
`

func governing(k *decisiontest.Key) map[string]string {
	return map[string]string{
		".github/CODEOWNERS":   "/access/prod/ @acme/dba\n/.github/ @acme/security\n",
		".github/jit-signers":  k.AllowedSigners(),
		"policies/prod.hcl":    prodPolicy,
		"templates/pg/main.tf": "variable \"database\" {\n  type = string\n}\n",
	}
}

// fixture is an access repository whose main branch holds the governing
// files signed for key.
type fixture struct {
	t   *testing.T
	g   *gittest.Repo
	key *decisiontest.Key
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, g: gittest.New(t), key: decisiontest.NewKey(t)}
	f.g.Commit("main", "admin", "governance", t0, governing(f.key))
	return f
}

// request commits files on a new branch off main by alice, one hour after
// t0 plus offset, and returns the branch head.
func (f *fixture) request(branch string, at time.Time, files map[string]string) plumbing.Hash {
	f.t.Helper()
	return f.g.Commit(branch, "alice", "request", at, files, f.g.Head("main"))
}

// decision is the decision the App would sign for grantYAML merged at at.
func decision(at time.Time) trailer.Decision {
	return trailer.Decision{
		Grants: []string{"prod/alice-inc-1"}, RequestedBy: []string{"alice"}, ApprovedBy: []string{"bob"},
		EligibleVia: []trailer.Via{{Login: "bob", Owner: "@acme/dba"}}, Policies: []string{"prod"},
		Duration: 2 * time.Hour, ExpiresAt: at.Add(2 * time.Hour), PullRequest: 7,
	}
}

func (f *fixture) read() desired.State {
	f.t.Helper()
	h, err := history.Open(f.g.Dir)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { h.Close() })
	st, err := desired.Read(context.Background(), desired.FromHistory(h), "main")
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func kinds(st desired.State) []string {
	var out []string
	for _, a := range st.Anomalies {
		out = append(out, string(a.Kind)+" "+a.File)
	}
	return out
}

func TestSignedMergeIsDesired(t *testing.T) {
	f := newFixture(t)
	at := t0.Add(time.Hour)
	head := f.request("pr", at, map[string]string{grantFile: grantYAML})
	merge := f.key.Merge(t, f.g, "main", at.Add(time.Minute), head, decision(at))
	st := f.read()
	if len(st.Anomalies) != 0 {
		t.Fatalf("anomalies: %v", st.Anomalies)
	}
	if len(st.Grants) != 1 {
		t.Fatalf("grants = %+v", st.Grants)
	}
	g := st.Grants[0]
	if g.Request.ID != "prod/alice-inc-1" || !g.ExpiresAt.Equal(at.Add(2*time.Hour)) || g.Decision != merge.String() || g.PullRequest != 7 {
		t.Errorf("grant = %+v (decision %s)", g, merge)
	}
	if st.Rev != merge.String() {
		t.Errorf("Rev = %s, want %s", st.Rev, merge)
	}
}

// Each attack from the hostile review, and each way a decision can fail its
// checks: nothing of these is ever desired.
func TestAnomalies(t *testing.T) {
	at := t0.Add(time.Hour)
	tests := map[string]struct {
		build func(f *fixture)
		want  []string
	}{
		"pushed straight to the branch, committer date in 2099": {func(f *fixture) {
			f.g.Commit("main", "mallory", "add grant", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), map[string]string{grantFile: grantYAML})
		}, []string{"not-merged " + grantFile}},
		"merged with the merge button (no decision)": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			f.g.Commit("main", "alice", "Merge pull request #7 from alice/pr", at, nil, f.g.Head("main"), head)
		}, []string{"no-decision " + grantFile}},
		"forged: signed by a key that is not in jit-signers": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			other := decisiontest.NewKey(t)
			other.Merge(t, f.g, "main", at, head, decision(at))
		}, []string{"bad-signature " + grantFile}},
		"forged: unsigned trailers": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			d := decision(at)
			d.Head = head.String()
			ts, _ := d.Trailers()
			f.g.Commit("main", "mallory", "Merge\n\n"+trailer.Format(ts), at, nil, f.g.Head("main"), head)
		}, []string{"bad-signature " + grantFile}},
		"the key is brought by the merged branch itself": {func(f *fixture) {
			mallory := decisiontest.NewKey(t)
			head := f.request("pr", at, map[string]string{grantFile: grantYAML, ".github/jit-signers": mallory.AllowedSigners()})
			mallory.Merge(t, f.g, "main", at, head, decision(at))
		}, []string{"bad-signature " + grantFile}},
		"replayed: a valid message on another merge": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			other := f.request("other", at, map[string]string{"README.md": "x"})
			d := decision(at)
			d.Head = other.String()
			f.g.Commit("main", "mallory", f.key.Message(t, d), at, nil, f.g.Head("main"), head)
		}, []string{"bad-decision " + grantFile}},
		"decision for another grant": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			d := decision(at)
			d.Grants = []string{"prod/alice-inc-2"}
			f.key.Merge(t, f.g, "main", at, head, d)
		}, []string{"bad-decision " + grantFile}},
		"evil merge: the merge changes the approved file": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			d := decision(at)
			d.Head = head.String()
			f.g.Commit("main", "mallory", f.key.Message(t, d), at, map[string]string{grantFile: strings.Replace(grantYAML, "2h", "2h\n# edited in the merge", 1)}, f.g.Head("main"), head)
		}, []string{"content-mismatch " + grantFile}},
		"duration in the file differs from the signed one": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: strings.Replace(grantYAML, "2h", "3h", 1)})
			f.key.Merge(t, f.g, "main", at, head, decision(at))
		}, []string{"bad-decision " + grantFile}},
		"signed expiry beyond the policy cap": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			d := decision(at)
			d.ExpiresAt = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
			f.key.Merge(t, f.g, "main", at, head, d)
		}, []string{"expiry-over-cap " + grantFile}},
		"extended by a direct push after a valid merge": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			f.key.Merge(t, f.g, "main", at, head, decision(at))
			f.g.Commit("main", "alice", "extend", at.Add(time.Hour), map[string]string{grantFile: strings.Replace(grantYAML, "2h", "4h", 1)})
		}, []string{"not-merged " + grantFile}},
		"revoked early, then its approved head merged again with the old decision": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			f.key.Merge(t, f.g, "main", at, head, decision(at))
			f.g.Commit("main", "security", "revoke early", at.Add(10*time.Minute), map[string]string{grantFile: ""})
			d := decision(at)
			d.Head = head.String()
			f.g.Commit("main", "mallory", f.key.Message(t, d), at.Add(20*time.Minute), map[string]string{grantFile: grantYAML}, f.g.Head("main"), head)
		}, []string{"replayed " + grantFile}},
		"replayed after commits whose clocks lie (dated before the approved head)": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			f.key.Merge(t, f.g, "main", at, head, decision(at))
			past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
			f.g.Commit("main", "security", "revoke early", past, map[string]string{grantFile: ""})
			f.g.Commit("main", "mallory", "more", past, map[string]string{"README.md": "y"})
			d := decision(at)
			d.Head = head.String()
			f.g.Commit("main", "mallory", f.key.Message(t, d), past, map[string]string{grantFile: grantYAML}, f.g.Head("main"), head)
		}, []string{"replayed " + grantFile}},
		"revoked, then added again under the same id with a signed decision": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			f.key.Merge(t, f.g, "main", at, head, decision(at))
			f.g.Commit("main", "security", "revoke early", at.Add(10*time.Minute), map[string]string{grantFile: ""})
			again := at.Add(20 * time.Minute)
			head2 := f.request("pr2", again, map[string]string{grantFile: grantYAML})
			f.key.Merge(t, f.g, "main", again, head2, decision(again))
		}, []string{"resurrected " + grantFile}},
		"no policy covered the file when it was merged": {func(f *fixture) {
			file := "access/dev/alice-inc-1.yaml"
			head := f.request("pr", at, map[string]string{file: grantYAML})
			d := decision(at)
			d.Grants = []string{"dev/alice-inc-1"}
			f.key.Merge(t, f.g, "main", at, head, d)
		}, []string{"no-policy access/dev/alice-inc-1.yaml"}},
		"a grant file that does not parse": {func(f *fixture) {
			head := f.request("pr", at, map[string]string{grantFile: grantYAML + "break_glass: maybe\n"})
			f.key.Merge(t, f.g, "main", at, head, decision(at))
		}, []string{"invalid-file " + grantFile}},
		"a target the policies at the merge do not allow": {func(f *fixture) {
			f.g.Commit("main", "admin", "targets", at.Add(-time.Minute), map[string]string{"policies/prod.hcl": withTargets(`"prod-orders"`)})
			head := f.request("pr", at, map[string]string{grantFile: grantYAML + "target: staging\n"})
			f.key.Merge(t, f.g, "main", at, head, decision(at))
		}, []string{"target-not-allowed " + grantFile}},
		"no target named where the policies allow two": {func(f *fixture) {
			f.g.Commit("main", "admin", "targets", at.Add(-time.Minute), map[string]string{"policies/prod.hcl": withTargets(`"prod-orders", "prod-billing"`)})
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			f.key.Merge(t, f.g, "main", at, head, decision(at))
		}, []string{"target-not-allowed " + grantFile}},
		"no jit-signers on the branch": {func(f *fixture) {
			f.g.Commit("main", "admin", "drop key", at.Add(-time.Minute), map[string]string{".github/jit-signers": ""})
			head := f.request("pr", at, map[string]string{grantFile: grantYAML})
			f.key.Merge(t, f.g, "main", at, head, decision(at))
		}, []string{"bad-signature " + grantFile}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			tc.build(f)
			st := f.read()
			if len(st.Grants) != 0 {
				t.Errorf("grants = %+v, want none", st.Grants)
			}
			if d := cmp.Diff(tc.want, kinds(st)); d != "" {
				t.Errorf("anomalies (-want +got):\n%s\n%v", d, st.Anomalies)
			}
			for _, a := range st.Anomalies {
				if a.Message == "" || (a.Kind != desired.InvalidFile && len(a.Commit) != 40) {
					t.Errorf("anomaly %+v lacks a message or its commit", a)
				}
			}
		})
	}
}

// withTargets is the prod policy of governing with targets = [list].
func withTargets(list string) string {
	return strings.Replace(prodPolicy, "approvals    = 1\n", "approvals    = 1\n  targets      = ["+list+"]\n", 1)
}

// TestTargetResolvedAtTheMerge checks that a grant's target comes from the
// policies at its merge's first parent: the one they allow when the file
// names none, and unchanged by later policy edits.
func TestTargetResolvedAtTheMerge(t *testing.T) {
	f := newFixture(t)
	at := t0.Add(time.Hour)
	f.g.Commit("main", "admin", "targets", at.Add(-time.Minute), map[string]string{"policies/prod.hcl": withTargets(`"prod-orders"`)})
	head := f.request("pr", at, map[string]string{grantFile: grantYAML})
	f.key.Merge(t, f.g, "main", at, head, decision(at))
	f.g.Commit("main", "admin", "retarget", at.Add(time.Minute), map[string]string{"policies/prod.hcl": withTargets(`"prod-billing"`)})
	st := f.read()
	if len(st.Anomalies) != 0 || len(st.Grants) != 1 {
		t.Fatalf("grants %+v, anomalies %v", st.Grants, st.Anomalies)
	}
	if g := st.Grants[0]; g.Target != "prod-orders" || g.Request.Target != "prod-orders" {
		t.Errorf("Target = %q, Request.Target = %q; want prod-orders for both", g.Target, g.Request.Target)
	}
}

func TestExtensionTakesTheNewSignedExpiry(t *testing.T) {
	f := newFixture(t)
	at := t0.Add(time.Hour)
	head := f.request("pr", at, map[string]string{grantFile: grantYAML})
	f.key.Merge(t, f.g, "main", at, head, decision(at))
	later := at.Add(time.Hour)
	ext := f.request("ext", later, map[string]string{grantFile: strings.Replace(grantYAML, "2h", "3h", 1)})
	d := decision(at)
	d.Duration, d.ExpiresAt, d.PullRequest = 3*time.Hour, at.Add(3*time.Hour), 8
	merge := f.key.Merge(t, f.g, "main", later, ext, d)
	st := f.read()
	if len(st.Anomalies) != 0 || len(st.Grants) != 1 {
		t.Fatalf("grants %+v, anomalies %v", st.Grants, st.Anomalies)
	}
	if g := st.Grants[0]; !g.ExpiresAt.Equal(at.Add(3*time.Hour)) || g.Decision != merge.String() || g.PullRequest != 8 {
		t.Errorf("grant = %+v", g)
	}
}

func TestOneBadGrantDoesNotHideAGoodOne(t *testing.T) {
	f := newFixture(t)
	at := t0.Add(time.Hour)
	head := f.request("pr", at, map[string]string{grantFile: grantYAML})
	f.key.Merge(t, f.g, "main", at, head, decision(at))
	f.g.Commit("main", "mallory", "sneak", at.Add(time.Minute), map[string]string{"access/prod/mallory.yaml": strings.Replace(grantYAML, "alice", "mallory", 1)})
	st := f.read()
	if len(st.Grants) != 1 || st.Grants[0].Request.ID != "prod/alice-inc-1" {
		t.Errorf("grants = %+v", st.Grants)
	}
	if d := cmp.Diff([]string{"not-merged access/prod/mallory.yaml"}, kinds(st)); d != "" {
		t.Errorf("anomalies (-want +got):\n%s", d)
	}
}

func TestUnknownRevisionIsAnError(t *testing.T) {
	f := newFixture(t)
	h, err := history.Open(f.g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := desired.Read(context.Background(), desired.FromHistory(h), "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("err = %v, want one naming the revision", err)
	}
}
