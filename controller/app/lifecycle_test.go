package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/desired"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/trailer"
)

// mergedGrant runs a request through approval to the merge and returns the
// rig and the pull request number.
func mergedGrant(t *testing.T, file, content string) (*rig, int) {
	t.Helper()
	r := newRig(t, rigOptions{})
	n := r.openPR("alice", "req", map[string]string{file: content})
	r.settle()
	r.approve("bob", n)
	r.settle()
	if !r.pr(n).Merged {
		t.Fatalf("#%d not merged: %+v", n, r.check(n, approvalCheck))
	}
	return r, n
}

// readDesired reads the desired state of a fresh clone's main.
func readDesired(t *testing.T, r *rig) desired.State {
	t.Helper()
	h, err := history.Open(r.clone("alice"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	st, err := desired.Read(context.Background(), desired.FromHistory(h), "origin/main")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestAppMergeIsTrusted: the desired-state reader accepts exactly what the
// App writes: the grant, its approver, its policy and an expiry within the
// cap, with no anomaly.
func TestAppMergeIsTrusted(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Second)
	r, n := mergedGrant(t, "access/prod/orders/alice-1.yaml", aliceGrant)
	st := readDesired(t, r)
	if len(st.Anomalies) != 0 {
		t.Fatalf("anomalies: %+v", st.Anomalies)
	}
	if len(st.Grants) != 1 {
		t.Fatalf("grants: %+v", st.Grants)
	}
	g := st.Grants[0]
	if g.Request.ID != "prod/orders/alice-1" || g.PullRequest != n {
		t.Errorf("grant %s from #%d", g.Request.ID, g.PullRequest)
	}
	d := decisionOf(t, r, g.Decision)
	if strings.Join(d.ApprovedBy, ",") != "bob" || strings.Join(g.Policies, ",") != "prod" || strings.Join(d.RequestedBy, ",") != "alice" {
		t.Errorf("decision %+v policies %v", d, g.Policies)
	}
	if g.ExpiresAt.Before(start.Add(2*time.Hour)) || g.ExpiresAt.After(time.Now().Add(2*time.Hour)) {
		t.Errorf("expires at %s, want two hours after the merge (started %s)", g.ExpiresAt, start)
	}
	if len(d.EligibleVia) != 1 || d.EligibleVia[0] != (trailer.Via{Login: "bob", Owner: "@acme/dba"}) {
		t.Errorf("eligible via %+v, want bob via @acme/dba", d.EligibleVia)
	}
}

// TestDeletionByRequesterMergesWithoutApproval: early revocation by the
// requester merges at once with a signed expire record; a deletion by
// someone else waits for approval.
func TestDeletionByRequesterMergesWithoutApproval(t *testing.T) {
	const file = "access/prod/orders/alice-1.yaml"
	r, _ := mergedGrant(t, file, aliceGrant)

	other := r.openPR("mallory", "mallory-revokes", nil, file)
	r.settle()
	if r.pr(other).Merged {
		t.Fatal("mallory's deletion of alice's grant merged without approval")
	}
	if a := r.check(other, approvalCheck); a.Status == "completed" {
		t.Errorf("mallory's deletion: jit/approval %s/%s, want pending", a.Status, a.Conclusion)
	}
	if _, _, err := r.client("mallory").PullRequests.Edit(context.Background(), org, repo, other, &githubClosed); err != nil {
		t.Fatal(err)
	}

	n := r.openPR("alice", "alice-revokes", nil, file)
	r.settle()
	p := r.pr(n)
	if !p.Merged {
		t.Fatalf("alice's deletion of her own grant did not merge: %+v", r.check(n, approvalCheck))
	}
	msg := git(t, r.clone("alice"), nil, "log", "-1", "--format=%B", p.MergeCommitSHA) + "\n"
	ts, err := trailer.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := trailer.EventFrom(ts)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	if ev.Kind != trailer.Expire || ev.Reason != "revoked-by alice" || ev.Head != p.HeadSHA || strings.Join(ev.Grants, ",") != "prod/orders/alice-1" {
		t.Errorf("expire record %+v", ev)
	}
	r.expectSignedMerge(p.MergeCommitSHA, n)
	if st := readDesired(t, r); len(st.Grants) != 0 || len(st.Anomalies) != 0 {
		t.Errorf("after revocation: grants %+v anomalies %+v", st.Grants, st.Anomalies)
	}
}

// TestBreakGlass: a break-glass request merges at once with the label, the
// capped duration and Jit-Break-Glass; an eligible review afterwards is
// recorded once as a signed controller commit.
func TestBreakGlass(t *testing.T) {
	r := newRig(t, rigOptions{})
	bg := strings.Replace(aliceGrant, "duration: 2h", "duration: 1h\nbreak_glass: true", 1)
	n := r.openPR("alice", "bg", map[string]string{"access/prod/orders/alice-bg.yaml": bg})
	r.settle()
	p := r.pr(n)
	if !p.Merged {
		t.Fatalf("break-glass request not merged: %+v", r.check(n, approvalCheck))
	}
	if !contains(p.Labels, "jit/break-glass") {
		t.Errorf("labels %v, want jit/break-glass", p.Labels)
	}
	st := readDesired(t, r)
	if len(st.Grants) != 1 || len(st.Anomalies) != 0 {
		t.Fatalf("desired %+v anomalies %+v", st.Grants, st.Anomalies)
	}
	if d := decisionOf(t, r, st.Grants[0].Decision); !d.BreakGlass || d.Duration != time.Hour || len(d.ApprovedBy) != 0 {
		t.Errorf("break-glass decision %+v", d)
	}

	// Anyone who triages can take the label off: the record rests on the
	// merge's signed Jit-Break-Glass, not on the label.
	if _, _, err := r.client("mallory").Issues.ReplaceLabelsForIssue(context.Background(), org, repo, n, []string{}); err != nil {
		t.Fatal(err)
	}
	r.approve("dave", n) // not a code owner: nothing recorded
	r.settle()
	// Someone who can write to main forges a record: it is unsigned, so it
	// must not stop the real one.
	parent := git(t, r.clone("alice"), nil, "rev-parse", "origin/main")
	r.srv.Commit(context.Background(), repo, ghemuChange("main", "mallory", "Break-glass grant reviewed\n\nJit-Event: break-glass-reviewed\nJit-Grant: prod/orders/alice-bg\nJit-Reviewed-By: mallory\nJit-Parent: "+parent+"\n", map[string]string{"access/README.md": "forged\n"}))
	r.settle()
	r.approve("bob", n)
	r.settle()
	r.approve("carol", n) // a second review: still one record
	r.settle()
	log := git(t, r.clone("alice"), nil, "log", "--first-parent", "--format=%H%x00%B%x01", "main")
	var records []trailer.Event
	for _, c := range strings.Split(log, "\x01") {
		sha, msg, _ := strings.Cut(strings.TrimSpace(c), "\x00")
		ts, err := trailer.Parse(msg + "\n")
		if err != nil || !trailer.IsEvent(ts) {
			continue
		}
		ev, err := trailer.EventFrom(ts)
		if err != nil || ev.Kind != trailer.BreakGlassReviewed {
			continue
		}
		signers, _ := trailer.ParseAllowedSigners(".github/jit-signers", []byte(r.key.AllowedSigners()))
		if err := trailer.Verify(ts, signers); err != nil {
			if !strings.Contains(msg, "mallory") {
				t.Errorf("record %s: %v", sha, err)
			}
			continue
		}
		records = append(records, ev)
	}
	if len(records) != 1 {
		t.Fatalf("%d break-glass-reviewed records, want 1:\n%s", len(records), log)
	}
	if strings.Join(records[0].ReviewedBy, ",") != "bob" || strings.Join(records[0].Grants, ",") != "prod/orders/alice-bg" {
		t.Errorf("record %+v", records[0])
	}
}

// TestGovernanceChangeReevaluates: a CODEOWNERS change on the default branch
// re-evaluates open grant pull requests: an approval that counted no longer
// does, and the comment names the new owners.
func TestGovernanceChangeReevaluates(t *testing.T) {
	r := newRig(t, rigOptions{})
	n := r.openPR("alice", "req", map[string]string{"access/staging/alice-1.yaml": aliceGrant})
	r.settle()
	if c := r.comments(n); len(c) != 1 || !strings.Contains(c[0].Body, "acme/developers") {
		t.Fatalf("comment before: %+v", c)
	}
	r.srv.Commit(context.Background(), repo, ghemuChange("main", "", "security owns staging now", map[string]string{
		".github/CODEOWNERS": strings.Replace(codeowners, "/access/staging/  @acme/dba @acme/developers", "/access/staging/  @acme/security", 1)}))
	r.settle()
	c := r.comments(n)
	if len(c) != 1 || !strings.Contains(c[0].Body, "acme/security") || strings.Contains(c[0].Body, "acme/developers") {
		t.Fatalf("comment after the CODEOWNERS change: %+v", c)
	}
	r.approve("dave", n)
	r.settle()
	r.expect(n, outcome{validate: "success", approval: "in_progress", approvalSays: []string{"not a code owner"}})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decisionOf reads the decision trailers of merge sha.
func decisionOf(t *testing.T, r *rig, sha string) trailer.Decision {
	t.Helper()
	msg := git(t, r.clone("alice"), nil, "log", "-1", "--format=%B", sha) + "\n"
	ts, err := trailer.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := trailer.DecisionFrom(ts)
	if err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	return d
}

// TestRerequestEvaluatesAgain: an approval the App missed (webhooks lost)
// is seen when someone re-runs the jit/approval check from GitHub.
func TestRerequestEvaluatesAgain(t *testing.T) {
	r := newRig(t, rigOptions{})
	n := r.openPR("alice", "req", map[string]string{"access/prod/orders/alice-1.yaml": aliceGrant})
	r.settle()
	r.pause()
	r.approve("bob", n)
	r.srv.SetWebhookURL(r.hookURL) // deliveries again, but the approval was lost
	r.settle()
	if r.pr(n).Merged {
		t.Fatal("merged without having seen the approval")
	}
	id := r.check(n, approvalCheck).ID
	if _, err := r.client("alice").Checks.ReRequestCheckRun(context.Background(), org, repo, id); err != nil {
		t.Fatal(err)
	}
	r.settle()
	if !r.pr(n).Merged {
		t.Fatalf("a re-run of jit/approval did not evaluate the pull request again: %+v", r.check(n, approvalCheck))
	}
}

// TestAuditReadsWhatTheAppWrites: jit audit, from a clone alone, tells the
// story the App wrote: a request approved by bob via @acme/dba and merged,
// a break-glass grant reviewed afterwards, and an early revocation by the
// requester, with no anomaly.
func TestAuditReadsWhatTheAppWrites(t *testing.T) {
	const file = "access/prod/orders/alice-1.yaml"
	r, n := mergedGrant(t, file, aliceGrant)
	bg := strings.Replace(aliceGrant, "duration: 2h", "duration: 1h\nbreak_glass: true", 1)
	bgPR := r.openPR("alice", "bg", map[string]string{"access/prod/orders/alice-bg.yaml": bg})
	r.settle()
	r.approve("bob", bgPR)
	r.settle()
	revoke := r.openPR("alice", "revoke", nil, file)
	r.settle()
	if !r.pr(revoke).Merged {
		t.Fatal("revocation not merged")
	}
	h, err := history.Open(r.clone("alice"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	trail, err := audit.Read(context.Background(), h, "origin/main", audit.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range trail.Anomalies {
		// Nothing in #8 writes activated or revoked records yet (the
		// default-branch side does): only their absence may be reported.
		if a.Kind != "not-revoked" || a.Grant != "prod/orders/alice-1" {
			t.Errorf("anomaly %+v", a)
		}
	}
	s := trail.Story("prod/orders/alice-1")
	if s == nil || !s.Approved || s.PullRequest != n || s.Requester != "alice" || len(s.Approvers) != 1 || s.Approvers[0].Login != "bob" ||
		s.Ending != audit.RevokedEarly || s.RevokedBy != "alice" {
		t.Errorf("alice's story: %+v", s)
	}
	b := trail.Story("prod/orders/alice-bg")
	if b == nil || !b.Approved || !b.BreakGlass || strings.Join(b.ReviewedBy, ",") != "bob" {
		t.Errorf("break-glass story: %+v", b)
	}
}
