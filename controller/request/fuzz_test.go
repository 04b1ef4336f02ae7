package request_test

import (
	"bytes"
	"testing"

	"github.com/jitops/jit/controller/request"
)

// FuzzParse checks that no input crashes the parser or is half accepted:
// either a complete Request comes back, or problems that point inside the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte(okGrant + "scope:\n  a: [1, {b: c}]\n"))
	f.Add([]byte("a: &a [x]\nb: *a\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("template: \xff\n"))
	f.Add([]byte("{template: t, requester: r, duration: 1h, reason: x}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, problems := request.Parse("access/f/x.yaml", data)
		// YAML also breaks lines at a lone CR, NEL, LS and PS.
		lines := 1
		for _, sep := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
			lines += bytes.Count(data, []byte(sep))
		}
		if len(problems) == 0 {
			if req.ID != "f/x" || req.Template == "" || req.Requester == "" || req.Duration <= 0 || req.Reason == "" {
				t.Fatalf("accepted an incomplete request %+v", req)
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
