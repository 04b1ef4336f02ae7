package templatetest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/internal/pgtest"
)

// reassert applies vars forcing terraform_data.login to be re-created, as
// provision.Manager.Reassert does (the template's only re-runnable resource).
func (w *workspace) reassert(t testing.TB, vars map[string]any) []string {
	t.Helper()
	changed, err := w.tf.Apply(context.Background(), w.dir, w.writeVars(t, vars), "terraform_data.login")
	if err != nil {
		t.Fatalf("terraform apply -replace=terraform_data.login: %v", err)
	}
	return changed
}

// roleState is what ensure.sql sets on a role, as one comparable line.
func roleState(t testing.TB, c *pgtest.Cluster, role string) string {
	t.Helper()
	return c.Psql(t, "postgres", `
SELECT r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolinherit, r.rolconnlimit, r.rolvaliduntil AT TIME ZONE 'UTC',
       coalesce((SELECT string_agg(g.rolname || CASE WHEN m.admin_option THEN '+admin' ELSE '' END, ',' ORDER BY g.rolname)
                   FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), ''),
       coalesce((SELECT string_agg(coalesce(d.datname, '*') || ':' || array_to_string(s.setconfig, ';'), ',' ORDER BY d.datname NULLS FIRST)
                   FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase WHERE s.setrole = r.oid), '')
  FROM pg_roles r WHERE r.rolname = :'r';`, "r="+role)
}

// TestApplyRefusesAForeignRole: a role that already has the name the grant's
// role would get, but not this grant's comment (another grant's, or none),
// is never taken over: the apply fails naming the role and its comment, the
// role is untouched, and destroying the failed grant leaves it alone too.
func TestApplyRefusesAForeignRole(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "foreign")
	tests := map[string]struct {
		id      string
		comment string // "" for none
		says    string
	}{
		"another grant's comment":     {"prod/db/foreign-1", "jit grant prod/db/other for mallory", `its comment is 'jit grant prod/db/other for mallory'`},
		"no comment":                  {"prod/db/foreign-2", "", "it has no comment"},
		"a person's comment":          {"prod/db/foreign-3", "Bob's reporting role; don't touch", `its comment is 'Bob''s reporting role; don''t touch'`},
		"same grant, other requester": {"prod/db/foreign-4", "jit grant prod/db/foreign-4 for mallory", `its comment is 'jit grant prod/db/foreign-4 for mallory'`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			id := tc.id
			role := roleName(id)
			c.Psql(t, "postgres", `CREATE ROLE :"r" LOGIN PASSWORD 'theirs' CONNECTION LIMIT 7 IN ROLE foreign_write;`, "r="+role)
			if tc.comment != "" {
				c.Psql(t, "postgres", `COMMENT ON ROLE :"r" IS :'c';`, "r="+role, "c="+tc.comment)
			}
			t.Cleanup(func() { c.Psql(t, "postgres", `DROP ROLE IF EXISTS :"r";`, "r="+role) })
			before := roleState(t, c, role)

			w := newWorkspace(t, c)
			g := newGrant(t, "foreign", id, time.Now().Add(time.Hour))
			err := w.apply(t, g.vars)
			if err == nil {
				t.Fatal("apply took over a role that is not the grant's")
			}
			flat := strings.Join(strings.Fields(err.Error()), " ")
			for _, want := range []string{
				`role ` + role + ` already exists and is not this grant's: ` + tc.says + `, where this grant's role would say 'jit grant ` + id + ` for alice'`,
				"jit never takes over a role it did not create for this grant",
			} {
				if !strings.Contains(flat, want) {
					t.Errorf("error does not say %q:\n%v", want, err)
				}
			}
			if got := roleState(t, c, role); got != before {
				t.Errorf("the foreign role changed:\n got %s\nwant %s", got, before)
			}
			if got := roleComment(t, c, role); got != tc.comment {
				t.Errorf("comment = %q, want %q", got, tc.comment)
			}
			if err := c.TryLogin("foreign", role, "theirs"); err != nil {
				t.Errorf("the foreign role's own password: %v", err)
			}
			// The failed resource is tainted: destroying the grant must not
			// drop what was never its role.
			w.mustDestroy(t, g.vars)
			if !roleExists(t, c, role) || roleState(t, c, role) != before {
				t.Errorf("destroying the failed grant touched the foreign role")
			}
		})
	}
}

// TestReassertConverges: whatever was changed by hand on a live grant's role
// (dropped, expiry moved to infinity, made superuser, extra groups, admin
// option, session settings, connection limit), re-running the ensure
// resource puts back exactly what the grant says, keeps the grant's
// password, and does not end open sessions.
func TestReassertConverges(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "drift")
	c.Psql(t, "postgres", "CREATE ROLE drift_extra NOLOGIN;")
	w := newWorkspace(t, c)
	expires := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	g := newGrant(t, "drift", "prod/db/drift", expires)
	w.mustApply(t, g.vars)
	role := w.output(t, "role")
	want := roleState(t, c, role)
	wantUntil := expires.Format("2006-01-02 15:04:05")
	if !strings.HasPrefix(want, "t|f|f|t|3|"+wantUntil+"|drift_read|*:idle_session_timeout=15min;idle_in_transaction_session_timeout=15min") {
		t.Fatalf("role after apply = %s", want)
	}
	if got := w.reassert(t, g.vars); strings.Join(got, ",") != "terraform_data.login" {
		t.Errorf("reassert of an unchanged role re-created %v, want terraform_data.login only", got)
	}
	if got := roleState(t, c, role); got != want {
		t.Errorf("reassert of an unchanged role changed it:\n got %s\nwant %s", got, want)
	}

	t.Run("changed by hand", func(t *testing.T) {
		s := c.OpenSession(t, "drift", role, g.password)
		c.Psql(t, "postgres", `ALTER ROLE :"r" SUPERUSER CREATEROLE VALID UNTIL 'infinity' CONNECTION LIMIT -1 PASSWORD 'changed';
GRANT drift_extra, drift_write TO :"r";
GRANT drift_read TO :"r" WITH ADMIN OPTION;
ALTER ROLE :"r" SET search_path = 'evil';
ALTER ROLE :"r" IN DATABASE drift SET work_mem = '1GB';
ALTER ROLE :"r" RESET idle_session_timeout;`, "r="+role)
		w.reassert(t, g.vars)
		if got := roleState(t, c, role); got != want {
			t.Errorf("after reassert:\n got %s\nwant %s", got, want)
		}
		if err := c.TryLogin("drift", role, g.password); err != nil {
			t.Errorf("the grant's password after reassert: %v", err)
		}
		if err := c.TryLogin("drift", role, "changed"); err == nil {
			t.Error("the password set by hand still works")
		}
		if out, err := s.Query("SELECT 42;"); err != nil || out != "42" {
			t.Errorf("a session open across the reassert: %q, %v; want it alive", out, err)
		}
	})
	t.Run("dropped by hand", func(t *testing.T) {
		c.Psql(t, "postgres", `DROP ROLE :"r";`, "r="+role)
		w.reassert(t, g.vars)
		if got := roleState(t, c, role); got != want {
			t.Errorf("after reassert:\n got %s\nwant %s", got, want)
		}
		if got, want := roleComment(t, c, role), "jit grant prod/db/drift for alice"; got != want {
			t.Errorf("comment = %q, want %q", got, want)
		}
		if err := c.TryLogin("drift", role, g.password); err != nil {
			t.Errorf("the grant's password after the role was re-created: %v", err)
		}
	})
	w.mustDestroy(t, g.vars)
	if roleExists(t, c, role) {
		t.Error("role survived the destroy")
	}
}

// TestRoleReachesOnlyItsDatabase: with the set-up the README prescribes
// (CONNECT revoked from PUBLIC everywhere), the grant's role connects to its
// database and nowhere else; and a database that PUBLIC may connect to makes
// the apply fail, naming it, without creating the role.
func TestRoleReachesOnlyItsDatabase(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "mine")
	c.CreateDatabase(t, "theirs")
	w := newWorkspace(t, c)
	g := newGrant(t, "mine", "prod/db/only-mine", time.Now().Add(time.Hour))
	w.mustApply(t, g.vars)
	role := w.output(t, "role")
	if err := c.TryLogin("mine", role, g.password); err != nil {
		t.Fatalf("login to its own database: %v", err)
	}
	for _, db := range []string{"theirs", "postgres", "template1"} {
		err := c.TryLogin(db, role, g.password)
		if err == nil || !strings.Contains(err.Error(), "permission denied for database") {
			t.Errorf("login to %s: %v, want permission denied", db, err)
		}
	}
	w.mustDestroy(t, g.vars)

	// An operator forgot one database (or created one since).
	c.Psql(t, "postgres", "CREATE DATABASE forgotten;")
	t.Cleanup(func() { c.Psql(t, "postgres", "REVOKE CONNECT ON DATABASE forgotten FROM PUBLIC;") })
	g = newGrant(t, "mine", "prod/db/open-door", time.Now().Add(time.Hour))
	err := w.apply(t, g.vars)
	if err == nil {
		t.Fatal("apply succeeded although the role could connect to database forgotten")
	}
	flat := strings.Join(strings.Fields(err.Error()), " ")
	want := "role " + roleName("prod/db/open-door") + " could connect to databases other than mine: forgotten"
	if !strings.Contains(flat, want) || !strings.Contains(flat, "revoke CONNECT on those databases from PUBLIC") {
		t.Errorf("error does not say %q and what to do:\n%v", want, err)
	}
	if roleExists(t, c, roleName("prod/db/open-door")) {
		t.Error("the refused apply created the role")
	}
	w.mustDestroy(t, g.vars)
}

// TestSessionsPastExpiry pins down what the database itself enforces and
// what it does not: after VALID UNTIL no new login works, with no destroy
// (access ends on time even if every controller is down), but a session
// opened before keeps running (PostgreSQL checks the expiry only at login)
// until destroy terminates it. Sessions start with 15-minute idle timeouts,
// defaults the requester can change (SET is allowed to every role).
func TestSessionsPastExpiry(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "pastexpiry")
	w := newWorkspace(t, c)
	expires := time.Now().Add(10 * time.Second).Truncate(time.Second)
	g := newGrant(t, "pastexpiry", "prod/db/past-expiry", expires)
	w.mustApply(t, g.vars)
	role := w.output(t, "role")
	if err := c.TryLogin("pastexpiry", role, g.password); err != nil {
		t.Fatalf("login before expiry (%s): %v", expires.Format(time.RFC3339), err)
	}
	s := c.OpenSession(t, "pastexpiry", role, g.password)
	if out, err := s.Query("SHOW idle_session_timeout; SHOW idle_in_transaction_session_timeout;"); err != nil || out != "15min\n15min" {
		t.Errorf("the session's idle timeouts = %q, %v; want 15min and 15min", out, err)
	}

	time.Sleep(time.Until(expires) + time.Second)
	err := c.TryLogin("pastexpiry", role, g.password)
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("new login after VALID UNTIL: %v, want password authentication failed", err)
	}
	if !roleExists(t, c, role) {
		t.Error("the role vanished without a destroy")
	}
	if out, err := s.Query("SELECT note FROM items WHERE id = 1;"); err != nil || out != "first" {
		t.Errorf("the session opened before expiry, after it: %q, %v; PostgreSQL does not end it (the README says so)", out, err)
	}
	if _, err := s.Query("SET idle_session_timeout = 0;"); err != nil {
		t.Errorf("the requester can turn the idle timeout off (the README says so): %v", err)
	}

	w.mustDestroy(t, g.vars)
	if _, err := s.Query("SELECT 1;"); err == nil || !strings.Contains(err.Error(), "terminating connection due to administrator command") {
		t.Errorf("the session after destroy: %v, want it terminated", err)
	}
}
