package app_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/cli"
	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/decisiontest"
	"github.com/jitops/jit/controller/reconcile"
	"github.com/jitops/jit/controller/trailer"
)

// armored finds the age ciphertext in a credentials comment.
var armored = regexp.MustCompile(`(?s)-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----`)

// credentialsOf decrypts the credentials comment of grant id on pull
// request n with login's private SSH key.
func (r *rig) credentialsOf(n int, id, login string) credential.Payload {
	r.t.Helper()
	var found []string
	for _, c := range r.comments(n) {
		if strings.HasPrefix(c.Body, explain.CredentialsMarker+id+" ") {
			found = append(found, c.Body)
		}
	}
	if len(found) != 1 {
		r.t.Fatalf("want one credentials comment for %s on #%d, got %d", id, n, len(found))
	}
	ct := armored.FindString(found[0])
	if ct == "" {
		r.t.Fatalf("no age ciphertext in the credentials comment:\n%s", found[0])
	}
	plain, err := credential.Decrypt([]byte(ct), r.sshKeys[login])
	if err != nil {
		r.t.Fatalf("decrypting with %s's key: %v", login, err)
	}
	p, err := credential.ParsePayload(plain)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// events returns the signed lifecycle records on a fresh clone's main,
// oldest first, as "kind grant".
func (r *rig) events() ([]string, *audit.Trail) {
	r.t.Helper()
	dir := r.clone("alice")
	h, err := history.Open(dir)
	if err != nil {
		r.t.Fatal(err)
	}
	defer h.Close()
	tip, err := h.Resolve("refs/remotes/origin/main")
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	err = h.FirstParentChanges(context.Background(), tip, func(c history.Commit, _ []history.Change) bool {
		ts, err := trailer.Parse(c.Message)
		if err != nil || len(ts) == 0 {
			return true
		}
		switch {
		case trailer.IsEvent(ts):
			ev, err := trailer.EventFrom(ts)
			if err != nil {
				r.t.Errorf("commit %s: %v", c.Hash, err)
				return true
			}
			out = append([]string{string(ev.Kind) + " " + strings.Join(ev.Grants, ",")}, out...)
		default:
			d, err := trailer.DecisionFrom(ts)
			if err != nil {
				r.t.Errorf("commit %s: %v", c.Hash, err)
				return true
			}
			out = append([]string{"decision " + strings.Join(d.Grants, ",")}, out...)
		}
		return true
	})
	if err != nil {
		r.t.Fatal(err)
	}
	tr, err := audit.Read(context.Background(), h, tip, audit.Options{Now: r.now()})
	if err != nil {
		r.t.Fatal(err)
	}
	return out, tr
}

// TestGrantLifecycle goes from a request to its revocation through the
// App, the emulator, the real terraform and a real PostgreSQL: the
// approval merges, the merge applies the grant, the requester decrypts the
// credentials from the pull request with their SSH key and logs in; at
// expiry the role is dropped (its open session too), the expiry pull
// request is merged by GitHub's auto-merge, and git alone tells the whole
// story, every record signed.
func TestGrantLifecycle(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/orders/alice-1"
	n := r.openPR("alice", "req", map[string]string{"access/" + id + ".yaml": aliceGrant})
	r.settle()
	r.approve("bob", n)
	r.settle()
	if !r.pr(n).Merged {
		t.Fatalf("#%d not merged: %+v", n, r.check(n, approvalCheck))
	}
	r.waitFor("the credentials comment", func() bool {
		for _, c := range r.comments(n) {
			if strings.HasPrefix(c.Body, explain.CredentialsMarker) {
				return true
			}
		}
		return false
	})
	r.settle()
	cred := r.credentialsOf(n, id, "alice")
	role := cred.Connection["role"]
	if role == "" || cred.Password == "" || cred.Grant != id || cred.Requester != "alice" {
		t.Fatalf("credentials: %+v", cred)
	}
	if err := r.pg.TryLogin("orders", role, cred.Password); err != nil {
		t.Fatalf("the delivered credentials do not log in: %v", err)
	}
	if _, err := credentialDecryptAs(r, n, id, "bob"); err == nil {
		t.Errorf("bob decrypted alice's credentials")
	}
	session := r.pg.OpenSession(t, "orders", role, cred.Password)

	got, _ := r.events()
	want := []string{"decision " + id, "activated " + id}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("records after activation:\n got %q\nwant %q", got, want)
	}

	// The grant ends: the clock passes its expiry.
	r.advance(2*time.Hour + time.Minute)
	r.app.Reconcile()
	r.settle()
	r.waitFor("the expiry pull request to merge", func() bool {
		for _, p := range r.srv.PullRequests(repo) {
			if p.HeadRef == "jit/expire/"+id && p.Merged {
				return true
			}
		}
		return false
	})
	r.settle()
	if err := r.pg.TryLogin("orders", role, cred.Password); err == nil {
		t.Errorf("the role still logs in after the expiry")
	}
	if out, err := session.Query("SELECT 1;"); err == nil || !strings.Contains(err.Error(), "terminating connection due to administrator command") {
		t.Errorf("the session opened before the expiry: %q, %v; want it terminated", out, err)
	}
	// The expiry pull request merges as soon as its checks pass, which the
	// emulator (like GitHub, often) does before the revoked record is written.
	r.wantStory("decision "+id, "activated "+id, "expire "+id, "revoked "+id)
}

func credentialDecryptAs(r *rig, n int, id, login string) ([]byte, error) {
	for _, c := range r.comments(n) {
		if strings.HasPrefix(c.Body, explain.CredentialsMarker+id+" ") {
			return credential.Decrypt([]byte(armored.FindString(c.Body)), r.sshKeys[login])
		}
	}
	return nil, nil
}

// roles lists the login roles the grants of this rig made.
func (r *rig) roles() string {
	return r.pg.Psql(r.t, "postgres", "SELECT coalesce(string_agg(rolname, ',' ORDER BY rolname), '') FROM pg_roles WHERE rolname LIKE 'jit\\_%'")
}

// count counts the records of kind for grant id.
func count(records []string, kind, id string) int {
	n := 0
	for _, r := range records {
		if r == kind+" "+id {
			n++
		}
	}
	return n
}

// TestGrantWithoutDecisionNeverApplied: a grant file pushed straight to the
// default branch, and one merged with trailers signed by a key
// .github/jit-signers does not trust, are never applied; each offending
// commit gets a failed jit/desired status, and the pass goes on.
func TestGrantWithoutDecisionNeverApplied(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	ctx := context.Background()
	direct, err := r.srv.Commit(ctx, repo, ghemuChange("main", "mallory", "add access", map[string]string{
		"access/prod/orders/mallory-1.yaml": grantFor("mallory")}))
	if err != nil {
		t.Fatal(err)
	}
	r.settle()
	forger := decisiontestKey(t)
	head, err := r.srv.Commit(ctx, repo, ghemuChange("forged", "mallory", "request", map[string]string{
		"access/prod/orders/mallory-2.yaml": grantFor("mallory")}))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := r.srv.Commit(ctx, repo, ghemuChange("main", "mallory", forger.Message(t, forgedDecision("prod/orders/mallory-2", head)),
		map[string]string{"access/prod/orders/mallory-2.yaml": grantFor("mallory")}))
	if err != nil {
		t.Fatal(err)
	}
	r.app.Reconcile()
	r.settle()
	if got := r.roles(); got != "" {
		t.Errorf("roles made for grants without a verified decision: %s", got)
	}
	for _, sha := range []string{direct, forged} {
		var found bool
		for _, s := range r.srv.Statuses(repo, sha) {
			if s.Context == "jit/desired" && s.State == "failure" && strings.Contains(s.Description, "never applied") {
				found = true
			}
		}
		if !found {
			t.Errorf("commit %s has no failed jit/desired status: %+v", sha, r.srv.Statuses(repo, sha))
		}
	}
	if n := testutilCount(r, "jit_anomalies_total"); n < 2 {
		t.Errorf("jit_anomalies_total = %v, want at least 2", n)
	}
}

// TestEarlyRevocation: the requester deletes their grant; the deletion
// merges without approval, its resources are destroyed at once and the
// revocation is recorded after the expire merge.
func TestEarlyRevocation(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/orders/alice-1"
	_, cred := r.liveGrant(id, aliceGrant)
	d := r.openPR("alice", "done", nil, "access/"+id+".yaml")
	r.settle()
	if !r.pr(d).Merged {
		t.Fatalf("the requester's deletion #%d did not merge: %+v", d, r.check(d, approvalCheck))
	}
	if err := r.pg.TryLogin("orders", cred.Connection["role"], cred.Password); err == nil {
		t.Errorf("the role still logs in after its early revocation")
	}
	r.wantStory("decision "+id, "activated "+id, "expire "+id, "revoked "+id)
}

// TestFailedStepsHeal: a record that GitHub refuses (after the apply), and
// an expiry pull request that cannot be opened (after the destroy), are
// done by the next pass, once each, with nothing applied or destroyed
// twice. A restart in between changes nothing.
func TestFailedStepsHeal(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/orders/alice-1"
	n := r.openPR("alice", "req", map[string]string{"access/" + id + ".yaml": aliceGrant})
	r.settle()
	// After the apply, before the activation record: GitHub refuses every
	// record until the App is stopped.
	r.srv.FailNext("POST /repos/{owner}/{repo}/git/commits", 1000, 422)
	r.approve("bob", n)
	r.waitFor("a refused activation record", func() bool { return recordErrors(r, "activated") > 0 })
	r.stop()
	r.srv.ClearFaults()
	got, _ := r.events()
	if count(got, "activated", id) != 0 {
		t.Fatalf("records after a refused record: %q", got)
	}
	r.start()
	r.app.Reconcile()
	r.settle()
	got, _ = r.events()
	if count(got, "activated", id) != 1 {
		t.Fatalf("records after the restart: %q, want one activation", got)
	}
	if c := len(r.comments(n)); c == 0 {
		t.Fatal("no comments")
	}
	creds := 0
	for _, c := range r.comments(n) {
		if strings.HasPrefix(c.Body, explain.CredentialsMarker) {
			creds++
		}
	}
	if creds != 1 {
		t.Errorf("%d credentials comments, want 1 (a healed record must not issue a new password)", creds)
	}
	// After the destroy, before the expiry pull request.
	r.advance(3 * time.Hour)
	r.srv.FailNext("POST /repos/{owner}/{repo}/git/trees", 1000, 422)
	r.app.Reconcile()
	r.waitFor("the destroy", func() bool { return r.roles() == "" })
	r.waitFor("a refused expiry pull request", func() bool { return treeRefused(r) })
	r.stop()
	r.srv.ClearFaults()
	if roles := r.roles(); roles != "" {
		t.Fatalf("roles left at expiry: %s", roles)
	}
	r.start()
	r.app.Reconcile()
	r.settle()
	r.wantStory("decision "+id, "activated "+id, "expire "+id, "revoked "+id)
}

func decisiontestKey(t *testing.T) *decisiontest.Key { return decisiontest.NewKey(t) }

// forgedDecision is a decision for id as the App would write it.
func forgedDecision(id, head string) trailer.Decision {
	return trailer.Decision{Grants: []string{id}, RequestedBy: []string{"mallory"}, ApprovedBy: []string{"bob"},
		EligibleVia: []trailer.Via{{Login: "bob", Owner: "@acme/dba"}}, Policies: []string{"prod"}, Duration: 2 * time.Hour,
		ExpiresAt: time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second), PullRequest: 99, Head: head}
}

// testutilCount sums every series of the counter family name.
func testutilCount(r *rig, name string) float64 {
	r.t.Helper()
	mfs, err := r.metrics.Registry().Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// recordErrors counts the records of kind GitHub refused.
func recordErrors(r *rig, kind string) float64 {
	mfs, err := r.metrics.Registry().Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "jit_records_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["event"] == kind && labels["result"] == "error" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// treeRefused reports whether a POST git/trees was answered 422.
func treeRefused(r *rig) bool {
	for _, q := range r.srv.APIRequests() {
		if q.Route == "POST /repos/{owner}/{repo}/git/trees" && q.Status == 422 {
			return true
		}
	}
	return false
}

// TestReplicasAndSweepAtOnce: at a grant's expiry the App, a second
// replica (another engine on the same state database) and jit expire (the
// Actions sweep) all run a pass at once. The resources are destroyed once,
// one expiry pull request merges, and every record is written once.
func TestReplicasAndSweepAtOnce(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/orders/alice-1"
	_, cred := r.liveGrant(id, aliceGrant)
	role := cred.Connection["role"]

	ctx := context.Background()
	replica, m := r.replica(ctx)

	r.advance(2*time.Hour + time.Minute)
	at := r.now().UTC().Format(time.RFC3339)
	var wg sync.WaitGroup
	var sweep, sweepErr string
	code := -1
	wg.Add(2)
	go func() {
		defer wg.Done()
		code, sweep, sweepErr = r.expire(ctx, "--state", "pg:"+r.pg.ConnString("jitstate"), "--now", at)
	}()
	go func() {
		defer wg.Done()
		if _, err := replica.Pass(ctx, m, reconcile.Options{}); err != nil {
			t.Errorf("the replica's pass: %v", err)
		}
	}()
	r.app.Reconcile()
	wg.Wait()
	r.settle()
	if code != cli.ExitOK {
		t.Errorf("jit expire exit %d\nstdout:\n%s\nstderr:\n%s", code, sweep, sweepErr)
	}
	if strings.Contains(r.roles(), role) {
		t.Errorf("role %s still exists", role)
	}
	r.wantStory("decision "+id, "activated "+id, "expire "+id, "revoked "+id)
	expiries := 0
	for _, p := range r.srv.PullRequests(repo) {
		if p.HeadRef == "jit/expire/"+id {
			expiries++
		}
	}
	if expiries != 1 {
		t.Errorf("%d expiry pull requests, want 1", expiries)
	}
}

// TestTamperedExpiryPullRequest: someone with write access pushes a new
// grant onto an expiry pull request's branch before it merges. The App
// fails both checks and disables auto-merge; the next pass refuses to use
// the branch; nothing of it reaches the default branch.
func TestTamperedExpiryPullRequest(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/orders/alice-1"
	r.liveGrant(id, aliceGrant)
	// The checks cannot be posted, so the expiry pull request waits.
	r.srv.FailNext("POST /repos/{owner}/{repo}/check-runs", 1000, 422)
	r.advance(3 * time.Hour)
	r.app.Reconcile()
	var expiry ghemu.PullRequest
	r.waitFor("the expiry pull request", func() bool {
		for _, p := range r.srv.PullRequests(repo) {
			if p.HeadRef == "jit/expire/"+id && p.AutoMergeBy != "" {
				expiry = p
				return true
			}
		}
		return false
	})
	r.settle()
	r.push("dave", "jit/expire/"+id, map[string]string{"access/prod/orders/dave-1.yaml": grantFor("dave")})
	r.srv.ClearFaults()
	r.settle()
	r.app.Reconcile()
	r.settle()
	got := r.pr(expiry.Number)
	if got.Merged {
		t.Fatalf("the tampered expiry pull request #%d merged", got.Number)
	}
	if got.AutoMergeBy != "" {
		t.Errorf("auto-merge is still enabled on the tampered expiry pull request (by %s)", got.AutoMergeBy)
	}
	for _, name := range []string{"jit/validate", approvalCheck} {
		if c := r.check(expiry.Number, name); c.Conclusion != "failure" {
			t.Errorf("%s on the tampered head: %s (%s)", name, c.Conclusion, c.Title)
		}
	}
	records, _ := r.events()
	for _, rec := range records {
		if strings.Contains(rec, "dave") {
			t.Errorf("dave's grant reached the default branch: %q", records)
		}
	}
	if count(records, "revoked", id) != 1 {
		t.Errorf("records: %q, want the revocation recorded once all the same", records)
	}
}

// TestActivationFailureRecordedOnceThenHealed: an apply that fails (its
// database does not exist yet) is recorded once as activation-failed and
// said on the pull request; retried with backoff, it succeeds once the
// database exists, and the activation is recorded.
func TestActivationFailureRecordedOnceThenHealed(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/billing/alice-1"
	n := r.openPR("alice", "req", map[string]string{"access/" + id + ".yaml": strings.Replace(aliceGrant, "database: orders", "database: billing", 1)})
	r.settle()
	r.approve("bob", n)
	r.waitLong("a failed activation recorded", func() bool {
		got, _ := r.events()
		return count(got, "activation-failed", id) > 0
	})
	var told bool
	for _, c := range r.comments(n) {
		told = told || strings.Contains(c.Body, "Activating") && strings.Contains(c.Body, "failed")
	}
	if !told {
		t.Errorf("the pull request was not told of the failed activation")
	}
	r.pg.CreateDatabase(t, "billing")
	r.waitFor("the activation", func() bool {
		got, _ := r.events()
		return count(got, "activated", id) > 0
	})
	r.settle()
	got, _ := r.events()
	if count(got, "activation-failed", id) != 1 || count(got, "activated", id) != 1 {
		t.Errorf("records: %q, want one activation-failed, then one activated", got)
	}
	cred := r.credentialsOf(n, id, "alice")
	if err := r.pg.TryLogin("billing", cred.Connection["role"], cred.Password); err != nil {
		t.Errorf("the healed grant does not log in: %v", err)
	}
}

// waitLong polls cond for up to two minutes (terraform and PostgreSQL at
// work).
func (r *rig) waitLong(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRecordsNeverRevertAMerge: in one pass one grant expires (its expiry
// pull request merges at once, moving the default branch) and another is
// applied; the records written after that merge go on the new tip with
// its files, so the expired grant's file stays deleted.
func TestRecordsNeverRevertAMerge(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const alice, carol = "prod/orders/alice-1", "prod/orders/carol-1"
	r.liveGrant(alice, aliceGrant)
	r.advance(2*time.Hour + time.Minute) // alice's grant is over; carol's asks for 4h
	c := r.openPR("carol", "req-c", map[string]string{"access/" + carol + ".yaml": strings.Replace(grantFor("carol"), "duration: 2h", "duration: 4h", 1)})
	r.settle()
	r.approve("bob", c)
	r.settle()
	r.app.Reconcile()
	r.settle()
	dir := r.clone("alice")
	if _, err := os.Stat(filepath.Join(dir, "access", alice+".yaml")); err == nil {
		t.Errorf("the expired grant's file is back on the default branch:\n%s", git(t, dir, nil, "log", "--stat", "-5", "--format=%h %s"))
	}
	if _, err := os.Stat(filepath.Join(dir, "access", carol+".yaml")); err != nil {
		t.Errorf("carol's grant file is gone: %v", err)
	}
	got, tr := r.events()
	for _, id := range []string{alice, carol} {
		if count(got, "activated", id) != 1 {
			t.Errorf("records: %q, want %s activated once", got, id)
		}
	}
	if count(got, "revoked", alice) != 1 || count(got, "expire", alice) != 1 {
		t.Errorf("records: %q, want alice's expiry and revocation once", got)
	}
	if len(tr.Anomalies) != 0 {
		t.Errorf("anomalies: %+v", tr.Anomalies)
	}
}

// TestNewStateRefusedWhereGitRecordsActivations: an operator leaves
// --new-state on and points jit expire at an empty state database. The
// branch records the grant's activation, so that state is not the grants':
// the pass is refused, nothing is applied twice and nothing is recorded.
func TestNewStateRefusedWhereGitRecordsActivations(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/orders/alice-1"
	r.liveGrant(id, aliceGrant)
	roles := r.roles()
	before, _ := r.events()
	r.pg.Psql(t, "postgres", "CREATE DATABASE otherstate")
	code, out, errOut := r.expire(context.Background(), "--state", "pg:"+r.pg.ConnString("otherstate"), "--new-state", "true")
	if code != cli.ExitProblems || !strings.Contains(errOut, "the default branch records that grant "+id+" was activated") {
		t.Errorf("jit expire on a wrong state with --new-state: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if got := r.roles(); got != roles {
		t.Errorf("roles changed: %q, was %q", got, roles)
	}
	if after, _ := r.events(); strings.Join(after, "|") != strings.Join(before, "|") {
		t.Errorf("records changed: %q, were %q", after, before)
	}
}
