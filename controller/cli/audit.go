package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/auditreport"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/history"
)

const auditUsage = `usage: jit audit SUBCOMMAND [flags]

Tell every grant's story from the access repository's git history alone
(no GitHub, no controller, no state): one pass over the first-parent history
of --rev, trusting only Jit-* records whose signature verifies with the
.github/jit-signers of the commit's first parent.

subcommands:
  log     one row per grant   [--since T] [--until T] [--grant ID] [--requester LOGIN] [--format table|json|csv]
  show    one grant's whole story as a timeline, each step with its commit: show ID [--format text|json]
  active  the grants live at a moment or during a span: --at T | --between T1 T2 [--format table|json]
  verify  list every anomaly with the commit that shows it; exit 1 when there is any [--format text|json]
  report  write one self-contained HTML page for auditors (timeline, anomalies, grants): --html FILE

flags of every subcommand:
  --repo DIR          the access repository (default ".")
  --rev REV           the branch or commit to read (default HEAD)
  --now T             judge expiry and review windows at T (default: the clock)
  --renewal-gap D     grants of one requester, template and scope starting less than D after the
                      previous one ended are back to back (default 15m)
  --renewal-run N     N grants back to back are standing access (default 3; 0 turns it off)
  --no-cache          check every record's signature again; by default records that verified
                      before with the same signers are remembered in <git dir>/jit

Times are RFC 3339 (2026-05-01T12:00:00Z). Exit status: 0 done (verify: no anomaly),
1 verify found anomalies, 2 usage error or unreadable repository.
`

// auditFlags are the flags every audit subcommand takes.
type auditFlags struct {
	fs          *flag.FlagSet
	repo, rev   string
	now, format string
	gap         time.Duration
	run         int
	noCache     bool
}

func newAuditFlags(o IO, sub, defaultFormat string) *auditFlags {
	f := &auditFlags{fs: flag.NewFlagSet("jit audit "+sub, flag.ContinueOnError)}
	f.fs.SetOutput(o.Stderr)
	f.fs.Usage = func() { fmt.Fprint(o.Stderr, auditUsage) }
	f.fs.StringVar(&f.repo, "repo", ".", "the access repository")
	f.fs.StringVar(&f.rev, "rev", "HEAD", "the branch or commit to read")
	f.fs.StringVar(&f.now, "now", "", "judge expiry at this RFC 3339 time")
	f.fs.StringVar(&f.format, "format", defaultFormat, "output format")
	f.fs.DurationVar(&f.gap, "renewal-gap", audit.DefaultRenewalGap, "largest gap between back-to-back grants")
	f.fs.IntVar(&f.run, "renewal-run", audit.DefaultRenewalRun, "grants back to back that make access standing (0: off)")
	f.fs.BoolVar(&f.noCache, "no-cache", false, "check every record's signature, neither using nor filling the verified cache")
	return f
}

// parse parses args, flags and positional arguments in any order, and
// returns the positional ones; code is -1 to go on.
func (f *auditFlags) parse(args []string) (pos []string, code int) {
	for {
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, ExitOK
			}
			return nil, ExitUsage
		}
		if f.fs.NArg() == 0 {
			return pos, -1
		}
		pos = append(pos, f.fs.Arg(0))
		args = f.fs.Args()[1:]
	}
}

// trail reads the audit trail as the flags say.
func (f *auditFlags) trail(ctx context.Context) (*audit.Trail, error) {
	now, err := parseNow(f.now)
	if err != nil {
		return nil, err
	}
	if f.gap <= 0 {
		return nil, fmt.Errorf("--renewal-gap %s: give a positive duration such as 15m", f.gap)
	}
	run := f.run
	switch {
	case run < 0:
		return nil, fmt.Errorf("--renewal-run %d: give a count of 2 or more, or 0 to turn the check off", run)
	case run == 0:
		run = -1
	case run == 1:
		return nil, errors.New("--renewal-run 1 would flag every grant: give 2 or more, or 0 to turn the check off")
	}
	repo, err := history.Open(f.repo)
	if err != nil {
		return nil, fmt.Errorf("%w (give the access repository with --repo)", err)
	}
	defer repo.Close()
	// Records already verified with the same signers file are remembered
	// inside the repository's git directory (only successes are kept).
	cache := repo.CacheDir()
	if f.noCache {
		cache = ""
	}
	return audit.Read(ctx, repo, f.rev, audit.Options{Now: now.UTC(), RenewalGap: f.gap, RenewalRun: run, Cache: cache})
}

func runAudit(ctx context.Context, o IO, args []string) int {
	defer debug.SetGCPercent(debug.SetGCPercent(audit.GCPercent))
	if len(args) == 0 {
		fmt.Fprint(o.Stderr, "jit audit: give a subcommand\n"+auditUsage)
		return ExitUsage
	}
	type sub struct {
		format string
		run    func(ctx context.Context, o IO, f *auditFlags, args []string) int
	}
	subs := map[string]sub{
		"log":    {"table", auditLog},
		"show":   {"text", auditShow},
		"active": {"table", auditActive},
		"verify": {"text", auditVerify},
		"report": {"html", auditReport},
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(o.Stderr, auditUsage)
		return ExitOK
	}
	s, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(o.Stderr, "jit audit: unknown subcommand %q; use log, show, active, verify or report\n", args[0])
		return ExitUsage
	}
	return s.run(ctx, o, newAuditFlags(o, args[0], s.format), args[1:])
}

// auditFail prints err for subcommand sub and returns ExitUsage.
func auditFail(o IO, sub string, err error) int {
	fmt.Fprintf(o.Stderr, "jit audit %s: %v\n", sub, err)
	return ExitUsage
}

func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return fmt.Errorf("--format %q: use one of %s", format, strings.Join(allowed, ", "))
}

func auditLog(ctx context.Context, o IO, f *auditFlags, args []string) int {
	since := f.fs.String("since", "", "only grants live or merged at or after this RFC 3339 time")
	until := f.fs.String("until", "", "only grants merged or live at or before this RFC 3339 time")
	id := f.fs.String("grant", "", "only this grant id")
	requester := f.fs.String("requester", "", "only grants of this GitHub login")
	pos, code := f.parse(args)
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return auditFail(o, "log", fmt.Errorf("unexpected argument %q; filter with --grant ID or --requester LOGIN", pos[0]))
	}
	if err := checkFormat(f.format, "table", "json", "csv"); err != nil {
		return auditFail(o, "log", err)
	}
	t1, err := parseOptionalTime("--since", *since)
	if err != nil {
		return auditFail(o, "log", err)
	}
	t2, err := parseOptionalTime("--until", *until)
	if err != nil {
		return auditFail(o, "log", err)
	}
	tr, err := f.trail(ctx)
	if err != nil {
		return auditFail(o, "log", err)
	}
	var rows []*audit.Story
	for _, s := range tr.Stories {
		from, to := span(s, tr.Now)
		switch {
		case *id != "" && s.ID != *id,
			*requester != "" && !grant.SameLogin(s.Requester, *requester),
			!t1.IsZero() && to.Before(t1),
			!t2.IsZero() && from.After(t2):
			continue
		}
		rows = append(rows, s)
	}
	switch f.format {
	case "json":
		return writeJSON(o, "log", rows)
	case "csv":
		w := csv.NewWriter(o.Stdout)
		w.Write(logColumns)
		for _, s := range rows {
			rec := logRow(s)
			for i, v := range rec {
				rec[i] = csvSafe(v)
			}
			w.Write(rec)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return auditFail(o, "log", err)
		}
		return ExitOK
	}
	tw := tabwriter.NewWriter(o.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(logColumns, "\t"))
	for _, s := range rows {
		rec := logRow(s)
		for i, v := range rec {
			rec[i] = terminalSafe(v)
		}
		fmt.Fprintln(tw, strings.Join(rec, "\t"))
	}
	tw.Flush()
	return ExitOK
}

// span is the time a story covers, for --since and --until: from its first
// step to its revocation (or now, while it lasts).
func span(s *audit.Story, now time.Time) (from, to time.Time) {
	if len(s.Steps) > 0 {
		from = s.Steps[0].At
	}
	to = now
	if !s.RevokedAt.IsZero() {
		to = s.RevokedAt
	}
	if len(s.Steps) > 0 && s.Steps[len(s.Steps)-1].At.After(to) {
		to = s.Steps[len(s.Steps)-1].At
	}
	return from, to
}

var logColumns = []string{"ID", "REQUESTER", "TEMPLATE", "SCOPE", "REASON", "TICKET", "POLICY", "APPROVERS",
	"PR", "MERGED", "ACTIVATED", "RESOURCES", "EXPIRES", "REVOKED", "ENDED", "CLEANUP", "ANOMALIES"}

func logRow(s *audit.Story) []string {
	var approvers []string
	for _, a := range s.Approvers {
		approvers = append(approvers, a.Login+" via "+a.Via)
	}
	var kinds []string
	for _, a := range s.Anomalies {
		kinds = append(kinds, string(a.Kind))
	}
	pr := ""
	if s.PullRequest != 0 {
		pr = "#" + strconv.Itoa(s.PullRequest)
	}
	return []string{s.ID, dash(s.Requester), dash(s.Template), dash(scopeText(s.Scope)), dash(s.Reason), dash(s.Ticket),
		dash(strings.Join(s.Policies, ",")), dash(strings.Join(approvers, ",")), dash(pr), stamp(s.MergedAt),
		stamp(s.ActivatedAt), dash(strings.Join(s.Resources, ",")), stamp(s.ExpiresAt), stamp(s.RevokedAt),
		dash(ending(s)), string(s.Cleanup), dash(strings.Join(kinds, ","))}
}

func ending(s *audit.Story) string {
	e := string(s.Ending)
	if s.Ending == audit.RevokedEarly {
		e = "revoked early by " + s.RevokedBy
	}
	if s.BreakGlass {
		if e == "" {
			return "break-glass"
		}
		e += " (break-glass)"
	}
	return e
}

func scopeText(scope map[string]any) string {
	if len(scope) == 0 {
		return ""
	}
	b, err := json.Marshal(scope)
	if err != nil {
		return fmt.Sprint(scope)
	}
	return string(b)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// terminalSafe escapes what a grant file's author could use to forge table
// rows or drive a terminal: control characters (tabs and newlines included)
// and other non-printable runes.
func terminalSafe(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) && s != "-" {
		return "'" + s
	}
	return s
}

func parseOptionalTime(flagName, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want an RFC 3339 time such as 2026-05-01T12:00:00Z", flagName, s)
	}
	return t.UTC(), nil
}

func writeJSON(o IO, sub string, v any) int {
	enc := json.NewEncoder(o.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return auditFail(o, sub, err)
	}
	return ExitOK
}

func auditShow(ctx context.Context, o IO, f *auditFlags, args []string) int {
	pos, code := f.parse(args)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		return auditFail(o, "show", errors.New("give exactly one grant ID, such as prod/db/alice-inc-1234 (list them with jit audit log)"))
	}
	if err := checkFormat(f.format, "text", "json"); err != nil {
		return auditFail(o, "show", err)
	}
	tr, err := f.trail(ctx)
	if err != nil {
		return auditFail(o, "show", err)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(pos[0], "access/"), ".yaml")
	s := tr.Story(id)
	if s == nil {
		return auditFail(o, "show", fmt.Errorf("no grant %q in the history of %s; list the grants with jit audit log", id, audit.Short(tr.Rev)))
	}
	if f.format == "json" {
		return writeJSON(o, "show", s)
	}
	var b strings.Builder
	row := logRow(s)
	for i, c := range logColumns {
		fmt.Fprintf(&b, "%-10s %s\n", strings.ToLower(c)+":", terminalSafe(row[i]))
	}
	b.WriteString("\ntimeline:\n")
	for _, st := range s.Steps {
		mark := ""
		if !st.Verified {
			mark = " (unverified)"
		}
		fmt.Fprintf(&b, "  %s  %s  %-20s %s%s\n", stamp(st.At), audit.Short(st.Commit), st.What, terminalSafe(st.Detail), mark)
	}
	if len(s.Anomalies) > 0 {
		b.WriteString("\nanomalies:\n")
		for _, a := range s.Anomalies {
			fmt.Fprintf(&b, "  %s  %s: %s\n", audit.Short(a.Commit), a.Kind, terminalSafe(a.Message))
		}
	}
	io.WriteString(o.Stdout, b.String())
	return ExitOK
}

func auditActive(ctx context.Context, o IO, f *auditFlags, args []string) int {
	at := f.fs.String("at", "", "the RFC 3339 moment to ask about")
	between := f.fs.String("between", "", "the RFC 3339 start of a span; its end is the next argument")
	pos, code := f.parse(args)
	if code >= 0 {
		return code
	}
	if err := checkFormat(f.format, "table", "json"); err != nil {
		return auditFail(o, "active", err)
	}
	var t1, t2 time.Time
	var err error
	switch {
	case (*at == "") == (*between == ""):
		return auditFail(o, "active", errors.New("give either --at T or --between T1 T2"))
	case *at != "":
		if len(pos) > 0 {
			return auditFail(o, "active", fmt.Errorf("unexpected argument %q after --at", pos[0]))
		}
		if t1, err = parseOptionalTime("--at", *at); err != nil {
			return auditFail(o, "active", err)
		}
		t2 = t1
	default:
		if len(pos) != 1 {
			return auditFail(o, "active", errors.New("--between needs two times: --between T1 T2"))
		}
		if t1, err = parseOptionalTime("--between", *between); err != nil {
			return auditFail(o, "active", err)
		}
		if t2, err = parseOptionalTime("--between", pos[0]); err != nil {
			return auditFail(o, "active", err)
		}
		if t2.Before(t1) {
			return auditFail(o, "active", fmt.Errorf("--between %s %s: the end is before the start", stamp(t1), stamp(t2)))
		}
	}
	tr, err := f.trail(ctx)
	if err != nil {
		return auditFail(o, "active", err)
	}
	ivs := tr.Between(t1, t2)
	type liveJSON struct {
		Grant     string         `json:"grant"`
		Requester string         `json:"requester"`
		Template  string         `json:"template"`
		Scope     map[string]any `json:"scope,omitempty"`
		Resources []string       `json:"resources,omitempty"`
		From      time.Time      `json:"from"`
		To        *time.Time     `json:"to,omitempty"`
		Inferred  bool           `json:"inferred,omitempty"`
		Anomalies []string       `json:"anomalies,omitempty"`
	}
	if f.format == "json" {
		out := []liveJSON{}
		for _, iv := range ivs {
			s := iv.Grant
			l := liveJSON{Grant: s.ID, Requester: s.Requester, Template: s.Template, Scope: s.Scope, Resources: s.Resources, From: iv.From, Inferred: iv.Inferred}
			if !iv.To.IsZero() {
				to := iv.To
				l.To = &to
			}
			for _, a := range s.Anomalies {
				l.Anomalies = append(l.Anomalies, string(a.Kind))
			}
			out = append(out, l)
		}
		return writeJSON(o, "active", out)
	}
	tw := tabwriter.NewWriter(o.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREQUESTER\tTEMPLATE\tSCOPE\tRESOURCES\tFROM\tTO\tNOTE")
	for _, iv := range ivs {
		s := iv.Grant
		to, note := stamp(iv.To), ""
		if iv.To.IsZero() {
			to, note = "(not revoked)", "no revoked record"
		}
		if iv.Inferred {
			note = strings.TrimPrefix(note+"; no activated record, counted from the merge", "; ")
		}
		rec := []string{s.ID, dash(s.Requester), dash(s.Template), dash(scopeText(s.Scope)), dash(strings.Join(s.Resources, ",")), stamp(iv.From), to, dash(note)}
		for i, v := range rec {
			rec[i] = terminalSafe(v)
		}
		fmt.Fprintln(tw, strings.Join(rec, "\t"))
	}
	tw.Flush()
	return ExitOK
}

func auditVerify(ctx context.Context, o IO, f *auditFlags, args []string) int {
	pos, code := f.parse(args)
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return auditFail(o, "verify", fmt.Errorf("unexpected argument %q", pos[0]))
	}
	if err := checkFormat(f.format, "text", "json"); err != nil {
		return auditFail(o, "verify", err)
	}
	tr, err := f.trail(ctx)
	if err != nil {
		return auditFail(o, "verify", err)
	}
	as := tr.Sorted()
	if f.format == "json" {
		if as == nil {
			as = []audit.Anomaly{}
		}
		if c := writeJSON(o, "verify", as); c != ExitOK {
			return c
		}
	} else {
		for _, a := range as {
			grantID := a.Grant
			if grantID == "" {
				grantID = "(history)"
			}
			fmt.Fprintf(o.Stdout, "%s %s %s: %s\n", a.Commit, a.Kind, grantID, terminalSafe(a.Message))
		}
	}
	if len(as) > 0 {
		fmt.Fprintf(o.Stderr, "jit audit verify: %d anomal%s in %d grant(s) read up to %s\n", len(as), plural(len(as), "y", "ies"), len(tr.Stories), audit.Short(tr.Rev))
		return ExitProblems
	}
	fmt.Fprintf(o.Stderr, "jit audit verify: no anomaly in %d grant(s) read up to %s\n", len(tr.Stories), audit.Short(tr.Rev))
	return ExitOK
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func auditReport(ctx context.Context, o IO, f *auditFlags, args []string) int {
	out := f.fs.String("html", "", "the HTML file to write")
	pos, code := f.parse(args)
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return auditFail(o, "report", fmt.Errorf("unexpected argument %q; give the output file with --html FILE", pos[0]))
	}
	if err := checkFormat(f.format, "html"); err != nil {
		return auditFail(o, "report", err)
	}
	if *out == "" {
		return auditFail(o, "report", errors.New("give the file to write with --html FILE, such as --html audit.html"))
	}
	if fi, err := os.Stat(*out); err == nil && fi.IsDir() {
		return auditFail(o, "report", fmt.Errorf("--html %s is a directory: give a file path such as %s", *out, filepath.Join(*out, "audit.html")))
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return auditFail(o, "report", fmt.Errorf("--html %s: %w", *out, err))
	}
	tr, err := f.trail(ctx)
	if err != nil {
		return auditFail(o, "report", err)
	}
	source, err := filepath.Abs(f.repo)
	if err != nil {
		source = f.repo
	}
	opts := auditreport.Options{Source: filepath.Base(source), Columns: logColumns, Row: logRow}
	if err := writeAuditReport(*out, tr, opts); err != nil {
		return auditFail(o, "report", err)
	}
	bars := len(auditreport.Bars(tr))
	fmt.Fprintf(o.Stdout, "wrote %s: %d grant(s), %d ever live, %d anomal%s, read up to %s as of %s\n", *out,
		len(tr.Stories), bars, len(tr.Anomalies), plural(len(tr.Anomalies), "y", "ies"), audit.Short(tr.Rev), stamp(tr.Now))
	return ExitOK
}

// writeAuditReport writes the page to a temporary file beside path and renames it
// over path, so that a reader never sees half a page.
func writeAuditReport(path string, tr *audit.Trail, opts auditreport.Options) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".jit-audit-*.html")
	if err != nil {
		return fmt.Errorf("--html %s: %w (check that its directory exists and is writable)", path, err)
	}
	defer os.Remove(tmp.Name())
	werr := auditreport.Write(tmp, tr, opts)
	if err := tmp.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		return fmt.Errorf("--html %s: %w", path, werr)
	}
	return nil
}
