package provision_test

import (
	"bytes"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/terraform"
)

// sameErr compares errors by presence only: the two paths word a broken
// state differently (terraform's `state pull` vs the state's own bytes).
var sameErr = cmp.Comparer(func(a, b error) bool { return (a == nil) == (b == nil) })

// mixedGrants fills e's backend through the real terraform with one
// workspace of each kind the listing must tell apart, and returns their
// names: a complete grant, one whose provisioner failed (a tainted
// resource), one whose password was never delivered (every resource there,
// still incomplete), and one without jit's record (its apply failed before
// terraform wrote anything).
func mixedGrants(t *testing.T, e *env) (m *provision.Manager, names map[string]string) {
	t.Helper()
	alice := newPerson(t)
	e.keys, e.sink = memKeys{"alice": {alice.authorized}}, &failingSink{fail: true}
	m = e.manager()
	ctx := ctxFor(t)
	complete := dataGrant("prod/db/complete", "v", t.TempDir())
	tainted := dataGrant("prod/db/tainted", "v", "")
	tainted.Scope["sleep"] = int64(-1) // the provisioner fails: sleep refuses it
	undelivered := passwordGrant("prod/db/undelivered")
	recordless := dataGrant("prod/db/recordless", "not ok", "")
	recordless.Template, recordless.Scope = "terraformonly", map[string]any{"value": "not ok"}
	if _, err := m.Apply(ctx, complete, expiry); err != nil {
		t.Fatal(err)
	}
	for _, req := range []grant.Request{tainted, undelivered, recordless} {
		if _, err := m.Apply(ctx, req, expiry); err == nil {
			t.Fatalf("apply of %s succeeded; the test needs it to fail", req.ID)
		}
	}
	names = map[string]string{}
	for kind, req := range map[string]grant.Request{"complete": complete, "tainted": tainted, "undelivered": undelivered, "recordless": recordless} {
		names[kind] = render.WorkspaceName(req.ID)
	}
	return m, names
}

// checkBothPaths lists m's workspaces straight from the storage and through
// terraform, requires the same []Workspace from both, and returns it by name.
func checkBothPaths(t *testing.T, m *provision.Manager) map[string]provision.Workspace {
	t.Helper()
	ctx := ctxFor(t)
	direct, err := m.WorkspacesDirect(ctx)
	if err != nil {
		t.Fatalf("reading the states directly: %v", err)
	}
	viaTF, err := m.WorkspacesByTerraform(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(viaTF, direct, sameErr); d != "" {
		t.Errorf("direct read differs from terraform's (-terraform +direct):\n%s", d)
	}
	listed, err := m.Workspaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(direct, listed, sameErr); d != "" {
		t.Errorf("Workspaces differs from the direct read (-direct +Workspaces):\n%s", d)
	}
	out := map[string]provision.Workspace{}
	for _, w := range direct {
		out[w.Name] = w
	}
	return out
}

// checkKinds checks what the listing says of each workspace of mixedGrants.
func checkKinds(t *testing.T, got map[string]provision.Workspace, names map[string]string) {
	t.Helper()
	if len(got) != len(names) {
		t.Errorf("%d workspaces listed, want %d: %+v", len(got), len(names), got)
	}
	want := map[string]provision.Workspace{
		"complete":   {Name: names["complete"], Grant: "prod/db/complete", Template: "data", ExpiresAt: expiry, Complete: true},
		"recordless": {Name: names["recordless"]},
	}
	for kind, w := range want {
		if _, ok := names[kind]; !ok {
			continue
		}
		if d := cmp.Diff(w, got[names[kind]], sameErr); d != "" {
			t.Errorf("%s workspace (-want +got):\n%s", kind, d)
		}
	}
	for _, kind := range []string{"tainted", "undelivered"} {
		if _, ok := names[kind]; !ok {
			continue
		}
		w, ok := got[names[kind]]
		if !ok || w.Complete || w.Err != nil || w.Grant != "prod/db/"+kind {
			t.Errorf("%s workspace = %+v (listed %v); want it listed with its grant, incomplete, without error", kind, w, ok)
		}
	}
}

// checkCorrupt checks, on both paths, that the workspace of kind, whose
// state was cut short, is listed with only its Err, and the others as
// checkKinds wants them.
func checkCorrupt(t *testing.T, m *provision.Manager, names map[string]string, kind string) {
	t.Helper()
	got := checkBothPaths(t, m)
	w := got[names[kind]]
	wantMsg := "workspace " + names[kind] + ": the state is not terraform's JSON state format: unexpected end of JSON input"
	if w.Err == nil || w.Err.Error() != wantMsg || w.Grant != "" || w.Complete {
		t.Errorf("corrupt workspace = %+v; want only Err %q", w, wantMsg)
	}
	rest := maps.Clone(names)
	delete(got, names[kind])
	delete(rest, kind)
	checkKinds(t, got, rest)
}

func TestDirectReadMatchesTerraformLocal(t *testing.T) {
	e := newEnv(t)
	m, names := mixedGrants(t, e)
	checkKinds(t, checkBothPaths(t, m), names)

	// A state file cut short (as a crash mid-write leaves it, and as a read
	// racing terraform's rewrite sees it) is that workspace's Err, after one
	// more read; the others are still listed.
	path := filepath.Join(e.backend.Dir, names["complete"], "terraform.tfstate")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the local backend's state file is not where jit reads it: %v", err)
	}
	if err := os.WriteFile(path, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	checkCorrupt(t, m, names, "complete")
}

// TestDirectReadLocalRetriesAWriteInProgress: a state file that is empty
// when first read (terraform truncates before it writes) is read again, and
// what terraform wrote meanwhile is listed.
func TestDirectReadLocalRetriesAWriteInProgress(t *testing.T) {
	e := newEnv(t)
	m := e.manager()
	req := dataGrant("prod/db/rewritten", "v", "")
	if _, err := m.Apply(ctxFor(t), req, expiry); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.backend.Dir, render.WorkspaceName(req.ID), "terraform.tfstate")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		// Well inside the reader's pause before its second read.
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Error(err)
		}
	})
	got, err := m.WorkspacesDirect(ctxFor(t))
	wg.Wait()
	want := []provision.Workspace{{Name: render.WorkspaceName(req.ID), Grant: req.ID, Template: "data", ExpiresAt: expiry, Complete: true}}
	if d := cmp.Diff(want, got, sameErr); err != nil || d != "" {
		t.Errorf("WorkspacesDirect = %v (-want +got):\n%s", err, d)
	}
}

func TestDirectReadMatchesTerraformPG(t *testing.T) {
	c := pgtest.Shared(t)
	e := pgEnv(t, c, "state_direct")
	m, names := mixedGrants(t, e)
	checkKinds(t, checkBothPaths(t, m), names)

	// terraform 1.5's pg backend layout, as jit reads it: <schema>.states
	// with the state's JSON in data, one row per workspace by name.
	layout := c.Psql(t, "state_direct", "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'jit_state' AND table_name = 'states'")
	if layout != "id bigint, name text, data text" {
		t.Errorf("jit_state.states has columns %q", layout)
	}
	rows := c.Psql(t, "state_direct", "SELECT string_agg(name, ',' ORDER BY name) FROM jit_state.states WHERE name LIKE 'jit-prod%'")
	var want []string
	for _, n := range names {
		want = append(want, n)
	}
	if !sameSet(strings.Split(rows, ","), want) {
		t.Errorf("rows %s, want the workspaces %v", rows, want)
	}

	// A corrupt row is that workspace's Err; the others are still listed.
	c.Psql(t, "state_direct", "UPDATE jit_state.states SET data = left(data, 40) WHERE name = :'ws'", "ws="+names["tainted"])
	checkCorrupt(t, m, names, "tainted")
}

// TestDirectReadFallsBackToTerraform: a pg backend terraform never
// initialised has no states table; the direct read says so, and Workspaces
// asks terraform instead (which creates it), logging why at debug level and
// never the connection string.
func TestDirectReadFallsBackToTerraform(t *testing.T) {
	c := pgtest.Shared(t)
	e := pgEnv(t, c, "state_fallback")
	var logs bytes.Buffer
	m, err := provision.New(provision.Config{
		Logger:    slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Terraform: terraform.NewRunner(terraformPath(t), nil),
		Backend:   e.backend,
		Templates: e.templates,
		WorkDir:   e.work,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	if _, err := m.WorkspacesDirect(ctx); err == nil || !strings.Contains(err.Error(), `relation "jit_state.states" does not exist`) {
		t.Errorf("WorkspacesDirect on a fresh database: %v; want the missing table named", err)
	}
	ws, err := m.Workspaces(ctx)
	if err != nil || len(ws) != 0 {
		t.Fatalf("Workspaces = %+v, %v; want none, through terraform", ws, err)
	}
	if !strings.Contains(logs.String(), "asking terraform") {
		t.Errorf("the fallback is not logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), e.backend.ConnStr) {
		t.Errorf("the log holds the connection string:\n%s", logs.String())
	}
	// terraform created the table: now the direct read works.
	if _, err := m.WorkspacesDirect(ctx); err != nil {
		t.Errorf("WorkspacesDirect after terraform initialised the backend: %v", err)
	}
}

func sameSet(a, b []string) bool {
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
