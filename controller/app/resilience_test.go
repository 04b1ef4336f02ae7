package app_test

import (
	"context"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/reconcile"
)

// liveGrant requests grant file content as id for alice, has bob approve it
// and returns the pull request and the credentials delivered on it.
func (r *rig) liveGrant(id, content string) (int, credential.Payload) {
	r.t.Helper()
	n := r.openPR("alice", "req-"+strings.ReplaceAll(id, "/", "-"), map[string]string{"access/" + id + ".yaml": content})
	r.settle()
	r.approve("bob", n)
	r.settle()
	if !r.pr(n).Merged {
		r.t.Fatalf("#%d not merged: %+v", n, r.check(n, approvalCheck))
	}
	cred := r.credentialsOf(n, id, "alice")
	if err := r.pg.TryLogin("orders", cred.Connection["role"], cred.Password); err != nil {
		r.t.Fatalf("the delivered credentials do not log in: %v", err)
	}
	return n, cred
}

// expiryPRs returns the pull requests from grant id's expiry branch.
func (r *rig) expiryPRs(id string) (all, merged int) {
	for _, p := range r.srv.PullRequests(repo) {
		if p.HeadRef == "jit/expire/"+id {
			all++
			if p.Merged {
				merged++
			}
		}
	}
	return all, merged
}

// gauge reads the gauge name (0 when it has no series).
func gauge(r *rig, name string) float64 {
	r.t.Helper()
	mfs, err := r.metrics.Registry().Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// failureComments counts the App's comments on pull request n saying that
// revoking grant id failed.
func (r *rig) failureComments(n int, id string) int {
	c := 0
	for _, cm := range r.comments(n) {
		if strings.HasPrefix(cm.Body, "### Revoking `"+id+"` failed") {
			c++
		}
	}
	return c
}

// TestPostgresDownAcrossExpiry: the PostgreSQL cluster (the target, and the
// state backend with the pass lock) is down when a grant expires. The
// passes at the expiry cannot even take their lock, so nothing is recorded
// (no controller could record it exactly once), but jit_grants_past_expiry
// shows the overdue grant. The role's own VALID UNTIL refuses the login even though jit could
// not destroy it. Once PostgreSQL is back the next pass destroys the role,
// the expiry pull request merges once, revoked is recorded once, and jit
// audit finds nothing amiss.
//
// The grant lasts one minute of real time, since PostgreSQL's clock (which
// judges VALID UNTIL) cannot be moved; the controller's clock is moved past
// the expiry at once, so the failing passes run while that minute passes.
func TestPostgresDownAcrossExpiry(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/orders/alice-1"
	n, cred := r.liveGrant(id, strings.Replace(aliceGrant, "duration: 2h", "duration: 1m", 1))
	role := cred.Connection["role"]
	realExpiry := time.Now().Add(time.Minute)

	r.pg.Stop(t)
	r.advance(time.Minute + 5*time.Second)
	r.failingPasses(n, id, false)

	// PostgreSQL is back; before jit's next pass the role exists but its
	// VALID UNTIL has passed.
	r.stop()
	if d := time.Until(realExpiry.Add(2 * time.Second)); d > 0 {
		time.Sleep(d)
	}
	r.pg.Restart(t)
	if !strings.Contains(r.roles(), role) {
		t.Fatalf("role %s is gone before jit destroyed it (roles %q)", role, r.roles())
	}
	if err := r.pg.TryLogin("orders", role, cred.Password); err == nil {
		t.Errorf("the role logs in after its expiry while jit could not destroy it")
	}

	r.start()
	r.healedRevocation(n, id, cred, false)
}

// TestTargetDownAcrossExpiry: at a grant's expiry the target cannot be
// reached (the templates' PG* settings point at a closed port) while the
// state backend can: each pass tries the destroy and fails; the failure is
// recorded and said once, the gauge shows it, the role stays; once the
// target is reachable again the next pass destroys it and everything is
// recorded once.
func TestTargetDownAcrossExpiry(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/orders/alice-1"
	n, cred := r.liveGrant(id, aliceGrant)
	role := cred.Connection["role"]

	port := os.Getenv("PGPORT")
	t.Setenv("PGPORT", closedPort(t))
	r.advance(2*time.Hour + time.Minute)
	r.failingPasses(n, id, true)
	if !strings.Contains(r.roles(), role) {
		t.Fatalf("role %s is gone though the target was unreachable (roles %q)", role, r.roles())
	}
	if all, _ := r.expiryPRs(id); all != 0 {
		t.Errorf("%d expiry pull requests opened before the destroy succeeded", all)
	}

	t.Setenv("PGPORT", port)
	r.healedRevocation(n, id, cred, true)
}

// closedPort returns a local TCP port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	return port
}

// failingPasses runs passes past grant id's expiry while its destroy cannot
// succeed, and checks the failure streak is recorded once (revoke-failed)
// and said once on the request pull request n when recorded (none at all
// otherwise), and counted by jit_grants_past_expiry.
func (r *rig) failingPasses(n int, id string, recorded bool) {
	t := r.t
	t.Helper()
	// The retries keep the App busy, so wait for the passes rather than
	// for quiet.
	for range 4 {
		before := testutilCount(r, "jit_passes_total")
		r.app.Reconcile()
		r.waitFor("a pass", func() bool { return testutilCount(r, "jit_passes_total") > before })
	}
	want := 0
	if recorded {
		want = 1
	}
	got, _ := r.events()
	if c := count(got, "revoke-failed", id); c != want {
		t.Errorf("%d revoke-failed records while the destroy cannot succeed, want %d: %q", c, want, got)
	}
	if c := count(got, "revoked", id); c != 0 {
		t.Errorf("revoked recorded while the destroy cannot succeed: %q", got)
	}
	if c := r.failureComments(n, id); c != want {
		t.Errorf("%d comments on #%d saying the revocation failed, want %d", c, n, want)
	}
	if g := gauge(r, "jit_grants_past_expiry"); g < 1 {
		t.Errorf("jit_grants_past_expiry = %v while the expired grant's role exists, want at least 1", g)
	}
}

// healedRevocation runs a pass once the destroy can succeed and checks that
// grant id's role is gone, its expiry pull request merged once, and its
// story recorded once, with the one earlier revoke-failed, and nothing for
// jit audit to flag.
func (r *rig) healedRevocation(n int, id string, cred credential.Payload, failedBefore bool) {
	t := r.t
	t.Helper()
	role := cred.Connection["role"]
	r.app.Reconcile()
	r.settle()
	r.waitFor("the expiry pull request to merge", func() bool { _, m := r.expiryPRs(id); return m > 0 })
	r.settle()
	if strings.Contains(r.roles(), role) {
		t.Errorf("role %s still exists once the destroy can succeed", role)
	}
	if err := r.pg.TryLogin("orders", role, cred.Password); err == nil {
		t.Errorf("the role logs in after it was destroyed")
	}
	got, tr := r.events()
	want := []string{"decision " + id, "activated " + id, "revoke-failed " + id, "expire " + id, "revoked " + id}
	comments := 1
	if !failedBefore {
		want = slices.Delete(want, 2, 3)
		comments = 0
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("records:\n got %q\nwant %q", got, want)
	}
	if all, merged := r.expiryPRs(id); all != 1 || merged != 1 {
		t.Errorf("%d expiry pull requests (%d merged), want 1 merged", all, merged)
	}
	for _, a := range tr.Anomalies {
		if a.Kind == audit.NotRevoked {
			t.Errorf("jit audit: %+v", a)
		}
	}
	if c := r.failureComments(n, id); c != comments {
		t.Errorf("%d comments on #%d saying the revocation failed, want still %d", c, n, comments)
	}
}

// TestDriftPassRestoresRole: a grant's role dropped by hand on the target
// is not noticed by a plain pass (terraform's state still says complete),
// and is re-created by a drift pass, with the password already delivered:
// no new credentials comment, no second activation record.
func TestDriftPassRestoresRole(t *testing.T) {
	r := newRig(t, rigOptions{lifecycle: true})
	const id = "prod/orders/alice-1"
	n, cred := r.liveGrant(id, aliceGrant)
	role := cred.Connection["role"]
	session := r.pg.OpenSession(t, "orders", role, cred.Password)

	r.pg.Psql(t, "postgres", `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :'role';
DROP ROLE :"role"`, "role="+role)
	if _, err := session.Query("SELECT 1;"); err == nil {
		t.Fatal("the session survived its role being dropped")
	}
	if err := r.pg.TryLogin("orders", role, cred.Password); err == nil {
		t.Fatal("the dropped role still logs in")
	}
	r.app.Reconcile()
	r.settle()
	if strings.Contains(r.roles(), role) {
		t.Errorf("a plain pass re-created the role: a pass with nothing to do must not run terraform per grant")
	}

	ctx := context.Background()
	drift, m := r.replica(ctx)
	rep, err := drift.Pass(ctx, m, reconcile.Options{Drift: true})
	if err != nil {
		t.Fatalf("the drift pass: %v", err)
	}
	if f := rep.Result.Failed(); len(f) != 0 || len(rep.Errors) != 0 {
		t.Fatalf("the drift pass failed: %+v %v", f, rep.Errors)
	}
	r.settle()
	if !strings.Contains(r.roles(), role) {
		t.Fatalf("the drift pass did not re-create role %s (roles %q)", role, r.roles())
	}
	if err := r.pg.TryLogin("orders", role, cred.Password); err != nil {
		t.Errorf("the delivered password does not log in to the restored role: %v", err)
	}
	creds := 0
	for _, c := range r.comments(n) {
		if strings.HasPrefix(c.Body, explain.CredentialsMarker) {
			creds++
		}
	}
	if creds != 1 {
		t.Errorf("%d credentials comments on #%d, want 1 (a restored role keeps its password)", creds, n)
	}
	r.wantStory("decision "+id, "activated "+id)
}
