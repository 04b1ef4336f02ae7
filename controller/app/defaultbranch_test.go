package app_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/explain"
	"github.com/jitops/jit/controller/history"
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
	got, tr := r.events()
	// The expiry pull request merges as soon as its checks pass, which the
	// emulator (like GitHub, often) does before the revoked record is written.
	want = []string{"decision " + id, "activated " + id, "expire " + id, "revoked " + id}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("records after expiry:\n got %q\nwant %q", got, want)
	}
	if len(tr.Anomalies) != 0 {
		t.Errorf("jit audit finds anomalies in the App's history: %+v", tr.Anomalies)
	}
}

func credentialDecryptAs(r *rig, n int, id, login string) ([]byte, error) {
	for _, c := range r.comments(n) {
		if strings.HasPrefix(c.Body, explain.CredentialsMarker+id+" ") {
			return credential.Decrypt([]byte(armored.FindString(c.Body)), r.sshKeys[login])
		}
	}
	return nil, nil
}
