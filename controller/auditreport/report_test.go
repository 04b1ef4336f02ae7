package auditreport_test

import (
	"bytes"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/auditreport"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// hostile is what a grant file's author could write to break out of the
// page's markup, its attributes or its JSON script element.
const hostile = `</script><script>document.body.dataset.pwned="1"</script>"'><img src=x onerror=alert(1)>&amp;`

// trail is a hand-built trail judged at t0+10h: one grant of each class, a
// grant that was never live, and hostile values everywhere the repository
// controls them.
func trail() *audit.Trail {
	at := func(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }
	anomaly := audit.Anomaly{Kind: audit.NotRevoked, Grant: "prod/erin-1", Commit: strings.Repeat("e", 40), Message: "expired but " + hostile}
	return &audit.Trail{
		Rev:       strings.Repeat("a", 40),
		Truncated: true,
		Now:       at(10),
		Stories: []*audit.Story{
			{ID: "prod/alice-1", Reason: hostile, Approved: true, MergedAt: at(1), ActivatedAt: at(1.1), RevokedAt: at(3), Ending: audit.Expired},
			{ID: "prod/bob-1", Approved: true, MergedAt: at(2), ActivatedAt: at(2.1), RevokedAt: at(2.5), Ending: audit.RevokedEarly, RevokedBy: hostile},
			{ID: "prod/carol-1", Approved: true, BreakGlass: true, MergedAt: at(4), ActivatedAt: at(4), RevokedAt: at(5), Ending: audit.Expired},
			{ID: "prod/dave-1", Approved: true, MergedAt: at(6), ActivatedAt: at(6.1)},
			{ID: "prod/erin-1", Approved: true, MergedAt: at(7), RevokedAt: at(8), Ending: audit.Expired, Anomalies: []audit.Anomaly{anomaly}},
			{ID: "prod/frank-1", Approved: true, MergedAt: at(7), ActivatedAt: at(7), RevokedAt: at(7.5), Ending: audit.Deleted},
			{ID: "prod/mallory-1", Reason: hostile, MergedAt: at(9)},
		},
		Anomalies: []audit.Anomaly{anomaly, {Kind: audit.Truncated, Commit: strings.Repeat("f", 40), Message: hostile}},
	}
}

func TestBars(t *testing.T) {
	got := auditreport.Bars(trail())
	want := []auditreport.Bar{
		{Grant: "prod/alice-1", From: "2026-01-05T10:06:00Z", To: "2026-01-05T12:00:00Z", Class: auditreport.Expired},
		{Grant: "prod/bob-1", From: "2026-01-05T11:06:00Z", To: "2026-01-05T11:30:00Z", Class: auditreport.RevokedEarly},
		{Grant: "prod/carol-1", From: "2026-01-05T13:00:00Z", To: "2026-01-05T14:00:00Z", Class: auditreport.BreakGlass},
		{Grant: "prod/dave-1", From: "2026-01-05T15:06:00Z", To: "2026-01-05T19:00:00Z", Class: auditreport.Live, Open: true},
		{Grant: "prod/erin-1", From: "2026-01-05T16:00:00Z", To: "2026-01-05T17:00:00Z", Class: auditreport.Anomalous, Inferred: true},
		{Grant: "prod/frank-1", From: "2026-01-05T16:00:00Z", To: "2026-01-05T16:30:00Z", Class: auditreport.Deleted},
	}
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Title" }, cmp.Ignore())); diff != "" {
		t.Errorf("bars (-want +got):\n%s", diff)
	}
	if !strings.Contains(got[3].Title, "not revoked as of 2026-01-05T19:00:00Z") || !strings.Contains(got[4].Title, "no activated record") {
		t.Errorf("titles do not say the bar is open or inferred: %q, %q", got[3].Title, got[4].Title)
	}
}

// A grant activated after the trail's Now still gets a bar, of zero length,
// never one that ends before it starts.
func TestBarNeverEndsBeforeItStarts(t *testing.T) {
	tr := &audit.Trail{Now: t0, Stories: []*audit.Story{{ID: "prod/a", Approved: true, MergedAt: t0.Add(time.Hour)}}}
	got := auditreport.Bars(tr)
	if len(got) != 1 || got[0].From != got[0].To || got[0].From != "2026-01-05T10:00:00Z" {
		t.Errorf("bars = %+v, want one from and to 2026-01-05T10:00:00Z", got)
	}
}

func TestTimelineSpanAndTicks(t *testing.T) {
	tests := map[string]struct {
		trail      *audit.Trail
		from, to   string
		firstTicks []string
		labels     int
	}{
		"bars set the span, hourly labels": {
			trail: trail(), from: "2026-01-05T10:06:00Z", to: "2026-01-05T19:00:00Z",
			firstTicks: []string{"2026-01-05T11:00:00Z 01-05 11:00", "2026-01-05T12:00:00Z 01-05 12:00"}, labels: 9,
		},
		"no bar: an hour around now": {
			trail: &audit.Trail{Now: t0}, from: "2026-01-05T08:30:00Z", to: "2026-01-05T09:30:00Z",
			firstTicks: []string{"2026-01-05T08:30:00Z 01-05 08:30", "2026-01-05T08:45:00Z 01-05 08:45"}, labels: 5,
		},
		"weeks: weekly labels by date": {
			trail: &audit.Trail{Now: t0.Add(20 * 24 * time.Hour), Stories: []*audit.Story{{ID: "prod/a", Approved: true, MergedAt: t0}}},
			from:  "2026-01-05T09:00:00Z", to: "2026-01-25T09:00:00Z",
			firstTicks: []string{"2026-01-12T00:00:00Z 2026-01-12"}, labels: 2,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tl := auditreport.NewTimeline(tc.trail)
			if tl.From != tc.from || tl.To != tc.to {
				t.Errorf("span %s to %s, want %s to %s", tl.From, tl.To, tc.from, tc.to)
			}
			var got []string
			for _, tk := range tl.Ticks {
				got = append(got, tk.At+" "+tk.Label)
			}
			if len(got) != tc.labels || len(got) < len(tc.firstTicks) {
				t.Fatalf("ticks = %q, want %d", got, tc.labels)
			}
			if diff := cmp.Diff(tc.firstTicks, got[:len(tc.firstTicks)]); diff != "" {
				t.Errorf("first ticks (-want +got):\n%s", diff)
			}
		})
	}
}

var (
	scriptOpen  = regexp.MustCompile(`(?i)<script`)
	dataElement = regexp.MustCompile(`(?s)<script type="application/json" id="timeline-data">(.*?)</script>`)
	gridRow     = regexp.MustCompile(`<tr><td>([^<]*)</td><td>([^<]*)</td></tr>`)
	networkRef  = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//`)
)

func render(t *testing.T, tr *audit.Trail, opts auditreport.Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := auditreport.Write(&b, tr, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkTimeline fails t unless page's timeline data reads back as tr's.
func checkTimeline(t *testing.T, page string, tr *audit.Trail) {
	t.Helper()
	m := dataElement.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no timeline-data element")
	}
	var got auditreport.Timeline
	if err := json.Unmarshal([]byte(m[1]), &got); err != nil {
		t.Fatalf("timeline data is not JSON: %v\n%s", err, m[1])
	}
	if diff := cmp.Diff(auditreport.NewTimeline(tr), got); diff != "" {
		t.Errorf("timeline data (-want +got):\n%s", diff)
	}
}

// Every grant has a table row and the timeline data is exactly the trail's,
// whatever the repository's values hold.
func TestWriteEscapesHostileValues(t *testing.T) {
	tr := trail()
	page := render(t, tr, auditreport.Options{Source: hostile, Columns: []string{"ID", "REASON"},
		Row: func(s *audit.Story) []string { return []string{s.ID, s.Reason} }})

	if n := len(scriptOpen.FindAllString(page, -1)); n != 3 {
		t.Errorf("page has %d script elements, want the 3 of the template", n)
	}
	if n := strings.Count(page, "</script>"); n != 3 {
		t.Errorf("page has %d </script>, want 3: a value broke out of its element", n)
	}
	for _, raw := range []string{"<img", `"'>`, "<script>document"} {
		if strings.Contains(page, raw) {
			t.Errorf("page holds %q unescaped", raw)
		}
	}
	if m := networkRef.FindString(page); m != "" {
		t.Errorf("page loads %q from the network", m)
	}

	checkTimeline(t, page, tr)

	_, grid, _ := strings.Cut(page, `<table id="grants">`)
	rows := gridRow.FindAllStringSubmatch(grid, -1)
	if len(rows) != len(tr.Stories) {
		t.Fatalf("%d table rows, want one per grant (%d)", len(rows), len(tr.Stories))
	}
	for i, s := range tr.Stories {
		if id, reason := html.UnescapeString(rows[i][1]), html.UnescapeString(rows[i][2]); id != s.ID || reason != s.Reason {
			t.Errorf("row %d = %q, %q, want %q, %q", i, id, reason, s.ID, s.Reason)
		}
	}
	for _, want := range []string{
		"<title>Access audit of " + html.EscapeString(hostile)[:20],
		"Revision <code>" + tr.Rev + "</code>, as of 2026-01-05T19:00:00Z: 7 grant(s), 6 ever live, 2 anomalies.",
		`<code title="` + strings.Repeat("e", 40) + `">eeeeeeeeeeee</code>`,
		"<td>(history)</td>",
		"The history is truncated",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, c := range []auditreport.Class{auditreport.Anomalous, auditreport.BreakGlass, auditreport.Live, auditreport.RevokedEarly, auditreport.Expired, auditreport.Deleted} {
		if !strings.Contains(page, `<span class="swatch `+string(c)+`">`) {
			t.Errorf("legend lacks %s", c)
		}
	}
}

func TestWriteEmptyTrail(t *testing.T) {
	page := render(t, &audit.Trail{Rev: "abc", Now: t0}, auditreport.Options{})
	for _, want := range []string{`"bars":[]`, `<p id="anomalies">None`, "<th>ID</th>", "0 grant(s), 0 ever live, 0 anomalies."} {
		if !strings.Contains(page, want) {
			t.Errorf("empty page lacks %q", want)
		}
	}
}
