package auditreport_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/auditreport"
)

// Whatever a grant id, a reason or an anomaly message holds, the page keeps
// exactly the template's script elements and its timeline data reads back
// as the trail's.
func FuzzWrite(f *testing.F) {
	for _, s := range []string{"prod/a", hostile, "</script", "<!--<script>", "\u2028\u2029", `\u003c/script>`, "]]>", "{{.}}", "'\"`"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, id, text string) {
		if !utf8.ValidString(id) || !utf8.ValidString(text) {
			t.Skip("JSON replaces invalid UTF-8, so it cannot read back")
		}
		tr := &audit.Trail{Rev: text, Now: t0.Add(time.Hour), Stories: []*audit.Story{
			{ID: id, Reason: text, Approved: true, MergedAt: t0},
		}, Anomalies: []audit.Anomaly{{Kind: audit.Kind(text), Grant: id, Commit: text, Message: text}}}
		page := render(t, tr, auditreport.Options{Source: text, Columns: []string{text},
			Row: func(s *audit.Story) []string { return []string{s.ID, s.Reason} }})
		if n := strings.Count(strings.ToLower(page), "<script"); n != 3 {
			t.Fatalf("page has %d <script, want 3", n)
		}
		if n := strings.Count(strings.ToLower(page), "</script"); n != 3 {
			t.Fatalf("page has %d </script, want 3", n)
		}
		checkTimeline(t, page, tr)
	})
}
