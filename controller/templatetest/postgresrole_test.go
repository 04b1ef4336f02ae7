package templatetest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/internal/pgtest"
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
	w.mustApply(t, g.vars)

	role := w.output(t, "role")
	if want := roleName("prod/db/alice-inc-1234"); role != want || !strings.HasPrefix(role, "jit_prod_db_alice_inc_1234_") {
		t.Errorf("role = %q, want %q", role, want)
	}
	if got := w.output(t, "group_role"); got != "orders_read" {
		t.Errorf("group_role = %q, want orders_read", got)
	}
	got := c.Psql(t, "postgres", `
SELECT r.rolcanlogin, r.rolsuper, r.rolinherit, r.rolconnlimit, r.rolvaliduntil = :'exp'::timestamptz,
       (SELECT string_agg(g.rolname, ',') FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid)
  FROM pg_roles r WHERE r.rolname = :'role';`, "role="+role, "exp="+expires.UTC().Format(time.RFC3339))
	if want := "t|f|t|3|t|orders_read"; got != want {
		t.Errorf("login, super, inherit, connection limit, valid until ok, groups = %q, want %q", got, want)
	}
	if want := "jit grant prod/db/alice-inc-1234 for alice"; roleComment(t, c, role) != want {
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

	w.mustDestroy(t, g.vars)
	if roleExists(t, c, role) {
		t.Errorf("role %s still exists after destroy", role)
	}
	err := c.TryLogin("orders", role, g.password)
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("login after destroy: %v, want password authentication failed", err)
	}
}

// TestWriteGrantCanWrite joins the write group role.
func TestWriteGrantCanWrite(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "billing")
	g := newGrant(t, "billing", "prod/db/bob-write", time.Now().Add(time.Hour))
	g.vars["privileges"] = "write"
	g.vars["connection_limit"] = 1
	w := newWorkspace(t, c)
	w.mustApply(t, g.vars)
	role := w.output(t, "role")

	s := c.OpenSession(t, "billing", role, g.password)
	if _, err := s.Query("INSERT INTO items VALUES (2, 'written');"); err != nil {
		t.Errorf("INSERT with write privileges: %v", err)
	}
	// The connection limit of 1 is taken by the open session.
	err := c.TryLogin("billing", role, g.password)
	if err == nil || !strings.Contains(err.Error(), "too many connections for role") {
		t.Errorf("second session with connection_limit 1: %v, want too many connections", err)
	}
	w.mustDestroy(t, g.vars)
	if got := c.Psql(t, "billing", "SELECT note FROM items WHERE id = 2;"); got != "written" {
		t.Errorf("the written row = %q; data written through the grant must stay after revocation", got)
	}
}

// TestDestroyTerminatesSessions keeps a session open across the destroy: it
// must be terminated, not left running as a role that no longer exists.
func TestDestroyTerminatesSessions(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "live")
	w := newWorkspace(t, c)
	g := newGrant(t, "live", "prod/db/live-session", time.Now().Add(time.Hour))
	w.mustApply(t, g.vars)
	role := w.output(t, "role")
	s := c.OpenSession(t, "live", role, g.password)
	if got := c.Psql(t, "postgres", "SELECT count(*) FROM pg_stat_activity WHERE usename = :'r';", "r="+role); got != "1" {
		t.Fatalf("sessions of %s before destroy = %s, want 1", role, got)
	}

	w.mustDestroy(t, g.vars)

	_, err := s.Query("SELECT 1;")
	if err == nil || !strings.Contains(err.Error(), "terminating connection due to administrator command") {
		t.Errorf("the open session after destroy: %v, want it terminated", err)
	}
	if got := c.Psql(t, "postgres", "SELECT count(*) FROM pg_stat_activity WHERE usename = :'r';", "r="+role); got != "0" {
		t.Errorf("sessions of %s after destroy = %s, want 0", role, got)
	}
}

// TestDestroyIsIdempotent destroys twice, and destroys a role someone
// already dropped by hand: every run succeeds.
func TestDestroyIsIdempotent(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "idem")
	g := newGrant(t, "idem", "prod/db/idem", time.Now().Add(time.Hour))

	t.Run("twice", func(t *testing.T) {
		w := newWorkspace(t, c)
		w.mustApply(t, g.vars)
		w.mustDestroy(t, g.vars)
		w.mustDestroy(t, g.vars)
		if roleExists(t, c, roleName("prod/db/idem")) {
			t.Error("role exists after two destroys")
		}
	})
	t.Run("after a manual drop", func(t *testing.T) {
		w := newWorkspace(t, c)
		w.mustApply(t, g.vars)
		role := w.output(t, "role")
		c.Psql(t, "postgres", `DROP ROLE :"r";`, "r="+role)
		// The state still records the role, so the destroy provisioner runs
		// and must find nothing to do.
		w.mustDestroy(t, g.vars)
	})
}

// TestApplyTakesOverAnInterruptedCreate simulates a terraform killed after
// create.sql committed but before the state was saved: the role exists,
// the state does not know it. The next apply must converge on the same role,
// reset to exactly what the grant says, and its destroy must remove it.
func TestApplyTakesOverAnInterruptedCreate(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "orphan")
	g := newGrant(t, "orphan", "prod/db/orphan", time.Now().Add(time.Hour))
	first := newWorkspace(t, c)
	first.mustApply(t, g.vars)
	role := first.output(t, "role")
	// Meanwhile the role drifted: extra group, superuser, other password.
	c.Psql(t, "postgres", `CREATE ROLE orphan_extra; GRANT orphan_extra, orphan_write TO :"r";
ALTER ROLE :"r" SUPERUSER PASSWORD 'drifted';`, "r="+role)

	second := newWorkspace(t, c) // empty state: the first run's state is lost
	g2 := newGrant(t, "orphan", "prod/db/orphan", time.Now().Add(2*time.Hour))
	second.mustApply(t, g2.vars)
	if got := second.output(t, "role"); got != role {
		t.Fatalf("second apply made role %q, want the same %q", got, role)
	}
	got := c.Psql(t, "postgres", `
SELECT r.rolsuper, (SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid)
  FROM pg_roles r WHERE r.rolname = :'r';`, "r="+role)
	if got != "f|orphan_read" {
		t.Errorf("superuser, groups after take-over = %q, want f|orphan_read", got)
	}
	if err := c.TryLogin("orphan", role, g2.password); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
	if err := c.TryLogin("orphan", role, "drifted"); err == nil {
		t.Error("the drifted password still works")
	}
	second.mustDestroy(t, g2.vars)
	if roleExists(t, c, role) {
		t.Error("orphaned role survived the destroy")
	}
}

// TestExtensionKeepsSessions changes only expires_at (a grant extension):
// the role's VALID UNTIL moves and an open session survives.
func TestExtensionKeepsSessions(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "extend")
	g := newGrant(t, "extend", "prod/db/extend", time.Now().Add(time.Hour))
	w := newWorkspace(t, c)
	w.mustApply(t, g.vars)
	role := w.output(t, "role")
	s := c.OpenSession(t, "extend", role, g.password)

	later := time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339)
	g.vars["expires_at"] = later
	w.mustApply(t, g.vars)

	if got := c.Psql(t, "postgres", `SELECT rolvaliduntil = :'t'::timestamptz FROM pg_roles WHERE rolname = :'r';`, "r="+role, "t="+later); got != "t" {
		t.Errorf("VALID UNTIL after the extension is not %s", later)
	}
	if out, err := s.Query("SELECT 42;"); err != nil || out != "42" {
		t.Errorf("session after the extension: %q, %v; want it alive", out, err)
	}
	if err := c.TryLogin("extend", role, g.password); err != nil {
		t.Errorf("login after the extension: %v", err)
	}
	w.mustDestroy(t, g.vars)
}

// TestRoleNames checks the naming rule on the role terraform really creates.
func TestRoleNames(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "names")
	w := newWorkspace(t, c)
	tests := map[string]struct{ id, want string }{
		"path":               {"prod/db/alice-inc-1234", "jit_prod_db_alice_inc_1234_"},
		"upper case":         {"Prod/DB/Bob", "jit_prod_db_bob_"},
		"long":               {"prod/" + strings.Repeat("very-long-segment/", 10) + "x", "jit_prod_very_long_segment_ver_"},
		"cut at a separator": {"prod/db/very-long-segment_/x", "jit_prod_db_very_long_segment_"},
		"nothing safe":       {"ü/…/日本", "jit_"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := newGrant(t, "names", tc.id, time.Now().Add(time.Hour))
			w.mustApply(t, g.vars)
			defer w.mustDestroy(t, g.vars)
			role := w.output(t, "role")
			if role != roleName(tc.id) || !strings.HasPrefix(role, tc.want) {
				t.Errorf("role for %q = %q, want %q (prefix %q)", tc.id, role, roleName(tc.id), tc.want)
			}
			if len(role) > 63 {
				t.Errorf("role name %q is %d bytes, over PostgreSQL's 63", role, len(role))
			}
			if sum := role[len(role)-32:]; strings.Trim(sum, "0123456789abcdef") != "" || role[len(role)-33] != '_' {
				t.Errorf("role name %q does not end in _ and 32 hex digits (128 bits)", role)
			}
			if !roleExists(t, c, role) {
				t.Errorf("role %q does not exist", role)
			}
		})
	}
}

// TestMissingGroupRole: a database without the group roles of the
// convention fails the apply with PostgreSQL's message, and creates nothing.
func TestMissingGroupRole(t *testing.T) {
	c := pgtest.Shared(t)
	c.Psql(t, "postgres", "CREATE DATABASE nogroups;")
	w := newWorkspace(t, c)
	g := newGrant(t, "nogroups", "prod/db/nogroups", time.Now().Add(time.Hour))
	err := w.apply(t, g.vars)
	if err == nil {
		t.Fatal("apply without the group role succeeded")
	}
	for _, want := range []string{`role "nogroups_read" does not exist`, "grant TestMissingGroupRole: terraform apply", "ensure.sql"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if roleExists(t, c, roleName("prod/db/nogroups")) {
		t.Error("the failed apply left its role behind")
	}
	// The failed resource is tainted; destroying it must still succeed.
	w.mustDestroy(t, g.vars)
}
