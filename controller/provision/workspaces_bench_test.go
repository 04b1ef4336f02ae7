package provision_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/provision"
	"github.com/jitops/jit/controller/render"
)

// BenchmarkWorkspaces1000 lists 1,000 grant workspaces on the pg backend,
// read straight from the states table (direct) and through terraform (two
// processes per workspace):
//
//	go test ./controller/provision -run '^$' -bench Workspaces1000 -benchtime 1x
//
// Setup applies benchWorkspacesReal grants through the real terraform and
// writes the others' states into the backend as copies of a real one with
// the grant id and lineage changed (applying 1,000 grants would take long).
func BenchmarkWorkspaces1000(b *testing.B) {
	const n = 1000
	c := pgtest.Shared(b)
	terraformPath(b)
	e := newEnv(b)
	c.CreateDatabase(b, "state_bench1000")
	e.backend = render.Backend{Kind: "pg", ConnStr: c.ConnString("state_bench1000")}
	m := e.manager()
	ids := benchGrantStates(b, m, e.backend.ConnStr, n)
	check := func(b *testing.B, ws []provision.Workspace) {
		complete := 0
		for _, w := range ws {
			if w.Complete && w.Err == nil {
				complete++
			}
		}
		if len(ws) != len(ids) || complete != len(ids) {
			b.Fatalf("%d workspaces, %d complete; want %d of each", len(ws), complete, len(ids))
		}
	}
	ctx := context.Background()
	for _, path := range []struct {
		name string
		list func(context.Context) ([]provision.Workspace, error)
	}{{"direct", m.WorkspacesDirect}, {"terraform", m.WorkspacesByTerraform}} {
		b.Run(path.name, func(b *testing.B) {
			for b.Loop() {
				ws, err := path.list(ctx)
				if err != nil {
					b.Fatal(err)
				}
				check(b, ws)
			}
		})
	}
}

// benchWorkspacesReal is how many of the benchmark's grants are applied
// through terraform.
const benchWorkspacesReal = 3

// benchGrantStates applies the first benchWorkspacesReal of n data grants
// bench/gNNNN through m and writes the states of the others into the pg
// backend at connStr, each a copy of the first one's with its grant id and
// lineage replaced. It returns the grant ids.
func benchGrantStates(b *testing.B, m *provision.Manager, connStr string, n int) []string {
	b.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench/g%04d", i)
	}
	var wg sync.WaitGroup
	errs := make([]error, benchWorkspacesReal)
	for i := range benchWorkspacesReal {
		wg.Go(func() { _, errs[i] = m.Apply(ctx, dataGrant(ids[i], "v", ""), expiry) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, connStr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var real, lineage string
	if err := conn.QueryRow(ctx, "SELECT data, data::json->>'lineage' FROM jit_state.states WHERE name = $1", render.WorkspaceName(ids[0])).Scan(&real, &lineage); err != nil {
		b.Fatalf("reading a real state: %v", err)
	}
	if !strings.Contains(real, ids[0]) || lineage == "" {
		b.Fatalf("the real state names neither grant %s nor a lineage", ids[0])
	}
	var names, states []string
	for i, id := range ids[benchWorkspacesReal:] {
		st := strings.ReplaceAll(real, ids[0], id)
		st = strings.ReplaceAll(st, lineage, fmt.Sprintf("%s%08d", lineage[:len(lineage)-8], i))
		names, states = append(names, render.WorkspaceName(id)), append(states, st)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO jit_state.states (name, data) SELECT * FROM unnest($1::text[], $2::text[])", names, states); err != nil {
		b.Fatalf("writing the states: %v", err)
	}
	return ids
}
