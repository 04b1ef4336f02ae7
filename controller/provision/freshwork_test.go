package provision_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/render"
)

// A destroy by a controller whose work directory is new (another replica,
// the Actions sweep, a wiped cache) finds the workspace and its state
// without terraform and selects it without `terraform workspace select`:
// it must destroy exactly that grant's resources, in its own workspace,
// on both backends, and leave the other grant alone.
func TestDestroyFromAFreshWorkDir(t *testing.T) {
	for _, kind := range []string{"local", "pg"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t)
			if kind == "pg" {
				e = pgEnv(t, pgtest.Shared(t), "state_freshwork")
			}
			ctx := ctxFor(t)
			targets := t.TempDir()
			keep, gone := dataGrant("prod/db/keep", "k", targets), dataGrant("prod/db/gone", "g", targets)
			m := e.manager()
			if _, err := m.Apply(ctx, keep, expiry); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Apply(ctx, gone, expiry); err != nil {
				t.Fatal(err)
			}
			e.work = filepath.Join(t.TempDir(), "fresh")
			fresh := e.manager()
			d, err := fresh.DestroyGrant(ctx, gone, expiry)
			if err != nil {
				t.Fatal(err)
			}
			want := provision.Destroyed{Grant: gone.ID, Workspace: render.WorkspaceName(gone.ID), Existed: true, Resources: []string{"terraform_data.grant", "terraform_data.second"}}
			if diff := cmp.Diff(want, d); diff != "" {
				t.Errorf("DestroyGrant (-want +got):\n%s", diff)
			}
			if _, err := os.Stat(markerFile(targets, gone.ID)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the target still holds the destroyed grant: %v", err)
			}
			if _, err := os.Stat(markerFile(targets, keep.ID)); err != nil {
				t.Errorf("the target lost the other grant: %v", err)
			}
			ws, err := fresh.Workspaces(ctx)
			if err != nil || len(ws) != 1 || ws[0].Grant != keep.ID || !ws[0].Complete {
				t.Errorf("Workspaces after the destroy = %+v, %v; want only %s, complete", ws, err, keep.ID)
			}
			// The same through DestroyWorkspace, which knows only the name.
			e.work = filepath.Join(t.TempDir(), "fresher")
			d, err = e.manager().DestroyWorkspace(ctx, render.WorkspaceName(keep.ID))
			if err != nil || !d.Existed || !cmp.Equal(d.Resources, want.Resources) || d.Grant != keep.ID {
				t.Errorf("DestroyWorkspace = %+v, %v; want %s's two resources", d, err, keep.ID)
			}
			if _, err := os.Stat(markerFile(targets, keep.ID)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the target still holds the grant destroyed by workspace: %v", err)
			}
			if names, err := fresh.WorkspaceNames(ctx); err != nil || len(names) != 0 {
				t.Errorf("WorkspaceNames at the end = %v, %v; want none", names, err)
			}
		})
	}
}
