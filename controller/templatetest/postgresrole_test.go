package templatetest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/pgtest"
)

// TestLoginWorksUntilDestroy applies a read grant, logs in with the plaintext
// password whose verifier went through terraform, reads but cannot write,
// then destroys and can no longer log in.
func TestLoginWorksUntilDestroy(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "orders")
	expires := time.Now().Add(time.Hour).Truncate(time.Second)
	g := newGrant(t, "orders", "prod/db/alice-inc-1234", expires)
	w := newWorkspace(t, c)
	w.mustApply(g.vars)

	role := w.output("role")
	if want := roleName("prod/db/alice-inc-1234"); role != want || !strings.HasPrefix(role, "jit_prod_db_alice_inc_1234_") {
		t.Errorf("role = %q, want %q", role, want)
	}
	if got := w.output("group_role"); got != "orders_read" {
		t.Errorf("group_role = %q, want orders_read", got)
	}
	got := c.Psql(t, "postgres", `
SELECT r.rolcanlogin, r.rolsuper, r.rolinherit, r.rolconnlimit, r.rolvaliduntil = :'exp'::timestamptz,
       (SELECT string_agg(g.rolname, ',') FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid)
  FROM pg_roles r WHERE r.rolname = :'role';`, "role="+role, "exp="+expires.UTC().Format(time.RFC3339))
	if want := "t|f|t|3|t|orders_read"; got != want {
		t.Errorf("login, super, inherit, connection limit, valid until ok, groups = %q, want %q", got, want)
	}
	if want := "jit grant prod/db/alice-inc-1234 for alice, expires " + expires.UTC().Format(time.RFC3339); roleComment(t, c, role) != want {
		t.Errorf("comment = %q, want %q", roleComment(t, c, role), want)
	}
	if !strings.HasPrefix(c.Psql(t, "postgres", `SELECT rolpassword FROM pg_authid WHERE rolname = :'role';`, "role="+role), "SCRAM-SHA-256$4096:") {
		t.Error("the role's stored password is not a SCRAM verifier")
	}

	if err := c.TryLogin("orders", role, g.password); err != nil {
		t.Fatalf("login before expiry: %v", err)
	}
	s := c.OpenSession(t, "orders", role, g.password)
	if out, err := s.Query("SELECT note FROM items WHERE id = 1;"); err != nil || out != "first" {
		t.Errorf("SELECT as the grant's role = %q, %v", out, err)
	}
	if _, err := s.Query("DELETE FROM items;"); err == nil || !strings.Contains(err.Error(), "permission denied for table items") {
		t.Errorf("DELETE with read privileges: %v, want permission denied", err)
	}
	s.Close()
	if err := c.TryLogin("orders", role, g.password+"x"); err == nil {
		t.Error("login with a wrong password succeeded")
	}

	w.mustDestroy(g.vars)
	if roleExists(t, c, role) {
		t.Errorf("role %s still exists after destroy", role)
	}
	err := c.TryLogin("orders", role, g.password)
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("login after destroy: %v, want password authentication failed", err)
	}
}
