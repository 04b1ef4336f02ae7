package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/decisiontest"
	"github.com/jitops/jit/controller/internal/gittest"
	"github.com/jitops/jit/controller/trailer"
)

var t0 = gittest.Start

func governing(k *decisiontest.Key) map[string]string {
	return map[string]string{
		".github/CODEOWNERS":  "/access/prod/ @acme/dba\n/.github/ @acme/security\n",
		".github/jit-signers": k.AllowedSigners(),
		"policies/prod.hcl": `policy "prod" {
  paths        = ["access/prod/**"]
  templates    = ["pg"]
  max_duration = "4h"
  approvals    = 1
  break_glass {
    allowed       = true
    max_duration  = "1h"
    review_window = "24h"
  }
}
`,
		"templates/pg/main.tf": "variable \"database\" {\n  type = string\n}\n",
	}
}

// fixture is an access repository whose main branch holds the governing
// files trusting key.
type fixture struct {
	t   testing.TB
	g   *gittest.Repo
	key *decisiontest.Key
	n   int
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, g: gittest.New(t), key: decisiontest.NewKey(t)}
	f.g.Commit("main", "admin", "governance", t0, governing(f.key))
	return f
}

func file(id string) string { return "access/" + id + ".yaml" }

func grantYAML(requester string, d time.Duration, breakGlass bool) string {
	y := fmt.Sprintf("template: pg\nrequester: %s\nduration: %s\nreason: Investigate stuck orders\nticket: INC-1\nscope:\n  database: orders\n", requester, durText(d))
	if breakGlass {
		y += "break_glass: true\n"
	}
	return y
}

func durText(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

// branch commits files on a new branch off main by login and returns its head.
func (f *fixture) branch(login string, at time.Time, files map[string]string) plumbing.Hash {
	f.n++
	return f.g.Commit(fmt.Sprintf("pr-%d", f.n), login, "change", at, files, f.g.Head("main"))
}

// decision is the decision the App signs for grantYAML(requester, d, false)
// merged at at.
func decision(id, requester string, at time.Time, d time.Duration) trailer.Decision {
	return trailer.Decision{
		Grants: []string{id}, RequestedBy: []string{requester}, ApprovedBy: []string{"bob"},
		EligibleVia: []trailer.Via{{Login: "bob", Owner: "@acme/dba"}}, Policies: []string{"prod"},
		Duration: d, ExpiresAt: at.Add(d), PullRequest: 7,
	}
}

// request merges a pull request adding grant id for alice (2h) at at.
func (f *fixture) request(id string, at time.Time) plumbing.Hash {
	f.t.Helper()
	head := f.branch("alice", at.Add(-time.Minute), map[string]string{file(id): grantYAML("alice", 2*time.Hour, false)})
	return f.key.Merge(f.t, f.g, "main", at, head, decision(id, "alice", at, 2*time.Hour))
}

// record commits a signed controller event on main at at.
func (f *fixture) record(at time.Time, ev trailer.Event) plumbing.Hash {
	f.t.Helper()
	if ev.Parent == "" {
		ev.Parent = f.g.Head("main").String()
	}
	ts, err := ev.Trailers()
	if err != nil {
		f.t.Fatal(err)
	}
	return f.g.Commit("main", "jit[bot]", f.key.SignedMessage(f.t, "jit: "+string(ev.Kind), ts), at, nil)
}

// expire merges the pull request deleting grant id with reason at at.
func (f *fixture) expire(id, reason string, at time.Time) plumbing.Hash {
	f.t.Helper()
	head := f.branch("jit[bot]", at.Add(-time.Minute), map[string]string{file(id): ""})
	ts, err := trailer.Event{Kind: trailer.Expire, Grants: []string{id}, Reason: reason, Head: head.String()}.Trailers()
	if err != nil {
		f.t.Fatal(err)
	}
	return f.g.Commit("main", "jit[bot]", f.key.SignedMessage(f.t, "Merge pull request #8", ts), at, nil, f.g.Head("main"), head)
}

func activated(id string, expires time.Time) trailer.Event {
	return trailer.Event{Kind: trailer.Activated, Grants: []string{id}, Resources: []string{"postgresql_role.grant"}, ExpiresAt: expires}
}

func revoked(id string) trailer.Event {
	return trailer.Event{Kind: trailer.Revoked, Grants: []string{id}, Resources: []string{"postgresql_role.grant"}}
}

// lifecycle plants a whole clean grant: merge at at, activated a minute
// later, expired two hours after the merge and revoked a minute after that.
func (f *fixture) lifecycle(id string, at time.Time) {
	f.t.Helper()
	f.request(id, at)
	f.record(at.Add(time.Minute), activated(id, at.Add(2*time.Hour)))
	f.expire(id, trailer.ReasonExpired, at.Add(2*time.Hour))
	f.record(at.Add(2*time.Hour+time.Minute), revoked(id))
}

func (f *fixture) read(opts audit.Options) *audit.Trail {
	f.t.Helper()
	return readDir(f.t, f.g.Dir, opts)
}

func readDir(t testing.TB, dir string, opts audit.Options) *audit.Trail {
	t.Helper()
	h, err := history.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	tr, err := audit.Read(context.Background(), h, "HEAD", opts)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func kinds(tr *audit.Trail) []string {
	var out []string
	for _, a := range tr.Anomalies {
		out = append(out, string(a.Kind)+" "+a.Grant)
	}
	return out
}

func TestCleanLifecycle(t *testing.T) {
	f := newFixture(t)
	at := t0.Add(time.Hour)
	const id = "prod/alice-inc-1"
	merge := f.request(id, at)
	act := f.record(at.Add(time.Minute), activated(id, at.Add(2*time.Hour)))
	exp := f.expire(id, trailer.ReasonExpired, at.Add(2*time.Hour))
	rev := f.record(at.Add(2*time.Hour+time.Minute), revoked(id))

	tr := f.read(audit.Options{Now: at.Add(5 * time.Hour)})
	if len(tr.Anomalies) != 0 {
		t.Fatalf("anomalies on a clean history: %v", tr.Anomalies)
	}
	if tr.Rev != rev.String() || tr.Truncated {
		t.Errorf("Rev = %s (truncated %t), want %s", tr.Rev, tr.Truncated, rev)
	}
	want := &audit.Story{
		ID: id, File: file(id), Requester: "alice", Template: "pg",
		Scope: map[string]any{"database": "orders"}, Reason: "Investigate stuck orders", Ticket: "INC-1",
		Duration: 2 * time.Hour, Approved: true, Policies: []string{"prod"},
		Approvers: []audit.Approver{{Login: "bob", Via: "@acme/dba"}}, PullRequest: 7,
		MergedAt: at, MergeCommit: merge.String(),
		ActivatedAt: at.Add(time.Minute), Resources: []string{"postgresql_role.grant"},
		ExpiresAt: at.Add(2 * time.Hour), RevokedAt: at.Add(2*time.Hour + time.Minute),
		Ending: audit.Expired, Cleanup: audit.CleanupRevoked,
		Steps: []audit.Step{
			{At: at, Commit: merge.String(), What: "requested", Verified: true},
			{At: at.Add(time.Minute), Commit: act.String(), What: "activated", Verified: true},
			{At: at.Add(2 * time.Hour), Commit: exp.String(), What: "expire", Verified: true},
			{At: at.Add(2*time.Hour + time.Minute), Commit: rev.String(), What: "revoked", Verified: true},
		},
	}
	got := tr.Story(id)
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(audit.Story{}), cmpopts.IgnoreFields(audit.Step{}, "Detail")); diff != "" {
		t.Errorf("story (-want +got):\n%s", diff)
	}
	if len(tr.Stories) != 1 {
		t.Errorf("%d stories, want 1", len(tr.Stories))
	}
	wantDetail := "pull request #7 merged for 2h, approved by [bob] (eligible via [bob @acme/dba]) under [prod], expires " + at.Add(2*time.Hour).UTC().Format(time.RFC3339)
	if d := got.Steps[0].Detail; d != wantDetail {
		t.Errorf("requested step detail %q, want %q", d, wantDetail)
	}
	js, err := json.Marshal(got)
	if err != nil || !strings.Contains(string(js), `"duration":"2h"`) || !strings.Contains(string(js), `"requester":"alice"`) {
		t.Errorf("JSON %s (%v): want the duration as 2h beside the other fields", js, err)
	}
}

func TestEarlyRevocationByLogin(t *testing.T) {
	f := newFixture(t)
	at := t0.Add(time.Hour)
	const id = "prod/alice-inc-1"
	f.request(id, at)
	f.record(at.Add(time.Minute), activated(id, at.Add(2*time.Hour)))
	f.expire(id, trailer.ReasonRevokedBy("carol"), at.Add(30*time.Minute))
	f.record(at.Add(31*time.Minute), revoked(id))
	tr := f.read(audit.Options{})
	s := tr.Story(id)
	if s.Ending != audit.RevokedEarly || s.RevokedBy != "carol" || !s.RevokedAt.Equal(at.Add(31*time.Minute)) {
		t.Errorf("ending %q by %q at %s, want revoked-early by carol at %s", s.Ending, s.RevokedBy, s.RevokedAt, at.Add(31*time.Minute))
	}
	if !tr.Now.Equal(at.Add(31 * time.Minute)) {
		t.Errorf("Now = %s, want the tip's time", tr.Now)
	}
	if len(tr.Anomalies) != 0 {
		t.Errorf("anomalies: %v", tr.Anomalies)
	}
}

// Each anomaly kind planted once is found, and only it.
func TestAnomalies(t *testing.T) {
	at := t0.Add(time.Hour)
	const id = "prod/alice-inc-1"
	later := audit.Options{Now: at.Add(48 * time.Hour)}
	tests := map[string]struct {
		build func(f *fixture)
		opts  audit.Options
		want  []string
		// commit returns the commit the anomaly must name.
		commit func(f *fixture) plumbing.Hash
	}{
		"pushed straight to the branch": {build: func(f *fixture) {
			f.g.Commit("main", "mallory", "add grant", at, map[string]string{file(id): grantYAML("mallory", time.Hour, false)})
		}, want: []string{"no-decision " + id}},
		"merged with the merge button": {build: func(f *fixture) {
			head := f.branch("alice", at, map[string]string{file(id): grantYAML("alice", 2*time.Hour, false)})
			f.g.Commit("main", "alice", "Merge pull request #7 from alice/pr", at, nil, f.g.Head("main"), head)
		}, want: []string{"no-decision " + id}},
		"signed by a key not in jit-signers": {build: func(f *fixture) {
			head := f.branch("alice", at, map[string]string{file(id): grantYAML("alice", 2*time.Hour, false)})
			decisiontest.NewKey(t).Merge(t, f.g, "main", at, head, decision(id, "alice", at, 2*time.Hour))
		}, want: []string{"bad-signature " + id}},
		"signature removed": {build: func(f *fixture) {
			head := f.branch("alice", at, map[string]string{file(id): grantYAML("alice", 2*time.Hour, false)})
			d := decision(id, "alice", at, 2*time.Hour)
			d.Head = head.String()
			ts, _ := d.Trailers()
			f.g.Commit("main", "jit[bot]", "Merge pull request #7\n\n"+trailer.Format(ts), at, nil, f.g.Head("main"), head)
		}, want: []string{"bad-signature " + id}},
		"expiry over the policy's cap": {build: func(f *fixture) {
			head := f.branch("alice", at, map[string]string{file(id): grantYAML("alice", 2*time.Hour, false)})
			d := decision(id, "alice", at, 2*time.Hour)
			d.ExpiresAt = at.Add(6 * time.Hour)
			f.key.Merge(t, f.g, "main", at, head, d)
			f.record(at.Add(6*time.Hour), revoked(id))
		}, want: []string{"over-cap " + id}},
		"approved via a team that does not own the file": {build: func(f *fixture) {
			head := f.branch("alice", at, map[string]string{file(id): grantYAML("alice", 2*time.Hour, false)})
			d := decision(id, "alice", at, 2*time.Hour)
			d.EligibleVia = []trailer.Via{{Login: "bob", Owner: "@acme/security"}}
			f.key.Merge(t, f.g, "main", at, head, d)
		}, opts: audit.Options{Now: at.Add(time.Hour)}, want: []string{"ineligible-approver " + id}},
		"approved via a user entry that is not an owner": {build: func(f *fixture) {
			head := f.branch("alice", at, map[string]string{file(id): grantYAML("alice", 2*time.Hour, false)})
			d := decision(id, "alice", at, 2*time.Hour)
			d.EligibleVia = []trailer.Via{{Login: "bob", Owner: "@bob"}}
			f.key.Merge(t, f.g, "main", at, head, d)
		}, opts: audit.Options{Now: at.Add(time.Hour)}, want: []string{"ineligible-approver " + id}},
		"owners changed after the merge are not held against it": {build: func(f *fixture) {
			f.lifecycle(id, at)
			f.g.Commit("main", "admin", "new owners", at.Add(3*time.Hour), map[string]string{".github/CODEOWNERS": "/access/prod/ @acme/sre\n"})
		}},
		"activation of a grant that was never approved": {build: func(f *fixture) {
			f.record(at, activated(id, at.Add(time.Hour)))
		}, want: []string{"activation-without-approval " + id}},
		"expired but never revoked": {build: func(f *fixture) {
			f.request(id, at)
			f.record(at.Add(time.Minute), activated(id, at.Add(2*time.Hour)))
		}, opts: later, want: []string{"not-revoked " + id}},
		"expiry merged but never revoked": {build: func(f *fixture) {
			f.request(id, at)
			f.record(at.Add(time.Minute), activated(id, at.Add(2*time.Hour)))
			f.expire(id, trailer.ReasonExpired, at.Add(2*time.Hour))
		}, want: []string{"not-revoked " + id}},
		"revoke-failed never followed by revoked": {build: func(f *fixture) {
			f.request(id, at)
			f.record(at.Add(time.Minute), activated(id, at.Add(2*time.Hour)))
			f.record(at.Add(2*time.Hour), trailer.Event{Kind: trailer.RevokeFailed, Grants: []string{id}, Error: "connection refused"})
			f.expire(id, trailer.ReasonExpired, at.Add(2*time.Hour+time.Minute))
		}, opts: later, want: []string{"revoke-failed " + id}},
		"resurrected id": {build: func(f *fixture) {
			f.lifecycle(id, at)
			f.request(id, at.Add(5*time.Hour))
		}, want: []string{"resurrected " + id}},
		"break-glass without a review in its window": {build: func(f *fixture) {
			f.breakGlass(id, at)
			f.record(at.Add(30*time.Hour), trailer.Event{Kind: trailer.BreakGlassReviewed, Grants: []string{id}, ReviewedBy: []string{"carol"}})
		}, opts: later, want: []string{"unreviewed-break-glass " + id}},
		"break-glass never reviewed": {build: func(f *fixture) {
			f.breakGlass(id, at)
		}, opts: later, want: []string{"unreviewed-break-glass " + id}},
		"break-glass reviewed in time": {build: func(f *fixture) {
			f.breakGlass(id, at)
			f.record(at.Add(3*time.Hour), trailer.Event{Kind: trailer.BreakGlassReviewed, Grants: []string{id}, ReviewedBy: []string{"carol"}})
		}, opts: later},
		"break-glass still inside its window": {build: func(f *fixture) {
			f.breakGlass(id, at)
		}, opts: audit.Options{Now: at.Add(5 * time.Hour)}},
		"renewed back to back three times": {build: func(f *fixture) {
			for i := range 3 {
				f.lifecycle(fmt.Sprintf("prod/alice-inc-%d", i+1), at.Add(time.Duration(i)*(2*time.Hour+5*time.Minute)))
			}
		}, want: []string{"standing-access prod/alice-inc-3"}},
		"renewed twice only": {build: func(f *fixture) {
			for i := range 2 {
				f.lifecycle(fmt.Sprintf("prod/alice-inc-%d", i+1), at.Add(time.Duration(i)*(2*time.Hour+5*time.Minute)))
			}
		}},
		"three renewals with a long gap": {build: func(f *fixture) {
			for i := range 3 {
				f.lifecycle(fmt.Sprintf("prod/alice-inc-%d", i+1), at.Add(time.Duration(i)*(3*time.Hour)))
			}
		}},
		"three renewals, threshold set to four": {build: func(f *fixture) {
			for i := range 3 {
				f.lifecycle(fmt.Sprintf("prod/alice-inc-%d", i+1), at.Add(time.Duration(i)*(2*time.Hour+5*time.Minute)))
			}
		}, opts: audit.Options{RenewalRun: 4}},
		"three renewals with a long gap, the gap option raised": {build: func(f *fixture) {
			for i := range 3 {
				f.lifecycle(fmt.Sprintf("prod/alice-inc-%d", i+1), at.Add(time.Duration(i)*(3*time.Hour)))
			}
		}, opts: audit.Options{RenewalGap: 2 * time.Hour}, want: []string{"standing-access prod/alice-inc-3"}},
		"three renewals for different scopes": {build: func(f *fixture) {
			for i := range 3 {
				id := fmt.Sprintf("prod/alice-inc-%d", i+1)
				at := at.Add(time.Duration(i) * (2*time.Hour + 5*time.Minute))
				head := f.branch("alice", at.Add(-time.Minute), map[string]string{file(id): strings.Replace(grantYAML("alice", 2*time.Hour, false), "database: orders", fmt.Sprintf("database: db%d", i), 1)})
				f.key.Merge(t, f.g, "main", at, head, decision(id, "alice", at, 2*time.Hour))
				f.record(at.Add(time.Minute), activated(id, at.Add(2*time.Hour)))
				f.expire(id, trailer.ReasonExpired, at.Add(2*time.Hour))
				f.record(at.Add(2*time.Hour+time.Minute), revoked(id))
			}
		}},
		"edited without a decision": {build: func(f *fixture) {
			f.request(id, at)
			f.g.Commit("main", "mallory", "longer", at.Add(time.Minute), map[string]string{file(id): grantYAML("alice", 4*time.Hour, false)})
		}, opts: audit.Options{Now: at.Add(time.Hour)}, want: []string{"no-decision " + id}},
		"activated record copied from another commit": {build: func(f *fixture) {
			f.request(id, at)
			ev := activated(id, at.Add(2*time.Hour))
			ev.Parent = f.g.Head("main").String()
			f.g.Commit("main", "admin", "unrelated", at.Add(time.Second), nil)
			f.record(at.Add(time.Minute), ev)
		}, opts: audit.Options{Now: at.Add(time.Hour)}, want: []string{"bad-record " + id}},
		"revoked record with a forged signature": {build: func(f *fixture) {
			f.request(id, at)
			f.record(at.Add(time.Minute), activated(id, at.Add(2*time.Hour)))
			f.expire(id, trailer.ReasonExpired, at.Add(2*time.Hour))
			other := &fixture{t: t, g: f.g, key: decisiontest.NewKey(t)}
			other.record(at.Add(2*time.Hour+time.Minute), revoked(id))
		}, want: []string{"bad-signature " + id, "not-revoked " + id}},
		"signed duration differs from the file's": {build: func(f *fixture) {
			head := f.branch("alice", at, map[string]string{file(id): grantYAML("alice", 2*time.Hour, false)})
			f.key.Merge(t, f.g, "main", at, head, decision(id, "alice", at, time.Hour))
		}, want: []string{"bad-record " + id}},
		"signed head is not the merged branch": {build: func(f *fixture) {
			head := f.branch("alice", at, map[string]string{file(id): grantYAML("alice", 2*time.Hour, false)})
			other := f.branch("alice", at, map[string]string{"README": "x"})
			d := decision(id, "alice", at, 2*time.Hour)
			d.Head = other.String()
			ts, _ := d.Trailers()
			f.g.Commit("main", "jit[bot]", f.key.SignedMessage(t, "Merge pull request #7", ts), at, nil, f.g.Head("main"), head)
		}, want: []string{"bad-record " + id}},
		"malformed trailers on an empty commit": {build: func(f *fixture) {
			f.g.Commit("main", "mallory", "note\n\nJit-Evnt: activated", at, nil)
		}, want: []string{"bad-record "}},
		"a path that cannot hold a grant": {build: func(f *fixture) {
			f.g.Commit("main", "mallory", "add", at, map[string]string{"access/prod/Alice.yaml": grantYAML("alice", time.Hour, false)})
		}, want: []string{"invalid-file prod/Alice"}},
		"unparsable grant file in a signed merge": {build: func(f *fixture) {
			head := f.branch("alice", at, map[string]string{file(id): "template: pg\nbogus: 1\n"})
			f.key.Merge(t, f.g, "main", at, head, decision(id, "alice", at, 2*time.Hour))
		}, want: []string{"invalid-file " + id}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			tc.build(f)
			tr := f.read(tc.opts)
			if diff := cmp.Diff(tc.want, kinds(tr), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("anomalies (-want +got):\n%s\n%v", diff, tr.Anomalies)
			}
			for _, a := range tr.Anomalies {
				if len(a.Commit) != 40 || a.Message == "" {
					t.Errorf("anomaly %v lacks its commit or message", a)
				}
			}
		})
	}
}

// breakGlass merges a break-glass grant at at (1h, no approvers), activates,
// expires and revokes it.
func (f *fixture) breakGlass(id string, at time.Time) {
	f.t.Helper()
	head := f.branch("alice", at.Add(-time.Minute), map[string]string{file(id): grantYAML("alice", time.Hour, true)})
	f.key.Merge(f.t, f.g, "main", at, head, trailer.Decision{
		Grants: []string{id}, RequestedBy: []string{"alice"}, Policies: []string{"prod"},
		Duration: time.Hour, ExpiresAt: at.Add(time.Hour), PullRequest: 9, BreakGlass: true,
	})
	f.record(at.Add(time.Minute), activated(id, at.Add(time.Hour)))
	f.expire(id, trailer.ReasonExpired, at.Add(time.Hour))
	f.record(at.Add(time.Hour+time.Minute), revoked(id))
}

// An extension is a merge like a request: the new expiry counts.
func TestExtension(t *testing.T) {
	f := newFixture(t)
	at := t0.Add(time.Hour)
	const id = "prod/alice-inc-1"
	f.request(id, at)
	head := f.branch("alice", at.Add(time.Hour), map[string]string{file(id): grantYAML("alice", 3*time.Hour, false)})
	d := decision(id, "alice", at, 3*time.Hour)
	ext := f.key.Merge(t, f.g, "main", at.Add(time.Hour), head, d)
	tr := f.read(audit.Options{Now: at.Add(150 * time.Minute)})
	s := tr.Story(id)
	if len(tr.Anomalies) != 0 || !s.ExpiresAt.Equal(at.Add(3*time.Hour)) || s.Duration != 3*time.Hour {
		t.Fatalf("anomalies %v, expires %s, duration %s; want none, %s, 3h", tr.Anomalies, s.ExpiresAt, s.Duration, at.Add(3*time.Hour))
	}
	if last := s.Steps[len(s.Steps)-1]; last.What != "extended" || last.Commit != ext.String() || !last.Verified ||
		!strings.HasPrefix(last.Detail, "pull request #7 merged for 3h, approved by [bob]") {
		t.Errorf("last step %+v, want the verified extension at %s for 3h", last, ext)
	}
}

// The anomalies name the commit that shows them.
func TestAnomalyCommits(t *testing.T) {
	f := newFixture(t)
	at := t0.Add(time.Hour)
	push := f.g.Commit("main", "mallory", "add grant", at, map[string]string{file("prod/m-1"): grantYAML("mallory", time.Hour, false)})
	f.request("prod/alice-inc-1", at.Add(time.Hour))
	failed := f.record(at.Add(2*time.Hour), trailer.Event{Kind: trailer.RevokeFailed, Grants: []string{"prod/alice-inc-1"}, Error: "timeout"})
	tr := f.read(audit.Options{Now: at.Add(10 * time.Hour)})
	got := map[string]string{}
	for _, a := range tr.Anomalies {
		got[string(a.Kind)] = a.Commit
	}
	want := map[string]string{"no-decision": push.String(), "revoke-failed": failed.String()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("anomaly commits (-want +got):\n%s", diff)
	}
}

// TestMergeHoldsWhatTheHeadDoesNot plants a signed merge whose tree holds
// a grant file other than the approved head's (an evil merge): the
// decision does not cover it, whichever reads the head's file (the
// verifier pool while walking, or Read itself).
func TestMergeHoldsWhatTheHeadDoesNot(t *testing.T) {
	f := newFixture(t)
	at := t0.Add(time.Hour)
	const id = "prod/alice-inc-1"
	head := f.branch("alice", at, map[string]string{file(id): grantYAML("alice", 2*time.Hour, false)})
	d := decision(id, "alice", at, 2*time.Hour)
	d.Head = head.String()
	merge := f.g.Commit("main", "jit[bot]", f.key.Message(t, d), at, map[string]string{file(id): grantYAML("alice", 2*time.Hour, false) + "# and more\n"}, f.g.Head("main"), head)
	tr := f.read(audit.Options{})
	want := []audit.Anomaly{{Kind: audit.BadRecord, Grant: id, Commit: merge.String(),
		Message: "the approved head " + audit.Short(head.String()) + " does not hold " + file(id) + " as merged"}}
	if diff := cmp.Diff(want, tr.Anomalies); diff != "" {
		t.Errorf("anomalies (-want +got):\n%s", diff)
	}
	if s := tr.Story(id); s == nil || s.Approved {
		t.Errorf("story %+v; want one not approved", s)
	}
}

func TestActive(t *testing.T) {
	f := newFixture(t)
	at := t0.Add(time.Hour)
	f.lifecycle("prod/alice-inc-1", at)                        // live at+1m .. at+2h1m
	f.request("prod/alice-inc-2", at.Add(3*time.Hour))         // no activation: inferred from the merge
	f.record(at.Add(4*time.Hour), revoked("prod/alice-inc-2")) // .. at+4h
	f.g.Commit("main", "mallory", "push", at.Add(5*time.Hour), map[string]string{file("prod/m-1"): grantYAML("mallory", time.Hour, false)})
	tr := f.read(audit.Options{})
	ids := func(ivs []audit.Interval) []string {
		var out []string
		for _, iv := range ivs {
			s := iv.Grant.ID
			if iv.Inferred {
				s += " (inferred)"
			}
			out = append(out, s)
		}
		return out
	}
	tests := map[string]struct {
		t1, t2 time.Time
		want   []string
	}{
		"before everything":           {t1: at},
		"at activation":               {t1: at.Add(time.Minute), want: []string{"prod/alice-inc-1"}},
		"inside the first window":     {t1: at.Add(time.Hour), want: []string{"prod/alice-inc-1"}},
		"at revocation":               {t1: at.Add(2*time.Hour + time.Minute)},
		"inside the inferred one":     {t1: at.Add(3*time.Hour + 30*time.Minute), want: []string{"prod/alice-inc-2 (inferred)"}},
		"between both":                {t1: at.Add(time.Hour), t2: at.Add(3*time.Hour + time.Minute), want: []string{"prod/alice-inc-1", "prod/alice-inc-2 (inferred)"}},
		"between the gap":             {t1: at.Add(2*time.Hour + 30*time.Minute), t2: at.Add(2*time.Hour + 40*time.Minute)},
		"a direct push is never live": {t1: at.Add(5*time.Hour + time.Minute)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			if tc.t2.IsZero() {
				got = ids(tr.Active(tc.t1))
			} else {
				got = ids(tr.Between(tc.t1, tc.t2))
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("live grants (-want +got):\n%s", diff)
			}
		})
	}
}

// A shallow clone is read as far as it goes and reported, not crashed on.
func TestShallowClone(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		if testing.Short() {
			t.Skip("no git binary")
		}
		t.Fatalf("the git binary is needed to make a shallow clone: %v", err)
	}
	f := newFixture(t)
	at := t0.Add(time.Hour)
	f.request("prod/alice-inc-1", at)
	f.record(at.Add(time.Minute), activated("prod/alice-inc-1", at.Add(2*time.Hour)))
	f.record(at.Add(2*time.Minute), trailer.Event{Kind: trailer.ActivationFailed, Grants: []string{"prod/alice-inc-1"}, ExpiresAt: at.Add(2 * time.Hour), Error: "retry"})
	for _, depth := range []string{"1", "2"} {
		t.Run("depth "+depth, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "clone")
			out, err := exec.Command("git", "clone", "--quiet", "--depth", depth, "--branch", "main", "file://"+f.g.Dir, dir).CombinedOutput()
			if err != nil {
				t.Fatalf("git clone: %v\n%s", err, out)
			}
			tr := readDir(t, dir, audit.Options{Now: at.Add(time.Hour)})
			if !tr.Truncated {
				t.Error("Truncated = false")
			}
			ks := kinds(tr)
			if !slices.Contains(ks, "truncated-history ") {
				t.Errorf("anomalies %v, want truncated-history", ks)
			}
			s := tr.Story("prod/alice-inc-1")
			if s == nil || !s.Partial || s.Requester != "alice" {
				t.Fatalf("story = %+v, want a partial story of alice's grant", s)
			}
			if live := tr.Active(at.Add(50 * time.Minute)); len(live) != 1 || live[0].Grant != s {
				t.Errorf("live grants %+v, want alice's: a grant of unknown origin counts as live", live)
			}
			for _, a := range tr.Anomalies {
				if a.Kind != audit.Truncated {
					t.Errorf("unexpected anomaly %v", a)
				}
				if a.Kind == audit.Truncated && !strings.Contains(a.Message, "--unshallow") {
					t.Errorf("truncation message %q does not say what to do", a.Message)
				}
			}
		})
	}
}
