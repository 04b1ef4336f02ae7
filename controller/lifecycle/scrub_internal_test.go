package lifecycle

import (
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"verifier in a psql line": {
			in:   `LINE 1: ALTER ROLE x PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy' VALID UNTIL`,
			want: `LINE 1: ALTER ROLE x PASSWORD 'SCRAM-SHA-256$…' VALID UNTIL`},
		"url password": {
			in:   `dial postgres://jit:hunter2@db.internal:5432/jit failed`,
			want: `dial postgres://jit:…@db.internal:5432/jit failed`},
		"keyword password": {
			in:   `host=db user=jit password=hunter2 dbname=jit`,
			want: `host=db user=jit password=… dbname=jit`},
		"quoted keyword password": {
			in:   `password = 'hunter 2' sslmode=require`,
			want: `password = … sslmode=require`},
		"nothing secret": {in: `role "x" does not exist`, want: `role "x" does not exist`},
	} {
		if got := scrub(tc.in); got != tc.want {
			t.Errorf("%s: scrub(%q) = %q, want %q", name, tc.in, got, tc.want)
		}
		if strings.Contains(scrub(tc.in), "hunter") {
			t.Errorf("%s: a password survived", name)
		}
	}
}

func FuzzScrub(f *testing.F) {
	f.Add("postgres://u:p@h/db password=x SCRAM-SHA-256$1:a$b:c")
	f.Fuzz(func(t *testing.T, s string) {
		out := scrub(s)
		if strings.Contains(out, "SCRAM-SHA-256$") && strings.Contains(out, "SCRAM-SHA-256$") && secretish[0].MatchString(strings.ReplaceAll(out, "SCRAM-SHA-256$…", "")) {
			t.Errorf("a verifier survived scrub(%q) = %q", s, out)
		}
		if scrub(out) != out {
			t.Errorf("scrub is not idempotent on %q: %q then %q", s, out, scrub(out))
		}
	})
}
