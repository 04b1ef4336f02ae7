package request_test

import (
	"bytes"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/request"
)

// FuzzParse checks that no input crashes the parser or is half accepted:
// either a complete Request comes back, or problems that point inside the
// file. An accepted file has no lone carriage return, and no accepted string
// holds a character that displays differently from what is stored.
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte(okGrant + "scope:\n  a: [1, {b: c}]\n"))
	f.Add([]byte(okGrant + "target: prod-orders\n"))
	f.Add([]byte("a: &a [x]\nb: *a\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("template: \xff\n"))
	f.Add([]byte("{template: t, requester: r, duration: 1h, reason: x}"))
	// Finding 6: line breaks YAML honours and viewers do not, bidi controls,
	// invisible characters, and the same through escapes; CRLF is fine.
	f.Add([]byte(head + "reason: look\rbreak_glass: true\n"))
	f.Add([]byte(head + "reason: r\nscope:\n  database: orders\r  privileges: write\n"))
	f.Add([]byte(head + "reason: look\u2028break_glass: true\u2029ticket: x\u0085\n"))
	f.Add([]byte(head + "reason: a\u202Eb\u2066c\u2069\u202C\u200E\u061C\n"))
	f.Add([]byte(head + "reason: a\u200Bb\u200C\u200D\u2060\uFEFF\u180E\n"))
	f.Add([]byte("\uFEFF" + head + "reason: r\r\nscope:\r\n  database: orders\r\n"))
	f.Add([]byte(head + `reason: "look\rbreak_glass: true\u202E\x00\L\N\P"` + "\n"))
	f.Add([]byte(head + "reason: |\r\n  a\r\n  b\r\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, problems := request.Parse("access/f/x.yaml", data)
		// The lenient parse finds the same problems, and returns the same
		// request when there are none; otherwise a request (if any) marked
		// as invalid, so that it can never pass for a complete one.
		lenient, lenientProblems := request.ParseLenient("access/f/x.yaml", data)
		if !cmp.Equal(problems, lenientProblems) {
			t.Fatalf("ParseLenient problems %v, Parse %v", lenientProblems, problems)
		}
		if len(problems) == 0 && !cmp.Equal(req, lenient) {
			t.Fatalf("ParseLenient %+v, Parse %+v", lenient, req)
		}
		if len(problems) > 0 && lenient.File != "" && lenient.Invalid == nil {
			t.Fatalf("a partial request not marked as one: %+v for %v", lenient, problems)
		}
		// YAML also breaks lines at a lone CR, NEL, LS and PS.
		lines := 1
		for _, sep := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
			lines += bytes.Count(data, []byte(sep))
		}
		if len(problems) == 0 {
			if req.ID != "f/x" || req.Template == "" || req.Requester == "" || req.Duration <= 0 || req.Reason == "" {
				t.Fatalf("accepted an incomplete request %+v", req)
			}
			if bytes.Count(data, []byte("\r")) != bytes.Count(data, []byte("\r\n")) {
				t.Fatalf("accepted a file with a lone carriage return: %q", data)
			}
			for _, s := range requestStrings(req) {
				for _, r := range s {
					if misleading(r) {
						t.Fatalf("accepted the string %q holding %U", s, r)
					}
				}
			}
			return
		}
		if req.ID != "" {
			t.Fatalf("request returned alongside problems: %+v", req)
		}
		for _, p := range problems {
			if p.File != "access/f/x.yaml" || p.Line < 0 || p.Line > lines+1 || p.Column < 0 || p.Message == "" {
				t.Fatalf("problem out of the file: %v (file has %d lines)", p, lines)
			}
		}
	})
}

// misleading is the fuzz target's own list of characters no accepted string
// may hold: written from the rule, not shared with the parser.
func misleading(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	switch r {
	case '\r', 0x85, 0x2028, 0x2029, 0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
		0x2066, 0x2067, 0x2068, 0x2069, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x180E:
		return true
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// requestStrings lists every string an accepted request carries, scope keys
// and nested values included.
func requestStrings(req grant.Request) []string {
	out := []string{req.Template, req.Requester, req.Reason, req.Ticket, req.Target}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(req.Scope)
	return out
}
