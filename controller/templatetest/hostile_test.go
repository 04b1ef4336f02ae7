package templatetest_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jitops/jit/controller/internal/pgtest"
)

type hostileCase struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// hostileCorpus is testdata/hostile.json plus 10 KB of metacharacters.
func hostileCorpus(t *testing.T) []hostileCase {
	t.Helper()
	b, err := os.ReadFile("testdata/hostile.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []hostileCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("testdata/hostile.json: %v", err)
	}
	big := strings.Repeat("A'\";$(x)`\\\n${}%{}ü", 600)[:10*1024]
	for !utf8.ValidString(big) { // do not cut ü in half
		big = big[:len(big)-1]
	}
	return append(cases, hostileCase{Name: "10 KB", Value: big})
}

// snapshot is what must not change in the cluster when a grant is applied
// and destroyed: roles other than jit's, tables, rows; and how many jit roles
// there are.
func snapshot(t *testing.T, c *pgtest.Cluster, db string) (others string, jitRoles int) {
	t.Helper()
	others = c.Psql(t, db, `
SELECT string_agg(rolname || ':' || rolsuper, ',' ORDER BY rolname) FROM pg_roles WHERE rolname NOT LIKE 'jit\_%';
SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace;
SELECT string_agg(id || '=' || note, ',' ORDER BY id) FROM items;`)
	n, err := strconv.Atoi(c.Psql(t, db, `SELECT count(*) FROM pg_roles WHERE rolname LIKE 'jit\_%';`))
	if err != nil {
		t.Fatal(err)
	}
	return others, n
}

// clip shortens s for a failure message.
func clip(s string) string {
	if len(s) > 120 {
		return fmt.Sprintf("%q… (%d bytes)", s[:120], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// TestHostileReservedInputsAreInert applies grants whose grant_id and
// requester are hostile strings: apply succeeds, the role's comment holds
// them byte for byte, nothing else happens (no other role, no table, no
// changed row, no file), and destroy removes the role.
func TestHostileReservedInputsAreInert(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "hostile")
	w := newWorkspace(t, c)
	before, jitBefore := snapshot(t, c, "hostile")
	canaries := []string{filepath.Join(w.dir.Work, "jit-canary"), "jit-canary", filepath.Join(os.TempDir(), "jit-canary")}

	for _, tc := range hostileCorpus(t) {
		t.Run(tc.Name, func(t *testing.T) {
			g := newGrant(t, "hostile", tc.Value, time.Now().Add(time.Hour))
			g.vars["requester"] = tc.Value
			w.mustApply(t, g.vars)

			role := w.output(t, "role")
			if role != roleName(tc.Value) {
				t.Errorf("role = %q, want %q", role, roleName(tc.Value))
			}
			if got, want := roleComment(t, c, role), "jit grant "+tc.Value+" for "+tc.Value; got != want {
				t.Errorf("comment differs from the input:\n got %s\nwant %s", clip(got), clip(want))
			}
			if err := c.TryLogin("hostile", role, g.password); err != nil {
				t.Errorf("login: %v", err)
			}
			if got, n := snapshot(t, c, "hostile"); got != before || n != jitBefore+1 {
				t.Errorf("cluster after apply:\n%s\n%d jit roles\nwant as before plus one jit role:\n%s\n%d jit roles", got, n, before, jitBefore)
			}
			w.mustDestroy(t, g.vars)
			if got, n := snapshot(t, c, "hostile"); got != before || n != jitBefore {
				t.Errorf("cluster after destroy:\n%s\n%d jit roles\nwant as before:\n%s\n%d jit roles", got, n, before, jitBefore)
			}
			for _, p := range canaries {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("canary file %s exists: a value was run by a shell", p)
					os.Remove(p)
				}
			}
		})
	}
}

// TestHostileScopeIsRejected feeds the corpus to the scope inputs: terraform's
// own validation refuses each value with the template's message, and nothing
// reaches PostgreSQL.
func TestHostileScopeIsRejected(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "rejects")
	w := newWorkspace(t, c)
	before, jitBefore := snapshot(t, c, "rejects")
	messages := map[string]string{
		"database":   "The database must be a lower-case PostgreSQL identifier: a letter or underscore, then letters, digits or underscores, at most 57 characters (so that its group roles fit in 63).",
		"privileges": `The privileges must be "read" or "write".`,
	}
	corpus := append(hostileCorpus(t), hostileCase{"upper case", "Orders"}, hostileCase{"too long", strings.Repeat("a", 58)}, hostileCase{"empty", ""})
	for input, msg := range messages {
		for _, tc := range corpus {
			t.Run(input+"/"+tc.Name, func(t *testing.T) {
				g := newGrant(t, "rejects", "prod/db/rejects", time.Now().Add(time.Hour))
				g.vars[input] = tc.Value
				err := w.apply(t, g.vars)
				if err == nil {
					w.mustDestroy(t, g.vars)
					t.Fatalf("apply with %s = %s succeeded", input, clip(tc.Value))
				}
				if flat := strings.Join(strings.Fields(err.Error()), " "); !strings.Contains(flat, msg) || !strings.Contains(flat, "var."+input) {
					t.Errorf("apply with hostile %s: error does not name var.%s with %q:\n%v", input, input, msg, err)
				}
			})
		}
	}
	if got, n := snapshot(t, c, "rejects"); got != before || n != jitBefore {
		t.Errorf("cluster changed although every apply was rejected:\n%s\n%d jit roles\nwas:\n%s\n%d jit roles", got, n, before, jitBefore)
	}
}

// TestBadReservedValuesAreRejected: the controller supplies these, but the
// template still refuses malformed ones with a clear message.
func TestBadReservedValuesAreRejected(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "reserved")
	w := newWorkspace(t, c)
	tests := map[string]struct {
		input string
		value any
		want  string
	}{
		"expiry not RFC 3339":     {"expires_at", "tomorrow'; DROP ROLE x; --", "The expires_at must be an RFC 3339 UTC time such as 2024-05-01T14:00:00Z."},
		"expiry not UTC":          {"expires_at", "2030-01-01T10:00:00+02:00", "The expires_at must be an RFC 3339 UTC time"},
		"expiry impossible date":  {"expires_at", "2030-02-31T10:00:00Z", "The expires_at must be an RFC 3339 UTC time"},
		"plaintext password":      {"password_verifier", "hunter2", "The password_verifier must be a SCRAM-SHA-256 verifier"},
		"verifier with injection": {"password_verifier", "SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5'; DROP ROLE x; --", "The password_verifier must be a SCRAM-SHA-256 verifier"},
		"connection limit text":   {"connection_limit", "1; DROP ROLE x", "a number is required"},
		"connection limit zero":   {"connection_limit", 0, "The connection_limit must be a whole number from 1 to 20."},
		"connection limit many":   {"connection_limit", 1000, "The connection_limit must be a whole number from 1 to 20."},
		"connection limit half":   {"connection_limit", 1.5, "The connection_limit must be a whole number from 1 to 20."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := newGrant(t, "reserved", "prod/db/reserved", time.Now().Add(time.Hour))
			g.vars[tc.input] = tc.value
			err := w.apply(t, g.vars)
			if err == nil {
				w.mustDestroy(t, g.vars)
				t.Fatalf("apply with %s = %v succeeded", tc.input, tc.value)
			}
			flat := strings.Join(strings.Fields(err.Error()), " ")
			if !strings.Contains(flat, tc.want) {
				t.Errorf("error does not say %q:\n%v", tc.want, err)
			}
			if tc.input == "password_verifier" && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the sensitive value:\n%v", err)
			}
		})
	}
	if roleExists(t, c, roleName("prod/db/reserved")) {
		t.Error("a rejected apply created the role")
	}
}

// TestStringsTerraformChanges records what terraform itself does to strings
// before they reach the template: it normalises them to Unicode NFC (so the
// comment and the role name's hash follow the NFC form), and it cannot pass a
// NUL byte to a provisioner's environment (the apply fails and creates
// nothing). The controller should refuse such grant ids and logins earlier.
func TestStringsTerraformChanges(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "unusual")
	w := newWorkspace(t, c)

	t.Run("NFD becomes NFC", func(t *testing.T) {
		nfd, nfc := "prod/db/cafe\u0301", "prod/db/caf\u00e9"
		g := newGrant(t, "unusual", nfd, time.Now().Add(time.Hour))
		g.vars["requester"] = nfd
		w.mustApply(t, g.vars)
		defer w.mustDestroy(t, g.vars)
		role := w.output(t, "role")
		if role != roleName(nfc) {
			t.Errorf("role = %q, want %q (named from the NFC form)", role, roleName(nfc))
		}
		if got, want := roleComment(t, c, role), "jit grant "+nfc+" for "+nfc; got != want {
			t.Errorf("comment = %q, want %q", got, want)
		}
	})
	t.Run("NUL byte", func(t *testing.T) {
		_, jitBefore := snapshot(t, c, "unusual")
		g := newGrant(t, "unusual", "prod/db/nul\x00byte", time.Now().Add(time.Hour))
		err := w.apply(t, g.vars)
		if err == nil || !strings.Contains(strings.Join(strings.Fields(err.Error()), " "), "environment variable contains NUL") {
			t.Errorf("apply with a NUL byte in grant_id: %v, want the provisioner to refuse it", err)
		}
		if _, n := snapshot(t, c, "unusual"); n != jitBefore {
			t.Errorf("jit roles after the failed apply = %d, want %d", n, jitBefore)
		}
		w.mustDestroy(t, g.vars) // clears the tainted resource; its role never existed
	})
}
