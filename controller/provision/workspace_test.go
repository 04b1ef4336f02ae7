package provision_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/gittest"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/terraform"
)

// TestLegacyWorkspaceNames: a state written when workspace names carried a
// 40-bit hash is still fully served: its workspaces are listed with their
// grants, applied in place (no second workspace for the same grant), and
// destroyed by grant id.
func TestLegacyWorkspaceNames(t *testing.T) {
	e := newEnv(t)
	targets := t.TempDir()
	req := dataGrant("prod/db/legacy", "v1", targets)
	if _, err := e.manager().Apply(ctxFor(t), req, expiry); err != nil {
		t.Fatal(err)
	}
	// Turn the workspace into one named the old way, as an older jit left it.
	current, legacy := render.WorkspaceName(req.ID), render.LegacyWorkspaceName(req.ID)
	if err := os.Rename(filepath.Join(e.backend.Dir, current), filepath.Join(e.backend.Dir, legacy)); err != nil {
		t.Fatal(err)
	}
	e.work = t.TempDir() // a later jit, without the earlier run's cache
	m := e.manager()

	ws, err := m.Workspaces(ctxFor(t))
	want := []provision.Workspace{{Name: legacy, Grant: req.ID, Template: "data", ExpiresAt: expiry, Complete: true}}
	if err != nil || !cmp.Equal(want, ws) {
		t.Fatalf("Workspaces = %+v, %v; want %+v", ws, err, want)
	}
	later := expiry.Add(time.Hour)
	a, err := m.Apply(ctxFor(t), req, later)
	if err != nil || a.Workspace != legacy || !cmp.Equal(a.Resources, []string{"terraform_data.second"}) {
		t.Fatalf("Apply = %+v, %v; want terraform_data.second updated in the legacy workspace %s", a, err, legacy)
	}
	ws, err = m.Workspaces(ctxFor(t))
	want[0].ExpiresAt = later
	if err != nil || !cmp.Equal(want, ws) {
		t.Errorf("after the apply Workspaces = %+v, %v; want %+v (no second workspace)", ws, err, want)
	}
	d, err := m.Destroy(ctxFor(t), req.ID)
	if err != nil || !d.Existed || d.Workspace != legacy {
		t.Fatalf("Destroy = %+v, %v", d, err)
	}
	if _, err := os.Stat(markerFile(targets, req.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the target survived the destroy: %v", err)
	}
	if ws, err := m.Workspaces(ctxFor(t)); err != nil || len(ws) != 0 {
		t.Errorf("after the destroy Workspaces = %+v, %v", ws, err)
	}
}

// TestTemplatesComeFromTheRevision: the manager reads templates only from
// the tree it is given, here a git commit, whatever the working tree holds.
func TestTemplatesComeFromTheRevision(t *testing.T) {
	repo := gittest.New(t)
	committed, err := os.ReadFile("testdata/repo/templates/data/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	repo.Commit("main", "admin", "template", gittest.Start, map[string]string{"templates/data/main.tf": string(committed)})
	repo.Checkout("main")
	// The working tree is changed (not committed): a template that would
	// write something else. It must not be used.
	repo.WriteFile("templates/data/main.tf", strings.Replace(string(committed), `printf '%s' \"$VALUE\"`, `printf 'from the working tree'`, 1))

	h, err := history.Open(repo.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	c, err := h.Resolve("main")
	if err != nil {
		t.Fatal(err)
	}
	tree, err := h.FS(c)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.templates = tree
	targets := t.TempDir()
	req := dataGrant("dev/rev", "from the commit", targets)
	if _, err := e.manager().Apply(ctxFor(t), req, expiry); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(markerFile(targets, req.ID)); string(b) != "from the commit" {
		t.Errorf("the target holds %q: the template did not come from the commit", b)
	}

	// An in-memory tree works as well: nothing is read from disk.
	e.templates = fstest.MapFS{"templates/mem/main.tf": {Data: []byte("variable \"v\" {\n  type = string\n}\nresource \"terraform_data\" \"x\" {\n  input = var.v\n}\n")}}
	mem := grant.Request{ID: "dev/mem", File: "access/dev/mem.yaml", Template: "mem", Requester: "alice", Scope: map[string]any{"v": "x"}}
	if a, err := e.manager().Apply(ctxFor(t), mem, expiry); err != nil || strings.Join(a.Resources, ",") != "terraform_data.x" {
		t.Errorf("apply from an in-memory tree = %+v, %v", a, err)
	}
	if _, err := provision.New(provision.Config{Terraform: terraform.NewRunner(terraformPath(t), nil), Backend: e.backend}); err == nil || err.Error() != "provision: no templates configured: pass the tree of the revision being applied" {
		t.Errorf("New without templates: %v", err)
	}
}

// TestReassertReRunsEnsureResources: Apply leaves an unchanged grant alone
// even when its target drifted; Reassert re-runs the template's re-runnable
// resource (and only that one) so the target converges.
func TestReassertReRunsEnsureResources(t *testing.T) {
	e := newEnv(t)
	m := e.manager()
	target := filepath.Join(t.TempDir(), "target")
	req := grant.Request{ID: "dev/ensure", File: "access/dev/ensure.yaml", Template: "ensure", Requester: "alice", Scope: map[string]any{"path": target, "value": "granted"}}
	if _, err := m.Apply(ctxFor(t), req, expiry); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, []byte("changed by hand"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := m.Apply(ctxFor(t), req, expiry)
	if err != nil || len(a.Resources) != 0 {
		t.Fatalf("plain re-apply = %+v, %v; want no changes", a, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "changed by hand" {
		t.Fatalf("plain apply touched the target: %q", b)
	}
	a, err = m.Reassert(ctxFor(t), req, expiry)
	if err != nil || !cmp.Equal(a.Resources, []string{"terraform_data.ensure"}) {
		t.Fatalf("Reassert = %+v, %v; want terraform_data.ensure re-created", a, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "granted" {
		t.Errorf("after Reassert the target holds %q, want granted", b)
	}
	if err := os.Remove(target); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Reassert(ctxFor(t), req, expiry); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "granted" {
		t.Errorf("after the target was removed, Reassert left %q", b)
	}
	// A grant with no workspace yet: Reassert creates it like Apply.
	other := req
	other.ID, other.Scope = "dev/ensure-new", map[string]any{"path": target + "2", "value": "new"}
	if a, err := m.Reassert(ctxFor(t), other, expiry); err != nil || len(a.Resources) != 2 {
		t.Errorf("Reassert of a new grant = %+v, %v", a, err)
	}
}

// TestUsedMarksTheBackend: a backend jit never used says so, one where a
// grant was applied says it was used, even after every grant is destroyed.
func TestUsedMarksTheBackend(t *testing.T) {
	e := newEnv(t)
	m := e.manager()
	used, err := m.Used(ctxFor(t))
	if err != nil || used {
		t.Fatalf("Used on a fresh backend = %v, %v", used, err)
	}
	// A failed destroy or a refused apply does not count as use.
	if d, err := m.Destroy(ctxFor(t), "dev/never"); err != nil || d.Existed {
		t.Fatalf("Destroy of an unknown grant = %+v, %v", d, err)
	}
	bad := dataGrant("dev/bad", "", "")
	bad.Scope["sleep"] = "x"
	if _, err := m.Apply(ctxFor(t), bad, expiry); err == nil {
		t.Fatal("apply of a bad scope succeeded")
	}
	if used, err := m.Used(ctxFor(t)); err != nil || used {
		t.Fatalf("Used after only refusals = %v, %v", used, err)
	}
	req := dataGrant("dev/used", "v", "")
	if _, err := m.Apply(ctxFor(t), req, expiry); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Destroy(ctxFor(t), req.ID); err != nil {
		t.Fatal(err)
	}
	if ws, err := m.Workspaces(ctxFor(t)); err != nil || len(ws) != 0 {
		t.Fatalf("Workspaces = %+v, %v; want none", ws, err)
	}
	for _, mm := range []*provision.Manager{m, e.manager()} {
		if used, err := mm.Used(ctxFor(t)); err != nil || !used {
			t.Errorf("Used after a grant came and went = %v, %v; want true", used, err)
		}
	}
	if got := m.Backend().String(); got != "local:"+e.backend.Dir {
		t.Errorf("Backend = %s", got)
	}
}

// TestBadScopeCreatesNothing: a scope the template's own rules reject is
// refused before a workspace exists or anything is issued.
func TestBadScopeCreatesNothing(t *testing.T) {
	e := newEnv(t)
	e.templates = withPostgresRole(t)
	keys := &recordingKeys{keys: map[string][]string{"alice": {newPerson(t).authorized}}}
	sink := &memSink{}
	e.keys, e.sink = keys, sink
	m := e.manager()
	req := grant.Request{ID: "prod/db/bad-name", File: "access/prod/db/bad-name.yaml", Template: "postgres-role", Requester: "alice",
		Duration: time.Hour, Scope: map[string]any{"database": "Bad-Name!"}, Pos: map[string]grant.Pos{"scope.database": {Line: 7, Column: 13}}}
	_, err := m.Apply(ctxFor(t), req, expiry)
	want := "grant prod/db/bad-name: the scope does not fit template postgres-role: access/prod/db/bad-name.yaml:7:13: scope.database: The database must be a lower-case PostgreSQL identifier"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error = %v\nwant prefix %q", err, want)
	}
	if ws, err := m.Workspaces(ctxFor(t)); err != nil || len(ws) != 0 {
		t.Errorf("Workspaces = %+v, %v; want none", ws, err)
	}
	if used, err := m.Used(ctxFor(t)); err != nil || used {
		t.Errorf("Used = %v, %v; want the backend untouched", used, err)
	}
	if len(sink.got) != 0 || keys.asked != 0 {
		t.Errorf("%d credentials delivered, keys asked %d times; want nothing issued", len(sink.got), keys.asked)
	}
}

// withPostgresRole returns testdata/repo with the shipped postgres-role
// template added, as an in-memory tree.
func withPostgresRole(t testing.TB) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, root := range []struct{ dir, prefix string }{{"testdata/repo", ""}, {"../../templates/postgres-role", "templates/postgres-role/"}} {
		err := filepath.WalkDir(root.dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root.dir, p)
			info, err := d.Info()
			if err != nil {
				return err
			}
			fsys[root.prefix+filepath.ToSlash(rel)] = &fstest.MapFile{Data: b, Mode: info.Mode().Perm()}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return fsys
}
