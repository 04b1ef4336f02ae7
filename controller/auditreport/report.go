// Package auditreport renders an audit trail as one self-contained HTML page
// for auditors: a timeline of when each grant was live, the anomalies and the
// table of grants. The page loads nothing from anywhere: its style and its
// small script are inline, and every value from the repository goes through
// html/template (the timeline as JSON in a script element of type
// application/json that the script reads and draws with textContent only).
package auditreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/jitops/jit/controller/audit"
)

// Options say what the page shows besides the trail.
type Options struct {
	// Source names the repository read (a path or URL), shown in the title;
	// empty leaves it out.
	Source string
	// Columns and Row make the table of grants: Row returns one cell per
	// column for a story. With Row nil the table has the grant id only.
	Columns []string
	Row     func(*audit.Story) []string
}

// Class is how a bar of the timeline is coloured: how the grant's access
// ended, or that it has an anomaly.
type Class string

// The classes of bars, in the order the legend shows them. A grant with an
// anomaly is Anomalous whatever its ending; otherwise break-glass wins over
// how it ended.
const (
	Anomalous    Class = "anomalous"
	BreakGlass   Class = "break-glass"
	Live         Class = "live"
	RevokedEarly Class = "revoked-early"
	Expired      Class = "expired"
	Deleted      Class = "deleted"
)

var legend = []struct {
	Class Class
	Label string
}{
	{Anomalous, "anomalous (see the anomalies)"},
	{BreakGlass, "break-glass"},
	{Live, "still live (not revoked)"},
	{RevokedEarly, "revoked early"},
	{Expired, "expired"},
	{Deleted, "file deleted without an expiry record"},
}

// Bar is one grant's live interval as the page draws it.
type Bar struct {
	Grant string `json:"grant"`
	// From and To are RFC 3339; To is the trail's Now while the grant is
	// still live (Open), and never before From.
	From     string `json:"from"`
	To       string `json:"to"`
	Class    Class  `json:"class"`
	Open     bool   `json:"open,omitempty"`
	Inferred bool   `json:"inferred,omitempty"`
	Title    string `json:"title"`
}

// Tick is a label of the time axis.
type Tick struct {
	At    string `json:"at"`
	Label string `json:"label"`
}

// Timeline is the data the page's script draws: its span, the axis labels
// and one bar per grant that was ever live, in the order of the stories.
type Timeline struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Ticks []Tick `json:"ticks"`
	Bars  []Bar  `json:"bars"`
}

// ClassOf returns the class of s's bar.
func ClassOf(s *audit.Story, iv audit.Interval) Class {
	switch {
	case len(s.Anomalies) > 0:
		return Anomalous
	case s.BreakGlass:
		return BreakGlass
	case iv.To.IsZero():
		return Live
	case s.Ending == audit.RevokedEarly:
		return RevokedEarly
	case s.Ending == audit.Deleted:
		return Deleted
	}
	return Expired
}

// Bars returns one bar per story of t with a live interval (audit.Story.Live),
// in the order of the stories; an interval not revoked ends at t.Now.
func Bars(t *audit.Trail) []Bar {
	var out []Bar
	for _, s := range t.Stories {
		iv, ok := s.Live()
		if !ok {
			continue
		}
		to := iv.To
		if to.IsZero() {
			to = t.Now
		}
		if to.Before(iv.From) {
			to = iv.From
		}
		b := Bar{Grant: s.ID, From: stamp(iv.From), To: stamp(to), Class: ClassOf(s, iv), Open: iv.To.IsZero(), Inferred: iv.Inferred}
		b.Title = fmt.Sprintf("%s: %s to %s (%s)", s.ID, b.From, b.To, b.Class)
		if b.Open {
			b.Title = fmt.Sprintf("%s: %s, not revoked as of %s (%s)", s.ID, b.From, b.To, b.Class)
		}
		if b.Inferred {
			b.Title += "; no activated record, counted from the merge"
		}
		out = append(out, b)
	}
	return out
}

// NewTimeline returns the timeline of t: its bars, spanning from the first
// bar's start to the last bar's end (an hour around t.Now when there is no
// bar), with at most about eight axis labels on round times.
func NewTimeline(t *audit.Trail) Timeline {
	bars := Bars(t)
	var from, to time.Time
	for i, b := range bars {
		f, _ := time.Parse(time.RFC3339, b.From)
		e, _ := time.Parse(time.RFC3339, b.To)
		if i == 0 || f.Before(from) {
			from = f
		}
		if i == 0 || e.After(to) {
			to = e
		}
	}
	if len(bars) == 0 {
		from, to = t.Now.Add(-30*time.Minute), t.Now.Add(30*time.Minute)
	}
	if !to.After(from) {
		from, to = from.Add(-30*time.Minute), to.Add(30*time.Minute)
	}
	if bars == nil {
		bars = []Bar{}
	}
	return Timeline{From: stamp(from), To: stamp(to), Ticks: ticks(from, to), Bars: bars}
}

var steps = []time.Duration{
	time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour,
	30 * 24 * time.Hour, 90 * 24 * time.Hour, 365 * 24 * time.Hour,
}

// ticks returns labels at multiples of the smallest step that fits at most
// eight of them into [from, to].
func ticks(from, to time.Time) []Tick {
	step := steps[len(steps)-1]
	for _, s := range steps {
		if to.Sub(from)/s <= 8 {
			step = s
			break
		}
	}
	layout := "01-02 15:04"
	if step >= 24*time.Hour {
		layout = "2006-01-02"
	}
	out := []Tick{}
	at := from.UTC().Truncate(step)
	if at.Before(from) {
		at = at.Add(step)
	}
	for ; !at.After(to) && len(out) < 64; at = at.Add(step) {
		out = append(out, Tick{At: stamp(at), Label: at.Format(layout)})
	}
	return out
}

func stamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

//go:embed report.html.tmpl
var pageText string

var page = template.Must(template.New("report").Funcs(template.FuncMap{"short": audit.Short, "stamp": stamp}).Parse(pageText))

type view struct {
	Title, Rev, AsOf string
	Truncated        bool
	Timeline         Timeline
	Legend           any
	Anomalies        []audit.Anomaly
	Columns          []string
	Rows             [][]string
	Grants, Live     int
}

// Write renders t as one HTML page on w. Every value from the repository
// is escaped by html/template; the page references no external resource.
func Write(w io.Writer, t *audit.Trail, opts Options) error {
	title := "Access audit"
	if opts.Source != "" {
		title += " of " + opts.Source
	}
	title += " at " + audit.Short(t.Rev)
	v := view{Title: title, Rev: t.Rev, AsOf: stamp(t.Now), Truncated: t.Truncated, Timeline: NewTimeline(t),
		Legend: legend, Anomalies: t.Sorted(), Columns: opts.Columns, Grants: len(t.Stories)}
	v.Live = len(v.Timeline.Bars)
	row := opts.Row
	if row == nil {
		v.Columns = []string{"ID"}
		row = func(s *audit.Story) []string { return []string{s.ID} }
	}
	for _, s := range t.Stories {
		v.Rows = append(v.Rows, row(s))
	}
	if err := page.Execute(w, v); err != nil {
		return fmt.Errorf("render the audit report: %w", err)
	}
	return nil
}
