package provision_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/terraform"
)

// The pg backend's workspace rows are deleted without terraform only as
// `terraform workspace delete` would: never while a terraform holds the
// state's lock (that is retryable, never success), never while the state
// holds resources, and a row already gone is success.
func TestPGDeleteWorkspace(t *testing.T) {
	c := pgtest.Shared(t)
	e := pgEnv(t, c, "state_pgdelete")
	m := e.manager()
	ctx := ctxFor(t)
	// One real apply makes terraform create its table.
	if _, err := m.Apply(ctx, dataGrant("prod/db/real", "v", ""), expiry); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, e.backend.ConnStr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	insert := func(id, state string) (string, int64) {
		t.Helper()
		ws := render.WorkspaceName(id)
		var row int64
		if err := conn.QueryRow(ctx, "INSERT INTO jit_state.states (name, data) VALUES ($1, $2) RETURNING id", ws, state).Scan(&row); err != nil {
			t.Fatal(err)
		}
		return ws, row
	}
	exists := func(ws string) bool {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM jit_state.states WHERE name = $1", ws).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	const empty = `{"version": 4, "terraform_version": "1.5.7", "serial": 3, "lineage": "l", "outputs": {}, "resources": []}`

	// Held by another session, as terraform's pg backend holds a state's
	// lock: refused as locked, and through the Manager after its retries.
	locked, id := insert("prod/db/locked", empty)
	holder, err := pgx.Connect(ctx, e.backend.ConnStr)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(context.Background())
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock($1)", id); err != nil {
		t.Fatal(err)
	}
	if handled, err := m.DeleteWorkspacePG(ctx, locked); !handled || !terraform.IsLocked(err) || !strings.Contains(err.Error(), locked) {
		t.Errorf("deleting a locked workspace = %t, %v; want a lock error naming it", handled, err)
	}
	if _, err := m.DestroyWorkspace(ctx, locked); !terraform.IsLocked(err) {
		t.Errorf("DestroyWorkspace of a locked empty workspace = %v, want a lock error", err)
	}
	if !exists(locked) {
		t.Fatal("the locked workspace was deleted")
	}
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", id); err != nil {
		t.Fatal(err)
	}
	if d, err := m.DestroyWorkspace(ctx, locked); err != nil || !d.Existed || len(d.Resources) != 0 {
		t.Errorf("DestroyWorkspace once unlocked = %+v, %v; want the empty workspace deleted", d, err)
	}
	if exists(locked) {
		t.Error("the workspace is still there once unlocked")
	}

	// A real terraform applying a grant holds the lock jit checks: the row
	// id as an advisory key (seen in pg_locks), and the direct delete is
	// refused while it runs, even though the state holds nothing yet.
	slow := dataGrant("prod/db/slow", "v", "")
	slow.Scope["sleep"] = int64(6)
	done := make(chan error, 1)
	go func() { _, err := m.Apply(ctx, slow, expiry); done <- err }()
	slowWS := render.WorkspaceName(slow.ID)
	held := false
	for deadline := time.Now().Add(90 * time.Second); !held && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN jit_state.states s ON l.locktype = 'advisory'
			AND l.classid::bigint = (s.id >> 32) AND l.objid::bigint = (s.id & 4294967295) AND l.objsubid = 1 AND l.granted
			WHERE s.name = $1)`, slowWS).Scan(&held)
		if err != nil {
			t.Fatal(err)
		}
	}
	if !held {
		t.Fatalf("terraform never held an advisory lock on the row of %s: its pg backend no longer locks by row id, which the direct delete relies on", slowWS)
	}
	if handled, err := m.DeleteWorkspacePG(ctx, slowWS); !handled || !terraform.IsLocked(err) {
		t.Errorf("deleting a workspace terraform is applying = %t, %v; want a lock error", handled, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the slow apply: %v", err)
	}
	if !exists(slowWS) {
		t.Error("the workspace being applied was deleted")
	}

	// A state that holds a resource is kept.
	full, _ := insert("prod/db/full", `{"version": 4, "serial": 1, "lineage": "l", "outputs": {}, "resources": [{"mode": "managed", "type": "terraform_data", "name": "grant", "instances": [{"attributes": {}}]}]}`)
	if handled, err := m.DeleteWorkspacePG(ctx, full); !handled || err == nil || !strings.Contains(err.Error(), "still holds 1 resources") {
		t.Errorf("deleting a workspace with a resource = %t, %v; want a refusal", handled, err)
	}
	if !exists(full) {
		t.Error("a workspace holding a resource was deleted")
	}

	// Already gone: success, and nothing else touched.
	if handled, err := m.DeleteWorkspacePG(ctx, render.WorkspaceName("prod/db/never")); !handled || err != nil {
		t.Errorf("deleting a missing workspace = %t, %v; want success", handled, err)
	}
	if !exists(render.WorkspaceName("prod/db/real")) || !exists(full) {
		t.Error("deleting a missing workspace removed another")
	}
}
