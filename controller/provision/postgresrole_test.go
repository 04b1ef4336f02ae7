package provision_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/internal/pgtest"
)

// closePublicConnect is the operator's set-up step templates/postgres-role
// prescribes: no database of c may be connected to through PUBLIC.
func closePublicConnect(t testing.TB, c *pgtest.Cluster) {
	t.Helper()
	c.Psql(t, "postgres", `SELECT format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', datname) FROM pg_database WHERE datallowconn \gexec`)
}

// loginState is what the grant decides about a role: can log in, groups,
// expiry (UTC), as one line; "" when the role does not exist.
func loginState(t testing.TB, c *pgtest.Cluster, role string) string {
	t.Helper()
	return c.Psql(t, "postgres", `
SELECT r.rolcanlogin, r.rolsuper,
       (SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid),
       to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
  FROM pg_roles r WHERE r.rolname = :'r';`, "r="+role)
}

// TestPostgresRoleCredentialsAndDrift runs the shipped postgres-role
// template through the Manager against a real PostgreSQL: the delivered
// credential says how to connect and works; a role dropped by hand, or
// whose VALID UNTIL was moved to infinity, comes back exactly as granted
// on Reassert, with the ORIGINAL password; an extension moves the expiry
// without a new password or a dropped session.
func TestPostgresRoleCredentialsAndDrift(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "orders")
	e := pgEnv(t, c, "state_drift")
	closePublicConnect(t, c)
	e.templates = withPostgresRole(t)
	alice := newPerson(t)
	sink := &memSink{}
	e.keys, e.sink = memKeys{"alice": {alice.authorized}}, sink
	m := e.manager()
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	req := grant.Request{ID: "prod/db/alice-drift", File: "access/prod/db/alice-drift.yaml", Template: "postgres-role", Requester: "alice",
		Duration: time.Hour, Scope: map[string]any{"database": "orders"}}

	a, err := m.Apply(ctxFor(t), req, expires)
	if err != nil || !a.Delivered || !cmp.Equal(a.Resources, []string{"terraform_data.login", "terraform_data.role"}) {
		t.Fatalf("Apply = %+v, %v", a, err)
	}
	pl := alice.open(t, sink.got[req.ID])
	role := pl.Connection["role"]
	wantConn := map[string]string{"role": role, "database": "orders", "host": c.Host, "port": strconv.Itoa(c.Port)}
	if d := cmp.Diff(wantConn, pl.Connection); d != "" || !strings.HasPrefix(role, "jit_prod_db_alice_drift_") {
		t.Errorf("credential connection (-want +got):\n%s", d)
	}
	if pl.ExpiresAt != expires.Format(time.RFC3339) || pl.Grant != req.ID {
		t.Errorf("credential = %+v", pl)
	}
	if err := c.TryLogin("orders", role, pl.Password); err != nil {
		t.Fatalf("login with the delivered credential: %v", err)
	}
	granted := loginState(t, c, role)
	if want := "t|f|orders_read|" + expires.Format(time.RFC3339); granted != want {
		t.Fatalf("role = %q, want %q", granted, want)
	}
	delivered := string(sink.got[req.ID])

	t.Run("dropped by hand", func(t *testing.T) {
		c.Psql(t, "postgres", `DROP ROLE :"r";`, "r="+role)
		// A plain apply sees nothing to change: only Reassert re-checks
		// the target.
		if a, err := m.Apply(ctxFor(t), req, expires); err != nil || len(a.Resources) != 0 {
			t.Errorf("plain apply of an unchanged grant = %+v, %v", a, err)
		}
		a, err := m.Reassert(ctxFor(t), req, expires)
		if err != nil || a.Delivered || !cmp.Equal(a.Resources, []string{"terraform_data.login"}) {
			t.Fatalf("Reassert = %+v, %v; want terraform_data.login re-run, nothing delivered", a, err)
		}
		if got := loginState(t, c, role); got != granted {
			t.Errorf("role after Reassert = %q, want %q", got, granted)
		}
		if err := c.TryLogin("orders", role, pl.Password); err != nil {
			t.Errorf("the original password after Reassert: %v", err)
		}
	})
	t.Run("valid until infinity", func(t *testing.T) {
		s := c.OpenSession(t, "orders", role, pl.Password)
		c.Psql(t, "postgres", `ALTER ROLE :"r" VALID UNTIL 'infinity';`, "r="+role)
		if _, err := m.Reassert(ctxFor(t), req, expires); err != nil {
			t.Fatal(err)
		}
		if got := loginState(t, c, role); got != granted {
			t.Errorf("role after Reassert = %q, want %q", got, granted)
		}
		if out, err := s.Query("SELECT 7;"); err != nil || out != "7" {
			t.Errorf("a session open across the Reassert: %q, %v; want it alive", out, err)
		}
	})
	t.Run("extension", func(t *testing.T) {
		s := c.OpenSession(t, "orders", role, pl.Password)
		later := expires.Add(2 * time.Hour)
		a, err := m.Apply(ctxFor(t), req, later)
		if err != nil || a.Delivered || !cmp.Equal(a.Resources, []string{"terraform_data.login"}) {
			t.Fatalf("extension = %+v, %v", a, err)
		}
		if got, want := loginState(t, c, role), "t|f|orders_read|"+later.Format(time.RFC3339); got != want {
			t.Errorf("role after the extension = %q, want %q", got, want)
		}
		if err := c.TryLogin("orders", role, pl.Password); err != nil {
			t.Errorf("the original password after the extension: %v", err)
		}
		if out, err := s.Query("SELECT 8;"); err != nil || out != "8" {
			t.Errorf("a session open across the extension: %q, %v; want it alive", out, err)
		}
	})
	if string(sink.got[req.ID]) != delivered || len(sink.got) != 1 {
		t.Error("a credential was delivered again")
	}
	if _, err := m.Destroy(ctxFor(t), req.ID); err != nil {
		t.Fatal(err)
	}
	if got := loginState(t, c, role); got != "" {
		t.Errorf("role after destroy: %q", got)
	}
}
