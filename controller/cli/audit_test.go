package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/audit"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/decisiontest"
	"github.com/jitops/jit/controller/internal/gittest"
	"github.com/jitops/jit/controller/trailer"
)

const auditGrant = "template: postgres-role\nrequester: alice\nduration: 2h\nreason: Investigate stuck orders\nticket: INC-1\nscope:\n  database: orders\n"

// auditRecord commits a signed controller event on main at at.
func auditRecord(t *testing.T, repo *gittest.Repo, key *decisiontest.Key, at time.Time, ev trailer.Event) plumbing.Hash {
	t.Helper()
	ev.Parent = repo.Head("main").String()
	ts, err := ev.Trailers()
	if err != nil {
		t.Fatal(err)
	}
	return repo.Commit("main", "jit[bot]", key.SignedMessage(t, "jit: "+string(ev.Kind), ts), at, nil)
}

// auditExpire merges the signed expiry of grant id at at.
func auditExpire(t *testing.T, repo *gittest.Repo, key *decisiontest.Key, at time.Time, id, reason string) {
	t.Helper()
	head := repo.Commit("expire-"+strings.ReplaceAll(id, "/", "-"), "jit[bot]", "expire", at.Add(-time.Minute), map[string]string{"access/" + id + ".yaml": ""}, repo.Head("main"))
	ts, err := trailer.Event{Kind: trailer.Expire, Grants: []string{id}, Reason: reason, Head: head.String()}.Trailers()
	if err != nil {
		t.Fatal(err)
	}
	repo.Commit("main", "jit[bot]", key.SignedMessage(t, "Merge pull request", ts), at, nil, repo.Head("main"), head)
}

// auditHistory plants alice's clean lifecycle (merged t0+1h, activated a
// minute later, expired and revoked two hours later) and bob's grant merged
// at t0+4h and activated, with no revocation yet.
func auditHistory(t *testing.T) (*gittest.Repo, *decisiontest.Key, time.Time) {
	t0 := gittest.Start
	repo, key := provAccessRepo(t, t0)
	at := t0.Add(time.Hour)
	const alice = "prod/db/alice-inc-1"
	provMerge(t, repo, key, at, "access/"+alice+".yaml", auditGrant)
	auditRecord(t, repo, key, at.Add(time.Minute), trailer.Event{Kind: trailer.Activated, Grants: []string{alice}, Resources: []string{"postgresql_role.grant"}, ExpiresAt: at.Add(2 * time.Hour)})
	auditExpire(t, repo, key, at.Add(2*time.Hour), alice, trailer.ReasonRevokedBy("carol"))
	auditRecord(t, repo, key, at.Add(2*time.Hour+time.Minute), trailer.Event{Kind: trailer.Revoked, Grants: []string{alice}, Resources: []string{"postgresql_role.grant"}})
	const bob = "prod/db/bob-2"
	provMerge(t, repo, key, at.Add(3*time.Hour), "access/"+bob+".yaml", strings.ReplaceAll(auditGrant, "alice", "bob"))
	auditRecord(t, repo, key, at.Add(3*time.Hour+time.Minute), trailer.Event{Kind: trailer.Activated, Grants: []string{bob}, Resources: []string{"postgresql_role.grant"}, ExpiresAt: at.Add(5 * time.Hour)})
	return repo, key, at
}

// auditJSONField runs jit with args, which must succeed printing a JSON
// array of objects, and returns each object's string field key.
func auditJSONField(t *testing.T, key string, args ...string) []string {
	t.Helper()
	code, out, errOut := run(t, args...)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil {
		t.Fatalf("code %d, %v: %s", code, err, errOut)
	}
	var got []string
	for _, r := range rows {
		v, _ := r[key].(string)
		got = append(got, v)
	}
	return got
}

func TestAuditVerifyCleanAndDirty(t *testing.T) {
	repo, _, at := auditHistory(t)
	now := at.Add(4 * time.Hour).Format(time.RFC3339)
	code, out, errOut := run(t, "audit", "verify", "--repo", repo.Dir, "--now", now)
	if code != 0 || out != "" || !strings.Contains(errOut, "no anomaly in 2 grant(s)") {
		t.Fatalf("clean verify: code %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	// A grant pushed straight to the branch, and bob's never revoked.
	push := repo.Commit("main", "mallory", "add grant", at.Add(5*time.Hour), map[string]string{"access/prod/db/mallory-1.yaml": strings.ReplaceAll(auditGrant, "alice", "mallory")})
	later := at.Add(10 * time.Hour).Format(time.RFC3339)
	code, out, errOut = run(t, "audit", "verify", "--repo", repo.Dir, "--now", later)
	if code != 1 {
		t.Fatalf("dirty verify: code %d, want 1\nstdout %s\nstderr %s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], push.String()+" no-decision prod/db/mallory-1: ") || !strings.Contains(lines[0], " not-revoked prod/db/bob-2: ") {
		t.Errorf("verify output:\n%s", out)
	}
	code, out, _ = run(t, "audit", "verify", "--repo", repo.Dir, "--now", later, "--format", "json")
	var as []struct{ Kind, Grant, Commit string }
	if err := json.Unmarshal([]byte(out), &as); code != 1 || err != nil || len(as) != 2 || as[1].Commit != push.String() {
		t.Errorf("json verify: code %d, %v, %+v", code, err, as)
	}
}

func TestAuditLog(t *testing.T) {
	repo, _, at := auditHistory(t)
	now := at.Add(4 * time.Hour).Format(time.RFC3339)
	code, out, errOut := run(t, "audit", "log", "--repo", repo.Dir, "--now", now, "--format", "csv")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	row := map[string]string{}
	for i, c := range recs[0] {
		row[c] = recs[1][i]
	}
	want := map[string]string{
		"ID": "prod/db/alice-inc-1", "REQUESTER": "alice", "TEMPLATE": "postgres-role", "SCOPE": `{"database":"orders"}`,
		"REASON": "Investigate stuck orders", "TICKET": "INC-1", "POLICY": "all", "APPROVERS": "dba-dan via @acme/dba",
		"PR": row["PR"], "MERGED": "2026-01-05T10:00:00Z", "ACTIVATED": "2026-01-05T10:01:00Z", "RESOURCES": "postgresql_role.grant",
		"EXPIRES": "2026-01-05T12:00:00Z", "REVOKED": "2026-01-05T12:01:00Z", "ENDED": "revoked early by carol", "CLEANUP": "revoked", "ANOMALIES": "-",
	}
	if diff := cmp.Diff(want, row); diff != "" || !strings.HasPrefix(row["PR"], "#") {
		t.Errorf("alice's row (-want +got):\n%s", diff)
	}
	tests := map[string]struct {
		args []string
		want []string
	}{
		"all":               {nil, []string{"prod/db/alice-inc-1", "prod/db/bob-2"}},
		"by requester":      {[]string{"--requester", "BOB"}, []string{"prod/db/bob-2"}},
		"by grant":          {[]string{"--grant", "prod/db/alice-inc-1"}, []string{"prod/db/alice-inc-1"}},
		"since after alice": {[]string{"--since", at.Add(150 * time.Minute).Format(time.RFC3339)}, []string{"prod/db/bob-2"}},
		"until before bob":  {[]string{"--until", at.Add(time.Hour).Format(time.RFC3339)}, []string{"prod/db/alice-inc-1"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := auditJSONField(t, "id", append([]string{"audit", "log", "--repo", repo.Dir, "--now", now, "--format", "json"}, tc.args...)...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
	code, out, _ = run(t, "audit", "log", "--repo", repo.Dir, "--now", now)
	if code != 0 || !strings.HasPrefix(out, "ID ") || strings.Count(out, "\n") != 3 {
		t.Errorf("table: code %d\n%s", code, out)
	}
}

// What a grant file's author writes never reaches the terminal or a
// spreadsheet raw.
func TestAuditOutputEscapesHostileValues(t *testing.T) {
	t0 := gittest.Start
	repo, key := provAccessRepo(t, t0)
	hostile := "template: postgres-role\nrequester: alice\nduration: 1h\nreason: \"=HYPERLINK(1)\\tfake\"\nscope:\n  database: orders\n"
	provMerge(t, repo, key, t0.Add(time.Hour), "access/prod/a.yaml", hostile)
	now := t0.Add(90 * time.Minute).Format(time.RFC3339)
	_, out, _ := run(t, "audit", "log", "--repo", repo.Dir, "--now", now)
	if strings.ContainsAny(out, "\x1b\t") || strings.Count(out, "\n") != 2 {
		t.Errorf("table carries raw control characters:\n%q", out)
	}
	_, out, _ = run(t, "audit", "log", "--repo", repo.Dir, "--now", now, "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 2 || !strings.HasPrefix(recs[1][4], "'=") {
		t.Errorf("csv reason cell %v (%v), want it prefixed with a quote", recs, err)
	}
}

func TestAuditShow(t *testing.T) {
	repo, _, at := auditHistory(t)
	code, out, errOut := run(t, "audit", "show", "prod/db/alice-inc-1", "--repo", repo.Dir, "--now", at.Add(4*time.Hour).Format(time.RFC3339))
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	steps := []string{"2026-01-05T10:00:00Z", "requested", "2026-01-05T10:01:00Z", "activated", "2026-01-05T12:00:00Z", "expire", "revoked-by carol", "2026-01-05T12:01:00Z", "revoked"}
	rest := out[strings.Index(out, "timeline:"):]
	for _, s := range steps {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("timeline lacks %q in order:\n%s", s, out)
		}
		rest = rest[i+len(s):]
	}
	code, _, errOut = run(t, "audit", "show", "prod/db/nobody", "--repo", repo.Dir)
	if code != 2 || !strings.Contains(errOut, `no grant "prod/db/nobody"`) || !strings.Contains(errOut, "jit audit log") {
		t.Errorf("unknown id: code %d, %s", code, errOut)
	}
}

func TestAuditActive(t *testing.T) {
	repo, _, at := auditHistory(t)
	ts := func(d time.Duration) string { return at.Add(d).Format(time.RFC3339) }
	tests := map[string]struct {
		args []string
		want []string
	}{
		"before any grant":    {[]string{"--at", ts(0)}, nil},
		"alice live":          {[]string{"--at", ts(time.Hour)}, []string{"prod/db/alice-inc-1"}},
		"after alice revoked": {[]string{"--at", ts(150 * time.Minute)}, nil},
		"bob never revoked":   {[]string{"--at", ts(100 * time.Hour)}, []string{"prod/db/bob-2"}},
		"between both":        {[]string{"--between", ts(time.Hour), ts(4 * time.Hour)}, []string{"prod/db/alice-inc-1", "prod/db/bob-2"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := auditJSONField(t, "grant", append([]string{"audit", "active", "--repo", repo.Dir, "--format", "json"}, tc.args...)...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("live (-want +got):\n%s", diff)
			}
		})
	}
	_, out, _ := run(t, "audit", "active", "--repo", repo.Dir, "--at", ts(100*time.Hour))
	if !strings.Contains(out, "(not revoked)") || !strings.Contains(out, "postgresql_role.grant") {
		t.Errorf("table:\n%s", out)
	}
}

func TestAuditUsageErrors(t *testing.T) {
	repo, _, _ := auditHistory(t)
	tests := map[string]struct {
		args []string
		want string
	}{
		"no subcommand":         {nil, "give a subcommand"},
		"unknown subcommand":    {[]string{"blame"}, `unknown subcommand "blame"`},
		"active without a time": {[]string{"active", "--repo", repo.Dir}, "give either --at T or --between T1 T2"},
		"active with both":      {[]string{"active", "--repo", repo.Dir, "--at", "2026-01-05T10:00:00Z", "--between", "2026-01-05T10:00:00Z", "2026-01-05T11:00:00Z"}, "give either"},
		"between with one time": {[]string{"active", "--repo", repo.Dir, "--between", "2026-01-05T10:00:00Z"}, "--between needs two times"},
		"between reversed":      {[]string{"active", "--repo", repo.Dir, "--between", "2026-01-05T11:00:00Z", "2026-01-05T10:00:00Z"}, "the end is before the start"},
		"bad time":              {[]string{"active", "--repo", repo.Dir, "--at", "yesterday"}, `--at "yesterday": want an RFC 3339 time`},
		"bad format":            {[]string{"log", "--repo", repo.Dir, "--format", "xml"}, `--format "xml": use one of table, json, csv`},
		"show without an id":    {[]string{"show", "--repo", repo.Dir}, "give exactly one grant ID"},
		"not a repository":      {[]string{"verify", "--repo", t.TempDir()}, "give the access repository with --repo"},
		"unknown revision":      {[]string{"verify", "--repo", repo.Dir, "--rev", "nope"}, `resolving revision "nope"`},
		"renewal run of one":    {[]string{"verify", "--repo", repo.Dir, "--renewal-run", "1"}, "--renewal-run 1 would flag every grant"},
		"negative renewal gap":  {[]string{"verify", "--repo", repo.Dir, "--renewal-gap", "-1m"}, "--renewal-gap -1m0s: give a positive duration"},
		"stray argument to log": {[]string{"log", "--repo", repo.Dir, "alice"}, `unexpected argument "alice"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := run(t, append([]string{"audit"}, tc.args...)...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("code %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
}

// reportHistory is auditHistory (alice revoked early by carol, bob never
// revoked: an anomaly by now) and then: carol's grant, expired and revoked;
// a policy change allowing break-glass and dave's break-glass grant,
// reviewed, expired and revoked; erin's grant, whose reason is hostile
// markup, expired but never revoked (an anomaly); mallory's grant pushed
// straight to the branch (an anomaly, never live); and frank's grant,
// activated and still live at the returned now.
func reportHistory(t *testing.T) (repo *gittest.Repo, now time.Time) {
	repo, key, at := auditHistory(t)
	lifecycle := func(id, content string, merged time.Time, d time.Duration, revoke bool) {
		provMerge(t, repo, key, merged, "access/"+id+".yaml", content)
		auditRecord(t, repo, key, merged.Add(time.Minute), trailer.Event{Kind: trailer.Activated, Grants: []string{id}, Resources: []string{"postgresql_role.grant"}, ExpiresAt: merged.Add(d)})
		if strings.Contains(content, "break_glass: true") {
			auditRecord(t, repo, key, merged.Add(30*time.Minute), trailer.Event{Kind: trailer.BreakGlassReviewed, Grants: []string{id}, ReviewedBy: []string{"dba-dan"}})
		}
		auditExpire(t, repo, key, merged.Add(d), id, trailer.ReasonExpired)
		if revoke {
			auditRecord(t, repo, key, merged.Add(d+time.Minute), trailer.Event{Kind: trailer.Revoked, Grants: []string{id}, Resources: []string{"postgresql_role.grant"}})
		}
	}
	lifecycle("prod/db/carol-3", strings.ReplaceAll(auditGrant, "alice", "carol"), at.Add(5*time.Hour), 2*time.Hour, true)
	repo.Commit("main", "admin", "allow break-glass", at.Add(5*time.Hour+30*time.Minute), map[string]string{"policies/all.hcl": `policy "all" {
  paths        = ["access/**"]
  templates    = ["postgres-role"]
  max_duration = "24h"
  approvals    = 1
  break_glass {
    allowed       = true
    max_duration  = "1h"
    review_window = "24h"
  }
}
`})
	lifecycle("prod/db/dave-4", strings.ReplaceAll(strings.ReplaceAll(auditGrant, "alice", "dave"), "2h", "1h")+"break_glass: true\n", at.Add(6*time.Hour), time.Hour, true)
	hostile := strings.ReplaceAll(strings.ReplaceAll(auditGrant, "alice", "erin"), "Investigate stuck orders",
		`"</script><script>document.body.dataset.pwned='1'</script><img src=x onerror=\"document.body.dataset.pwned='2'\">"`)
	lifecycle("prod/db/erin-5", hostile, at.Add(8*time.Hour), time.Hour, false)
	repo.Commit("main", "mallory", "add grant", at.Add(10*time.Hour), map[string]string{"access/prod/db/mallory-6.yaml": strings.ReplaceAll(auditGrant, "alice", "mallory")})
	const frank = "prod/db/frank-7"
	provMerge(t, repo, key, at.Add(11*time.Hour), "access/"+frank+".yaml", strings.ReplaceAll(auditGrant, "alice", "frank"))
	auditRecord(t, repo, key, at.Add(11*time.Hour+time.Minute), trailer.Event{Kind: trailer.Activated, Grants: []string{frank}, Resources: []string{"postgresql_role.grant"}, ExpiresAt: at.Add(13 * time.Hour)})
	return repo, at.Add(12 * time.Hour)
}

var (
	// tagAttrs matches an opening tag whose attributes are all quoted (as
	// both html/template and Chromium's serializer write them).
	tagAttrs   = regexp.MustCompile(`<([a-z]+)((?:\s+[a-z-]+="[^"]*")*)\s*>`)
	attr       = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
	networkRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//`)
)

// element is an opening tag and its attributes.
type element struct {
	tag   string
	attrs map[string]string
}

// elements returns the opening tags of page with their attributes.
func elements(page string) []element {
	var out []element
	for _, m := range tagAttrs.FindAllStringSubmatch(page, -1) {
		e := element{tag: m[1], attrs: map[string]string{}}
		for _, a := range attr.FindAllStringSubmatch(m[2], -1) {
			e.attrs[a[1]] = html.UnescapeString(a[2])
		}
		out = append(out, e)
	}
	return out
}

// chromium returns the path of Chromium, skipping the test when it is
// missing (failing under CI=true) or with -short.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not starting Chromium")
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v (install Debian's chromium package)", err)
		}
		t.Skipf("no chromium: %v", err)
	}
	return p
}

// dumpDOM opens file in headless Chromium, lets its scripts run and returns
// the DOM it ends with.
func dumpDOM(t *testing.T, file string) string {
	t.Helper()
	bin := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--dump-dom", "file://"+file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "</html>") {
		t.Fatalf("chromium --dump-dom %s: %v\n%s\nstderr:\n%s", file, err, out, stderr.String())
	}
	return string(out)
}

// The report Chromium renders draws one bar per grant that was ever live,
// exactly as the trail says, without a script error, and nothing a grant
// file holds runs as script.
func TestAuditReportRendersInChromium(t *testing.T) {
	chromium(t)
	repo, now := reportHistory(t)
	file := filepath.Join(t.TempDir(), "report.html")
	code, out, errOut := run(t, "audit", "report", "--html", file, "--repo", repo.Dir, "--now", now.Format(time.RFC3339))
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	want := "wrote " + file + ": 7 grant(s), 6 ever live, 3 anomalies, read up to "
	if !strings.HasPrefix(out, want) || !strings.HasSuffix(out, " as of "+now.Format(time.RFC3339)+"\n") {
		t.Errorf("stdout %q, want it to start with %q", out, want)
	}
	page, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("report mode %v (%v), want 0644", fi.Mode(), err)
	}

	h, err := history.Open(repo.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	tr, err := audit.Read(context.Background(), h, "HEAD", audit.Options{Now: now, RenewalGap: audit.DefaultRenewalGap, RenewalRun: audit.DefaultRenewalRun})
	if err != nil {
		t.Fatal(err)
	}
	type bar struct{ Grant, From, To, Class string }
	var wantBars []bar
	for _, s := range tr.Stories {
		iv, ok := s.Live()
		if !ok {
			continue
		}
		to := iv.To
		if to.IsZero() {
			to = now
		}
		wantBars = append(wantBars, bar{s.ID, iv.From.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), ""})
	}
	classes := map[string]string{
		"prod/db/alice-inc-1": "revoked-early", "prod/db/bob-2": "anomalous", "prod/db/carol-3": "expired",
		"prod/db/dave-4": "break-glass", "prod/db/erin-5": "anomalous", "prod/db/frank-7": "live",
	}
	for i := range wantBars {
		wantBars[i].Class = "bar " + classes[wantBars[i].Grant]
	}
	if len(wantBars) != 6 || len(tr.Stories) != 7 || len(tr.Anomalies) != 3 {
		t.Fatalf("the history has %d stories, %d live intervals and anomalies %v; want 7, 6 and 3", len(tr.Stories), len(wantBars), tr.Anomalies)
	}

	dom := dumpDOM(t, file)
	var gotBars []bar
	var body map[string]string
	for _, e := range elements(dom) {
		switch {
		case e.tag == "body":
			body = e.attrs
		case e.tag == "img", e.tag == "script" && e.attrs["src"] != "":
			t.Errorf("the DOM holds %s %v", e.tag, e.attrs)
		case strings.HasPrefix(e.attrs["class"], "bar "):
			gotBars = append(gotBars, bar{e.attrs["data-grant"], e.attrs["data-from"], e.attrs["data-to"], e.attrs["class"]})
		}
	}
	if body == nil {
		t.Fatalf("no body in the dumped DOM:\n%s", dom)
	}
	if msg, ok := body["data-error"]; ok {
		t.Errorf("script error: %s", msg)
	}
	if body["data-rendered"] != strconv.Itoa(len(wantBars)) || body["data-pwned"] != "" {
		t.Errorf("body %v: want data-rendered=%d and no data-pwned", body, len(wantBars))
	}
	if diff := cmp.Diff(wantBars, gotBars); diff != "" {
		t.Errorf("bars (-want +got):\n%s", diff)
	}
	for name, text := range map[string]string{"the file": string(page), "the DOM": dom} {
		if m := networkRef.FindString(text); m != "" {
			t.Errorf("%s loads %q from the network", name, m)
		}
	}
	if !strings.Contains(dom, "&lt;/script&gt;&lt;script&gt;document.body.dataset.pwned") {
		t.Errorf("erin's reason is not shown as text in the table")
	}
}

func TestAuditReportWritesAndRefuses(t *testing.T) {
	repo, _, at := auditHistory(t)
	now := at.Add(4 * time.Hour).Format(time.RFC3339)
	dir := t.TempDir()
	file := filepath.Join(dir, "audit.html")
	if err := os.WriteFile(file, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "audit", "report", "--repo", repo.Dir, "--now", now, "--html", file)
	if code != 0 || !strings.HasPrefix(out, "wrote "+file+": 2 grant(s), 2 ever live, 0 anomalies, read up to ") {
		t.Fatalf("code %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	page, err := os.ReadFile(file)
	if err != nil || !strings.HasPrefix(string(page), "<!DOCTYPE html>") || !strings.Contains(string(page), "prod/db/bob-2") {
		t.Errorf("the file was not replaced by the report (%v):\n%.200s", err, page)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".jit-audit-*")); len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}

	tests := map[string]struct {
		args []string
		want string
	}{
		"no --html":        {nil, "give the file to write with --html FILE"},
		"a directory":      {[]string{"--html", dir}, "--html " + dir + " is a directory: give a file path such as " + filepath.Join(dir, "audit.html")},
		"missing dir":      {[]string{"--html", filepath.Join(dir, "no", "such", "a.html")}, "check that its directory exists and is writable"},
		"stray argument":   {[]string{"--html", file, "extra"}, `unexpected argument "extra"; give the output file with --html FILE`},
		"another format":   {[]string{"--html", file, "--format", "json"}, `--format "json": use one of html`},
		"not a repository": {[]string{"--html", filepath.Join(dir, "b.html"), "--repo", dir}, "give the access repository with --repo"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"audit", "report", "--now", now}, tc.args...)
			if !slices.Contains(tc.args, "--repo") {
				args = append(args, "--repo", repo.Dir)
			}
			code, _, errOut := run(t, args...)
			if code != 2 || !strings.HasPrefix(errOut, "jit audit report: ") || !strings.Contains(errOut, tc.want) {
				t.Errorf("code %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "b.html")); err == nil {
		t.Error("a report was written although the repository could not be read")
	}
}
