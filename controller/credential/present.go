package credential

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// PostgresTemplate is the template whose credentials Present turns into a
// ready psql command line.
const PostgresTemplate = "postgres-role"

// Present renders a decrypted credential for the requester who asked for
// it: what to connect with and until when, as lines of text ending in a
// newline. template is the grant's template (normally p.Template); now is the
// clock the time left is measured against.
//
// For postgres-role with a role it prints a libpq URI
// (postgresql://ROLE@HOST:PORT/DB, other connection settings as query
// parameters), a ready `PGPASSWORD=... psql URI` line and the password
// alone; and always the hint that, after the expiry, PostgreSQL answers
// "password authentication failed", which means the grant expired and not
// that the password is wrong. For any other template it prints every
// connection setting, sorted by name, then the password.
//
// Guarantees: every value in the URI is percent-encoded (only unreserved
// characters stay as they are), so a role or database holding spaces,
// quotes, '@', '/', '?', '%' or '#' reaches libpq unchanged; every word of
// the command line is shell-quoted (single quotes, or $'...' when a value
// holds a control character), so pasting the line into a POSIX shell runs
// psql with exactly these values and nothing else; and a value printed as
// text, outside a command line, is Go-quoted when it holds a control or
// other non-printing character, so nothing in a credential can drive the
// terminal. Present does not check p (ParsePayload does): an expiry that is
// not an RFC 3339 time is printed as it is, marked unreadable.
func Present(p Payload, template string, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "grant:     %s (template %s, for %s)\n", text(p.Grant), text(template), text(p.Requester))
	fmt.Fprintf(&b, "expires:   %s\n", expiry(p.ExpiresAt, now))
	role := p.Connection["role"]
	if template != PostgresTemplate || role == "" {
		for _, k := range sortedKeys(p.Connection) {
			fmt.Fprintf(&b, "%s: %s\n", text(k), text(p.Connection[k]))
		}
		fmt.Fprintf(&b, "password: %s\n", text(p.Password))
		if template == PostgresTemplate {
			b.WriteString("(the credential names no role, so there is no psql command line to print)\n")
			b.WriteString(expiryHint(""))
		}
		return b.String()
	}
	uri := postgresURI(p.Connection)
	fmt.Fprintf(&b, "password:  %s\n", text(p.Password))
	fmt.Fprintf(&b, "url:       %s\n", uri)
	b.WriteString("connect:   PGPASSWORD=" + shellQuote(p.Password) + " psql " + shellQuote(uri) + "\n")
	b.WriteString("           (or run psql " + shellQuote(uri) + " and type the password when it asks)\n")
	b.WriteString(expiryHint(role))
	return b.String()
}

// expiryHint is what a requester needs to know before reading PostgreSQL's
// answer to an expired role as a typo.
// role is Go-quoted, so it prints safely whatever it holds.
func expiryHint(role string) string {
	user := "…"
	if role != "" {
		user = strconv.Quote(role)
	}
	return fmt.Sprintf("after the expiry PostgreSQL answers `password authentication failed for user %s`:\n"+
		"that means the grant expired, not that the password is wrong; ask for access again (jit request) or extend it before it ends (jit extend)\n", user)
}

// postgresURI returns the libpq connection URI for a postgres-role
// connection: postgresql://ROLE@HOST:PORT/DATABASE, with host and port in
// the authority when the host is a plain name or IPv4 address and the port
// a number, else as host= and port= query parameters (a socket directory,
// an IPv6 address), and every other setting as a query parameter, sorted.
// Every value is percent-encoded except unreserved characters
// (A-Z a-z 0-9 - . _ ~). A missing host, port or database is left out, so
// libpq's defaults apply.
func postgresURI(conn map[string]string) string {
	var b strings.Builder
	b.WriteString("postgresql://")
	b.WriteString(percentEncode(conn["role"]))
	b.WriteString("@")
	host, port := conn["host"], conn["port"]
	var query []string
	if plainHost(host) {
		b.WriteString(host)
		if isDigits(port) {
			b.WriteString(":" + port)
			port = ""
		}
	} else if host != "" {
		query = append(query, "host="+percentEncode(host))
	}
	if port != "" {
		query = append(query, "port="+percentEncode(port))
	}
	if db := conn["database"]; db != "" {
		b.WriteString("/" + percentEncode(db))
	}
	for _, k := range sortedKeys(conn) {
		switch k {
		case "role", "host", "port", "database":
			continue
		}
		query = append(query, percentEncode(k)+"="+percentEncode(conn[k]))
	}
	if len(query) > 0 {
		b.WriteString("?" + strings.Join(query, "&"))
	}
	return b.String()
}

// plainHost reports whether h can stand in a URI's authority as it is: a
// host name or IPv4 address of letters, digits, '.' and '-'.
func plainHost(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(isAlnum(c) || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// percentEncode encodes every byte of s except RFC 3986's unreserved
// characters as %XX.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// shellQuote returns s as one word of a POSIX shell command line: in single
// quotes (each quote inside closed, escaped and reopened) when s holds only printable
// characters, otherwise in ANSI-C quotes ($'...', understood by bash, zsh,
// ksh and POSIX.1-2024 shells) with every byte that is not printable ASCII
// written as \xHH, so no control character reaches the terminal.
func shellQuote(s string) string {
	printable := true
	for _, r := range s {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			printable = false
			break
		}
	}
	if printable {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	b.WriteString("'")
	return b.String()
}

// text returns s as it is when every character is printable, else Go-quoted.
func text(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			return strconv.Quote(s)
		}
	}
	return s
}

// expiry renders the expiry as "2026-05-01 14:00 UTC (in 1h59m)" or
// "... (expired 5m ago)".
func expiry(at string, now time.Time) string {
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return text(at) + " (unreadable: not an RFC 3339 time)"
	}
	abs := t.UTC().Format("2006-01-02 15:04:05 UTC")
	left := t.Sub(now)
	switch {
	case left > 0:
		return fmt.Sprintf("%s (in %s)", abs, roughly(left))
	case left == 0:
		return abs + " (now: the grant has just expired)"
	}
	return fmt.Sprintf("%s (expired %s ago: ask for access again)", abs, roughly(-left))
}

// roughly writes a positive duration in days, hours and minutes, rounded
// down to the minute ("less than a minute" below that).
func roughly(d time.Duration) string {
	if d < time.Minute {
		return "less than a minute"
	}
	days := int(d / (24 * time.Hour))
	h := int(d % (24 * time.Hour) / time.Hour)
	m := int(d % time.Hour / time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%dh", h))
	}
	if m > 0 {
		parts = append(parts, fmt.Sprintf("%dm", m))
	}
	return strings.Join(parts, "")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
