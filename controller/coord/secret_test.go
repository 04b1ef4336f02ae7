package coord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	const conn = "postgres://jit:p@ss w0rd@db.internal:5432/state"
	s := newSecrets(conn, "p@ss w0rd")
	for _, tc := range []struct {
		name string
		err  error
		want string
		is   error
	}{
		{"whole string", fmt.Errorf("cannot parse `%s`: bad", conn), "cannot parse `[redacted]`: bad", nil},
		{"password", errors.New("auth for p@ss w0rd refused"), "auth for [redacted] refused", nil},
		{"query-escaped password", errors.New("url ?password=p%40ss+w0rd"), "url ?password=[redacted]", nil},
		{"path-escaped password", errors.New("url jit:p@ss%20w0rd@db"), "url jit:[redacted]@db", nil},
		{"nothing secret", errors.New("connection refused"), "connection refused", nil},
		{"cancelled", fmt.Errorf("query p@ss w0rd: %w", context.Canceled), "query [redacted]: context canceled", context.Canceled},
		{"deadline", fmt.Errorf("dial: %w", context.DeadlineExceeded), "dial: context deadline exceeded", context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.redact(tc.err)
			if got.Error() != tc.want {
				t.Errorf("redact:\n got %s\nwant %s", got, tc.want)
			}
			if errors.Unwrap(got) != tc.is {
				t.Errorf("redact keeps %v in its chain, want only %v", errors.Unwrap(got), tc.is)
			}
		})
	}
	if s.redact(nil) != nil {
		t.Error("redact(nil) is not nil")
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("postgres://u:pw@h/db", "pw", "dial postgres://u:pw@h/db: pw")
	f.Add("host=h password=secret", "secret", "secretsecret")
	f.Add("", "", "message")
	f.Fuzz(func(t *testing.T, conn, password, msg string) {
		got := newSecrets(conn, password).redact(errors.New(msg)).Error()
		// What is left of the message between markers holds no secret. (A
		// secret holding a bracket could be rebuilt from a marker's edges
		// and is not checked.)
		left := strings.ReplaceAll(got, redacted, "[]")
		for _, v := range []string{conn, password} {
			if v != "" && !strings.ContainsAny(v, "[]") && strings.Contains(left, v) {
				t.Errorf("redact(%q) = %q still holds secret %q", msg, got, v)
			}
		}
	})
}
