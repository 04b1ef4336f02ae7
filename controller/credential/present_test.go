package credential_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/internal/pgtest"
)

var presentNow = time.Date(2026, 5, 1, 12, 0, 30, 0, time.UTC)

func TestPresent(t *testing.T) {
	base := credential.Payload{
		Version: 1, Grant: "prod/orders/alice-inc-1234", Template: "postgres-role", Requester: "alice",
		ExpiresAt:  "2026-05-01T14:00:00Z",
		Connection: map[string]string{"role": "jit_prod_orders_x", "database": "orders", "host": "db.internal", "port": "5432"},
		Password:   "AbC-_123",
	}
	with := func(f func(p *credential.Payload)) credential.Payload {
		p := base
		p.Connection = map[string]string{}
		for k, v := range base.Connection {
			p.Connection[k] = v
		}
		f(&p)
		return p
	}
	hint := "after the expiry PostgreSQL answers `password authentication failed for user \"jit_prod_orders_x\"`:\n" +
		"that means the grant expired, not that the password is wrong; ask for access again (jit request) or extend it before it ends (jit extend)\n"
	// plain is the output for base with the given expiry line.
	plain := func(expires string) string {
		return "grant:     prod/orders/alice-inc-1234 (template postgres-role, for alice)\nexpires:   " + expires + "\n" +
			`password:  AbC-_123
url:       postgresql://jit_prod_orders_x@db.internal:5432/orders
connect:   PGPASSWORD='AbC-_123' psql 'postgresql://jit_prod_orders_x@db.internal:5432/orders'
           (or run psql 'postgresql://jit_prod_orders_x@db.internal:5432/orders' and type the password when it asks)
` + hint
	}
	tests := []struct {
		name     string
		p        credential.Payload
		template string
		now      time.Time
		want     string
	}{
		{"postgres-role", base, "postgres-role", presentNow, plain("2026-05-01 14:00:00 UTC (in 1h59m)")},
		{"expired", base, "postgres-role", presentNow.Add(26 * time.Hour), plain("2026-05-01 14:00:00 UTC (expired 1d ago: ask for access again)")},
		{"socket directory and sslmode", with(func(p *credential.Payload) {
			p.Connection["host"] = "/var/run/postgresql"
			p.Connection["sslmode"] = "verify-full"
			delete(p.Connection, "port")
		}), "postgres-role", time.Date(2026, 5, 1, 13, 59, 30, 0, time.UTC), `grant:     prod/orders/alice-inc-1234 (template postgres-role, for alice)
expires:   2026-05-01 14:00:00 UTC (in less than a minute)
password:  AbC-_123
url:       postgresql://jit_prod_orders_x@/orders?host=%2Fvar%2Frun%2Fpostgresql&sslmode=verify-full
connect:   PGPASSWORD='AbC-_123' psql 'postgresql://jit_prod_orders_x@/orders?host=%2Fvar%2Frun%2Fpostgresql&sslmode=verify-full'
           (or run psql 'postgresql://jit_prod_orders_x@/orders?host=%2Fvar%2Frun%2Fpostgresql&sslmode=verify-full' and type the password when it asks)
` + hint},
		{"ipv6 host, no database", with(func(p *credential.Payload) {
			p.Connection["host"] = "::1"
			delete(p.Connection, "database")
		}), "postgres-role", time.Date(2026, 5, 1, 14, 0, 0, 0, time.UTC), `grant:     prod/orders/alice-inc-1234 (template postgres-role, for alice)
expires:   2026-05-01 14:00:00 UTC (now: the grant has just expired)
password:  AbC-_123
url:       postgresql://jit_prod_orders_x@?host=%3A%3A1&port=5432
connect:   PGPASSWORD='AbC-_123' psql 'postgresql://jit_prod_orders_x@?host=%3A%3A1&port=5432'
           (or run psql 'postgresql://jit_prod_orders_x@?host=%3A%3A1&port=5432' and type the password when it asks)
` + hint},
		{"quotes, spaces, @ and / in role and database", with(func(p *credential.Payload) {
			p.Connection["role"] = `it's a "role"@x/y`
			p.Connection["database"] = "my db?#%"
			p.Password = "it's"
		}), "postgres-role", presentNow, `grant:     prod/orders/alice-inc-1234 (template postgres-role, for alice)
expires:   2026-05-01 14:00:00 UTC (in 1h59m)
password:  it's
url:       postgresql://it%27s%20a%20%22role%22%40x%2Fy@db.internal:5432/my%20db%3F%23%25
connect:   PGPASSWORD='it'\''s' psql 'postgresql://it%27s%20a%20%22role%22%40x%2Fy@db.internal:5432/my%20db%3F%23%25'
           (or run psql 'postgresql://it%27s%20a%20%22role%22%40x%2Fy@db.internal:5432/my%20db%3F%23%25' and type the password when it asks)
after the expiry PostgreSQL answers ` + "`" + `password authentication failed for user "it's a \"role\"@x/y"` + "`" + `:
that means the grant expired, not that the password is wrong; ask for access again (jit request) or extend it before it ends (jit extend)
`},
		{"control characters never reach the terminal", with(func(p *credential.Payload) {
			p.Connection["role"] = "r\x1b[2Jx"
			p.Password = "p\nw\u202e"
			p.Requester = "al\rice"
		}), "postgres-role", presentNow, `grant:     prod/orders/alice-inc-1234 (template postgres-role, for "al\rice")
expires:   2026-05-01 14:00:00 UTC (in 1h59m)
password:  "p\nw\u202e"
url:       postgresql://r%1B%5B2Jx@db.internal:5432/orders
connect:   PGPASSWORD=$'p\x0aw\xe2\x80\xae' psql 'postgresql://r%1B%5B2Jx@db.internal:5432/orders'
           (or run psql 'postgresql://r%1B%5B2Jx@db.internal:5432/orders' and type the password when it asks)
after the expiry PostgreSQL answers ` + "`" + `password authentication failed for user "r\x1b[2Jx"` + "`" + `:
that means the grant expired, not that the password is wrong; ask for access again (jit request) or extend it before it ends (jit extend)
`},
		{"postgres-role without a role", with(func(p *credential.Payload) { delete(p.Connection, "role") }), "postgres-role", presentNow, `grant:     prod/orders/alice-inc-1234 (template postgres-role, for alice)
expires:   2026-05-01 14:00:00 UTC (in 1h59m)
database: orders
host: db.internal
port: 5432
password: AbC-_123
(the credential names no role, so there is no psql command line to print)
after the expiry PostgreSQL answers ` + "`" + `password authentication failed for user …` + "`" + `:
that means the grant expired, not that the password is wrong; ask for access again (jit request) or extend it before it ends (jit extend)
`},
		{"other template: every field sorted, no psql hint", with(func(p *credential.Payload) {
			p.Template = "redis-user"
			p.Connection = map[string]string{"user": "jit_x", "endpoint": "redis.internal:6379", "tls": "true", "weird\tkey": "v"}
		}), "redis-user", presentNow, `grant:     prod/orders/alice-inc-1234 (template redis-user, for alice)
expires:   2026-05-01 14:00:00 UTC (in 1h59m)
endpoint: redis.internal:6379
tls: true
user: jit_x
"weird\tkey": v
password: AbC-_123
`},
		{"unreadable expiry", with(func(p *credential.Payload) { p.Template = "x"; p.ExpiresAt = "tomorrow"; p.Connection = nil }), "x", presentNow,
			`grant:     prod/orders/alice-inc-1234 (template x, for alice)
expires:   tomorrow (unreadable: not an RFC 3339 time)
password: AbC-_123
`},
		{"long grant", base, "postgres-role", time.Date(2026, 4, 20, 11, 0, 0, 0, time.UTC), plain("2026-05-01 14:00:00 UTC (in 11d3h)")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := credential.Present(tt.p, tt.template, tt.now)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Present (-want +got):\n%s", d)
			}
		})
	}
}

// connectLine returns the PGPASSWORD=... psql ... line of Present's output.
func connectLine(t *testing.T, out string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "connect:   "); ok {
			return rest
		}
	}
	t.Fatalf("no connect: line in\n%s", out)
	return ""
}

// fakePsql puts on PATH a psql that prints $PGPASSWORD and its arguments,
// NUL-separated, so a real shell's reading of the line can be checked.
func fakePsql(t *testing.T) (bash string, env []string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("bash is not installed (CI=true)")
		}
		t.Skip("bash is not installed")
	}
	dir := t.TempDir()
	script := "#!/bin/sh\nprintf '%s\\0' \"$PGPASSWORD\" \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "psql"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bash, []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH")}
}

// TestPresentRoundTrip runs the printed command line through bash (with a
// psql that echoes what it received) and parses the URI back: every value
// must arrive exactly as it was in the credential.
func TestPresentRoundTrip(t *testing.T) {
	bash, env := fakePsql(t)
	tests := []struct {
		name string
		conn map[string]string
		pw   string
	}{
		{"plain", map[string]string{"role": "jit_a", "database": "orders", "host": "db.internal", "port": "5432"}, "AbC-_123"},
		{"spaces quotes @ / in role and database", map[string]string{"role": `a b'c"d@e/f:g`, "database": `x y/z@'"?#&=%`, "host": "10.0.0.1", "port": "6432"}, `p'w "$(id)" ` + "`id`"},
		{"percent sequences stay literal", map[string]string{"role": "%41%2F", "database": "%00%", "host": "h", "port": "1"}, "%41"},
		{"unicode and controls", map[string]string{"role": "rölle\u202e", "database": "db\nname\x01", "host": "h"}, "pw\x1b]0;x\a\\"},
		{"socket directory", map[string]string{"role": "r", "database": "d", "host": "/tmp/pg sock", "port": "5433"}, "x"},
		{"ipv6", map[string]string{"role": "r", "database": "d", "host": "fe80::1%eth0", "port": "5432"}, "x"},
		{"extra settings", map[string]string{"role": "r", "host": "h", "sslmode": "verify-full", "sslrootcert": "/etc/ssl/a b&c=d.pem"}, "x"},
		{"port that is no number", map[string]string{"role": "r", "host": "h", "port": "54 32"}, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := credential.Payload{Grant: "g", Template: "postgres-role", Requester: "alice",
				ExpiresAt: "2026-05-01T14:00:00Z", Connection: tt.conn, Password: tt.pw}
			line := connectLine(t, credential.Present(p, "postgres-role", presentNow))
			cmd := exec.Command(bash, "--norc", "--noprofile", "-c", line)
			cmd.Env = append(os.Environ(), env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("bash -c %q: %v: %s", line, err, stderr.String())
			}
			words := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if len(words) != 2 {
				t.Fatalf("psql received %q; want the password and one URI", words)
			}
			if words[0] != tt.pw {
				t.Errorf("PGPASSWORD = %q, want %q", words[0], tt.pw)
			}
			if got := parseURI(t, words[1]); !cmp.Equal(got, tt.conn) {
				t.Errorf("URI %s means (-want +got):\n%s", words[1], cmp.Diff(tt.conn, got))
			}
		})
	}
}

// parseURI reads a libpq URI back into connection settings, as libpq does:
// user, host and port from the authority, database from the path, the rest
// (host= and port= too) from the query, all percent-decoded.
func parseURI(t *testing.T, s string) map[string]string {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("URI %q: %v", s, err)
	}
	if u.Scheme != "postgresql" || u.User == nil {
		t.Fatalf("URI %q: want postgresql://USER@...", s)
	}
	if _, set := u.User.Password(); set {
		t.Fatalf("URI %q holds a password", s)
	}
	got := map[string]string{"role": u.User.Username()}
	if h := u.Hostname(); h != "" {
		got["host"] = h
	}
	if p := u.Port(); p != "" {
		got["port"] = p
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		got["database"] = db
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		t.Fatalf("URI %q: query: %v", s, err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			t.Fatalf("URI %q: %s given %d times", s, k, len(vs))
		}
		got[k] = vs[0]
	}
	return got
}

// TestPresentConnectsWithPsql runs the printed line, with the real psql,
// against a real server, for a role and a database whose names need
// quoting everywhere, and then checks the hint: once the role's VALID
// UNTIL has passed, the same line fails with "password authentication
// failed for user", as Present says it will.
func TestPresentConnectsWithPsql(t *testing.T) {
	c := pgtest.Shared(t)
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed to run the printed line")
	}
	const role, db, pw = `it's a "role"@x/y`, `my db?#%/@`, `p'w "$x" $(id)`
	c.Psql(t, "postgres", `CREATE DATABASE :"db";
CREATE ROLE :"role" LOGIN PASSWORD :'pw' VALID UNTIL 'infinity';
`, "db="+db, "role="+role, "pw="+pw)
	p := credential.Payload{Grant: "prod/x", Template: "postgres-role", Requester: "alice", ExpiresAt: "2026-05-01T14:00:00Z",
		Connection: map[string]string{"role": role, "database": db, "host": c.Host, "port": strconv.Itoa(c.Port), "sslmode": "disable"},
		Password:   pw}
	out := credential.Present(p, "postgres-role", presentNow)
	line := connectLine(t, out) + ` -X -At -w -c 'SELECT current_user || chr(124) || current_database()'`
	run := func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bash, "--norc", "--noprofile", "-c", line)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PGCONNECT_TIMEOUT=10"}
		b, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(b)), err
	}
	got, err := run()
	if err != nil {
		t.Fatalf("%s: %v: %s", line, err, got)
	}
	if want := role + "|" + db; got != want {
		t.Errorf("connected as %q, want %q", got, want)
	}

	c.Psql(t, "postgres", `ALTER ROLE :"role" VALID UNTIL '2000-01-01T00:00:00Z';`, "role="+role)
	got, err = run()
	if err == nil {
		t.Fatalf("%s: logged in after the role's VALID UNTIL: %s", line, got)
	}
	if !strings.Contains(got, "password authentication failed for user") || !strings.Contains(out, "password authentication failed for user") {
		t.Errorf("after the expiry psql said %q; Present's hint must quote that message:\n%s", got, out)
	}
}

// FuzzPresent checks, for any role, database, host, port and password, that
// the output holds no control character but its line ends (nothing in a
// credential can drive the terminal) and that the printed URI means exactly
// the connection settings.
func FuzzPresent(f *testing.F) {
	f.Add("jit_a", "orders", "db.internal", "5432", "AbC-_123")
	f.Add(`a b'c"d@e/f`, "x y/z?#&=%", "/tmp/pg sock", "54 32", "p'w\n\x1b")
	f.Add("%41", "%00", "fe80::1%eth0", "", "\u202e")
	f.Fuzz(func(t *testing.T, role, db, host, port, pw string) {
		if role == "" {
			return
		}
		conn := map[string]string{"role": role}
		for k, v := range map[string]string{"database": db, "host": host, "port": port} {
			if v != "" {
				conn[k] = v
			}
		}
		p := credential.Payload{Grant: "g", Template: "postgres-role", Requester: "alice",
			ExpiresAt: "2026-05-01T14:00:00Z", Connection: conn, Password: pw}
		out := credential.Present(p, "postgres-role", presentNow)
		for i, r := range out {
			if r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x202e) {
				t.Fatalf("output holds control character %U at byte %d:\n%q", r, i, out)
			}
		}
		var uri string
		for _, l := range strings.Split(out, "\n") {
			if rest, ok := strings.CutPrefix(l, "url:       "); ok {
				uri = rest
			}
		}
		if got := parseURI(t, uri); !cmp.Equal(got, conn) {
			t.Fatalf("URI %s means (-want +got):\n%s", uri, cmp.Diff(conn, got))
		}
	})
}
