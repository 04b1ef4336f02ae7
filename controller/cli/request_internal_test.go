package cli

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/request"
)

const testFile = "access/prod/orders/alice-inc-1.yaml"

// TestGrantYAMLRoundTrips: values YAML would read as something else (a
// number, a boolean, null, a mapping, a comment, another line) come back
// from the strict parser exactly as written.
func TestGrantYAMLRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason string
		ticket string
		scope  map[string]any
	}{
		{"plain words", "Investigate stuck orders", "INC-1", map[string]any{"database": "orders"}},
		{"a number", "3600", "", map[string]any{"database": "3600"}},
		{"yes and on", "yes", "on", map[string]any{"database": "on", "privileges": "YES"}},
		{"null and tilde", "null", "~", map[string]any{"database": "Null"}},
		{"colon space", ": x", "a: b", map[string]any{"database": "key: value"}},
		{"comment", "see # this", "#1", map[string]any{"database": " #x"}},
		{"newline", "line one\nline two", "", map[string]any{"database": "a\nb"}},
		{"quotes and backslashes", `say "hi" \n 'there'`, `'`, map[string]any{"database": `\`}},
		{"leading and trailing space", "  padded  ", "", map[string]any{"database": " "}},
		{"flow indicators", "[a, b] {c: d}", "", map[string]any{"database": "[x]"}},
		{"typed values", "numbers", "", map[string]any{"limit": int64(3), "ratio": 0.5, "whole": 2.0, "on": true,
			"list": []any{"yes", int64(1), false}, "map": map[string]any{"null": "~", "n": 1.5}}},
		{"reserved keys", "keys", "", map[string]any{"y": "n", "true": "false", "null": "null"}},
		{"unicode", "Zürich — 東京 ✓", "", map[string]any{"database": "ünïcode"}},
		{"a date", "2026-01-01", "", map[string]any{"database": "12:30"}},
		{"a duration-like word", "2h", "", map[string]any{"database": "0x1F"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := grantFields{Template: "postgres-role", Requester: "alice", Duration: "2h", Reason: tc.reason, Ticket: tc.ticket, Scope: tc.scope}
			data, err := f.YAML()
			if err != nil {
				t.Fatal(err)
			}
			got, problems := request.Parse(testFile, data)
			if len(problems) > 0 {
				t.Fatalf("problems %v in\n%s", problems, data)
			}
			if d := cmp.Diff(want(f), strip(got)); d != "" {
				t.Errorf("round trip (-want +got):\n%s\nfile:\n%s", d, data)
			}
		})
	}
}

// TestGrantYAMLCanonical: the writer's output for an ordinary request is
// what a person would write, in the documented field order.
func TestGrantYAMLCanonical(t *testing.T) {
	data, err := grantFields{Template: "postgres-role", Requester: "alice", Duration: "1h30m", Reason: "Investigate stuck orders",
		Ticket: "INC-1234", BreakGlass: true, Target: "prod-orders", Scope: map[string]any{"privileges": "read", "database": "orders", "connection_limit": int64(2)}}.YAML()
	if err != nil {
		t.Fatal(err)
	}
	const wantYAML = `template: postgres-role
requester: alice
duration: 1h30m
reason: Investigate stuck orders
ticket: INC-1234
target: prod-orders
break_glass: true
scope:
  connection_limit: 2
  database: orders
  privileges: read
`
	if d := cmp.Diff(wantYAML, string(data)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestGrantYAMLRefusesNonFinite: NaN and infinities have no place in a
// grant; the writer says so instead of writing them.
func TestGrantYAMLRefusesNonFinite(t *testing.T) {
	var zero float64
	_, err := grantFields{Template: "t", Requester: "a", Duration: "1h", Reason: "r", Scope: map[string]any{"x": zero / zero}}.YAML()
	if err == nil || !strings.Contains(err.Error(), "scope x:") || !strings.Contains(err.Error(), "not a finite number") {
		t.Errorf("err = %v", err)
	}
}

func want(f grantFields) grant.Request {
	d, _ := grant.ParseDuration(f.Duration)
	return grant.Request{ID: "prod/orders/alice-inc-1", File: testFile, Template: f.Template, Requester: f.Requester, Duration: d,
		Reason: f.Reason, Ticket: f.Ticket, Target: f.Target, BreakGlass: f.BreakGlass, Scope: f.Scope}
}

func strip(r grant.Request) grant.Request {
	r.Pos = nil
	return r
}

// readable is text the parser has no reason to refuse: graphic characters,
// spaces, tabs and line feeds only.
func readable(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\n' && r != '\t' && (!unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r)) {
			return false
		}
	}
	return utf8.ValidString(s)
}

// FuzzGrantYAML: whatever the text, the file the writer makes is either
// parsed back to exactly the values written, or refused by the parser for
// a reason of its own (hidden characters, a blank reason, a bad ticket) and
// never for readable text.
func FuzzGrantYAML(f *testing.F) {
	for _, s := range [][3]string{{"Investigate", "INC-1", "orders"}, {"3600", "yes", "on"}, {"null", "~", ": x"},
		{"a\nb", "#1", "- item"}, {`"quoted"`, "'", "\\"}, {" ", "\t", "\u200b"}, {"\r", "\x00", "\u2028"}, {"[x]", "{y}", "*alias"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, reason, ticket, value string) {
		g := grantFields{Template: "postgres-role", Requester: "alice", Duration: "2h", Reason: reason, Ticket: ticket,
			Scope: map[string]any{"database": value, "list": []any{value}, "map": map[string]any{"k": value}}}
		data, err := g.YAML()
		if err != nil {
			if utf8.ValidString(reason) && utf8.ValidString(ticket) && utf8.ValidString(value) {
				t.Fatalf("valid UTF-8 refused: %v", err)
			}
			return
		}
		got, problems := request.Parse(testFile, data)
		if len(problems) == 0 {
			if d := cmp.Diff(want(g), strip(got)); d != "" {
				t.Fatalf("round trip (-want +got):\n%s\nfile:\n%s", d, data)
			}
			return
		}
		ticketOK := ticket == "" || (strings.TrimSpace(ticket) != "" && len(ticket) <= 100 && !strings.ContainsAny(ticket, "\n\r"))
		reasonOK := strings.TrimSpace(reason) != "" && utf8.RuneCountInString(reason) <= request.MaxReasonLength
		if readable(reason) && readable(ticket) && readable(value) && ticketOK && reasonOK && len(data) <= request.MaxFileSize {
			t.Fatalf("readable values refused: %v\nfile:\n%s", problems, data)
		}
	})
}

// TestWithDuration: jit extend changes only the duration's value, keeping
// comments, quoting style elsewhere and every other byte, and refuses
// what it cannot edit safely.
func TestWithDuration(t *testing.T) {
	for _, tc := range []struct {
		name, in, dur, want, err string
	}{
		{"plain", "template: postgres-role\nrequester: alice\nduration: 2h\nreason: r\n", "4h",
			"template: postgres-role\nrequester: alice\nduration: 4h\nreason: r\n", ""},
		{"comment kept", "# why\ntemplate: t\nrequester: alice\nduration: 2h   # short\nreason: r\n", "1h30m",
			"# why\ntemplate: t\nrequester: alice\nduration: 1h30m   # short\nreason: r\n", ""},
		{"double quoted", "template: t\nrequester: alice\nduration: \"2h\"\nreason: r\n", "30m",
			"template: t\nrequester: alice\nduration: 30m\nreason: r\n", ""},
		{"single quoted", "template: t\nrequester: alice\nduration: '2h'\nreason: r\n", "3h",
			"template: t\nrequester: alice\nduration: 3h\nreason: r\n", ""},
		{"crlf", "template: t\r\nrequester: alice\r\nduration: 2h\r\nreason: r\r\n", "1h",
			"template: t\r\nrequester: alice\r\nduration: 1h\r\nreason: r\r\n", ""},
		{"invalid file", "template: t\nduration: 2h\n", "1h", "", "does not parse, so jit will not edit it"},
		{"invalid duration", "template: t\nrequester: alice\nduration: 2h\nreason: r\n", "2 hours", "", "makes the file invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := withDuration(testFile, []byte(tc.in), tc.dur)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, string(got)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
