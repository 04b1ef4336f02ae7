package coord

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
)

// redacted stands in for a secret in error messages and logs.
const redacted = "[redacted]"

// secrets are the strings that must never appear in an error or a log: the
// connection string and its password, as given and as URL-escaped.
type secrets []string

func newSecrets(connString, password string) secrets {
	var s secrets
	for _, v := range []string{connString, password, url.QueryEscape(password), url.PathEscape(password)} {
		if v != "" && !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	// Longest first, so a password inside the connection string never
	// leaves the rest of the string behind.
	slices.SortFunc(s, func(a, b string) int { return len(b) - len(a) })
	return s
}

// redact returns err with every secret in its message replaced. The result
// keeps no reference to err, whose chain may still hold a secret (pgx's
// errors carry their configuration), except that errors.Is still reports
// context cancellation and deadlines.
func (s secrets) redact(err error) error {
	if err == nil {
		return nil
	}
	// One pass: a marker put in is never searched again, and at each
	// position the longest secret wins.
	pairs := make([]string, 0, 2*len(s))
	for _, v := range s {
		pairs = append(pairs, v, redacted)
	}
	e := &redactedError{msg: strings.NewReplacer(pairs...).Replace(err.Error())}
	for _, cause := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, cause) {
			e.cause = cause
		}
	}
	return e
}

// redactedError is an error message with its secrets replaced.
type redactedError struct {
	msg   string
	cause error // context.Canceled, context.DeadlineExceeded or nil
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }
