package trailer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/request"
)

// TimeLayout is how Jit-Expires-At is written: RFC 3339, UTC, to the second.
const TimeLayout = "2006-01-02T15:04:05Z"

// field is one trailer key of a record, with the check its values must pass.
type field struct {
	key string
	// multi fields take one trailer per value; the others at most one.
	multi bool
	// fold compares values case-insensitively when looking for duplicates
	// (GitHub logins).
	fold bool
	// check returns what is wrong with a value, or "".
	check func(string) string
}

// problems collects what is wrong with a record.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// err returns nil or one error matching ErrMalformed listing every problem.
func (p problems) err(record string) error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", ErrMalformed, record, strings.Join(p, "; "))
}

// group reads the trailers of one record, which must follow the order of
// fields (one of the record's keys after another, a multi key's trailers
// together), into the values of each key. A final Jit-Signature is skipped.
// Every value is checked; duplicates are problems.
func group(ts []Trailer, fields []field, p *problems) map[string][]string {
	if n := len(ts); n > 0 && ts[n-1].Key == KeySignature {
		ts = ts[:n-1]
	}
	vals := map[string][]string{}
	pos := 0
	for i, t := range ts {
		j := fieldIndex(fields, t.Key)
		switch {
		case j < 0:
			p.add("trailer %d: %s does not belong here", i+1, t.Key)
			continue
		case j < pos:
			p.add("trailer %d: %s after %s; the order is %s", i+1, t.Key, fields[pos].key, orderOf(fields))
			continue
		case !fields[j].multi && len(vals[t.Key]) > 0:
			p.add("trailer %d: a second %s", i+1, t.Key)
			continue
		}
		pos = j
		if _, msg := checkValue(t.Value); msg != "" {
			p.add("trailer %d: %s: %s", i+1, t.Key, msg)
			continue
		}
		if msg := fields[j].check(t.Value); msg != "" {
			p.add("%s %q: %s", t.Key, clip(t.Value), msg)
			continue
		}
		for _, v := range vals[t.Key] {
			if v == t.Value || fields[j].fold && strings.EqualFold(v, t.Value) {
				p.add("%s %q appears twice", t.Key, clip(t.Value))
			}
		}
		vals[t.Key] = append(vals[t.Key], t.Value)
	}
	return vals
}

// emit returns the trailers of vals in the order of fields.
func emit(fields []field, vals map[string][]string) []Trailer {
	var ts []Trailer
	for _, f := range fields {
		for _, v := range vals[f.key] {
			ts = append(ts, Trailer{Key: f.key, Value: v})
		}
	}
	return ts
}

func fieldIndex(fields []field, key string) int {
	for i, f := range fields {
		if f.key == key {
			return i
		}
	}
	return -1
}

func orderOf(fields []field) string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return strings.Join(keys, ", ")
}

// one returns the single value of key, or "" when absent.
func one(vals map[string][]string, key string) string {
	if v := vals[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Value checks, shared by the records.

func checkGrantID(v string) string {
	id, problem := request.IDFromPath(request.Dir + "/" + v + request.Ext)
	if problem != "" {
		return "not a grant id: " + problem
	}
	if id != v {
		return "not a grant id"
	}
	return ""
}

// checkLogin accepts GitHub logins as the API returns them: 1 to 39 letters,
// digits, hyphens and underscores (Enterprise Managed Users), starting with a
// letter or digit. GitHub's own rules are stricter for new accounts, but old
// accounts keep the logins they were created with.
func checkLogin(v string) string {
	if !isName(v, 39, true) {
		return "not a GitHub login (letters, digits, - and _, at most 39, starting with a letter or digit)"
	}
	return ""
}

// ownerPattern is a CODEOWNERS owner as written: @login, @org/team or an
// email address.
var ownerPattern = regexp.MustCompile(`^(?:@[A-Za-z0-9][A-Za-z0-9_-]*(?:/[A-Za-z0-9_.-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+)$`)

// isName reports whether v is 1 to max letters, digits, '_' and '-',
// starting with a letter or digit; letters are lower case unless upper is
// set. Logins and policy names are checked on every record read, where a
// regular expression cost more than the rest of the check.
func isName(v string, max int, upper bool) bool {
	if v == "" || len(v) > max {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case 'A' <= c && c <= 'Z' && upper:
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// isSHA reports whether v is 40 lower-case hexadecimal digits.
func isSHA(v string) bool {
	if len(v) != 40 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func checkPolicy(v string) string {
	if !isName(v, 64, false) {
		return "not a policy name (lower-case letters, digits, - and _, at most 64)"
	}
	return ""
}

func checkSHA(v string) string {
	if !isSHA(v) {
		return "not a full commit SHA (40 lower-case hex digits)"
	}
	return ""
}

func checkOwner(v string) string {
	if !ownerPattern.MatchString(v) {
		return "not a CODEOWNERS owner as written there (@login, @org/team or an email address)"
	}
	return ""
}

// parseTime reads a Jit-Expires-At value: RFC 3339 UTC to the second.
func parseTime(v string) (time.Time, string) {
	t, err := time.Parse(TimeLayout, v)
	if err != nil || t.Format(TimeLayout) != v {
		return time.Time{}, "not an RFC 3339 UTC time to the second such as 2024-05-01T14:00:00Z"
	}
	if t.IsZero() {
		return time.Time{}, "the zero time"
	}
	return t, ""
}

func checkTime(v string) string {
	_, msg := parseTime(v)
	return msg
}

// formatTime writes t for Jit-Expires-At, or "" for the zero time (absent).
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// checkWholeSecond refuses a time formatTime would round, so that a record
// is never written with another value than its caller holds.
func checkWholeSecond(t time.Time, p *problems) {
	if t.Nanosecond() != 0 {
		p.add("%s %s has a fraction of a second; truncate it (t.Truncate(time.Second))", KeyExpiresAt, t.Format(time.RFC3339Nano))
	}
}

// parseDuration reads a Jit-Duration in the grant file's notation, written
// the one way grant.FormatDuration writes it ("2h", "1h30m", "45m").
func parseDuration(v string) (time.Duration, string) {
	d, err := grant.ParseDuration(v)
	if err != nil {
		return 0, err.Error()
	}
	if grant.FormatDuration(d) != v {
		return 0, fmt.Sprintf("write it %s", grant.FormatDuration(d))
	}
	return d, ""
}

func checkDuration(v string) string {
	_, msg := parseDuration(v)
	return msg
}

// parseNumber reads a positive decimal number without sign or leading zeros.
func parseNumber(v string) (int, string) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || strconv.Itoa(n) != v {
		return 0, "not a pull request number (a positive decimal number)"
	}
	return n, ""
}

func checkNumber(v string) string {
	_, msg := parseNumber(v)
	return msg
}

func checkAny(string) string { return "" }

// optional returns []string{v}, or nil when v is "" (absent).
func optional(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}
