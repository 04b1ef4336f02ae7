package provision_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/terraform"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// pgEnv is an env whose states live in c's database "state" and whose
// templates' psql reaches c (through PG* variables in the environment).
func pgEnv(t *testing.T, c *pgtest.Cluster, stateDB string) *env {
	t.Helper()
	terraformPath(t)
	e := newEnv(t)
	c.Psql(t, "postgres", fmt.Sprintf("CREATE DATABASE %s", stateDB))
	e.backend = render.Backend{Kind: "pg", ConnStr: c.ConnString(stateDB)}
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return e
}

// jitRoles lists the roles of the slowrole template in c whose grant ids
// start with prefix.
func jitRoles(t *testing.T, c *pgtest.Cluster, ids ...string) string {
	t.Helper()
	var names []string
	for _, id := range ids {
		names = append(names, "'jit_test_"+sha12(id)+"'")
	}
	return c.Psql(t, "postgres", "SELECT coalesce(string_agg(rolname, ',' ORDER BY rolname), '') FROM pg_roles WHERE rolname IN ("+strings.Join(names, ",")+")")
}

func TestPGBackendConcurrentApplies(t *testing.T) {
	c := pgtest.Shared(t)
	e := pgEnv(t, c, "state_concurrent")
	e.conc = 8
	m := e.manager()
	ctx := ctxFor(t)
	const n = 50
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("prod/db/user%02d", i))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := grant.Request{ID: fmt.Sprintf("prod/db/user%02d", i), Template: "slowrole", Requester: "alice", Scope: map[string]any{}}
			_, errs[i] = m.Apply(ctx, req, expiry)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent applies on the pg backend: %v", err)
	}
	ws, err := m.Workspaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	complete := 0
	for _, w := range ws {
		if w.Complete {
			complete++
		}
	}
	if len(ws) != n || complete != n {
		t.Errorf("%d workspaces, %d complete; want %d of each", len(ws), complete, n)
	}
	if got := strings.Count(jitRoles(t, c, ids...), "jit_test_"); got != n {
		t.Errorf("%d roles in PostgreSQL, want %d", got, n)
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = m.Destroy(ctx, fmt.Sprintf("prod/db/user%02d", i))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent destroys on the pg backend: %v", err)
	}
	if got := jitRoles(t, c, ids...); got != "" {
		t.Errorf("roles left after destroy: %s", got)
	}
}

func TestPGKilledApplyConvergesWithoutOrphans(t *testing.T) {
	c := pgtest.Shared(t)
	e := pgEnv(t, c, "state_killed")
	// A short grace: terraform is killed (SIGKILL) almost at once after the
	// interrupt, before it can record anything.
	m := e.manager(terraform.WithKillGrace(50 * time.Millisecond))
	req := grant.Request{ID: "prod/db/killed", Template: "slowrole", Requester: "alice", Scope: map[string]any{"sleep": int64(20)}}
	role := "jit_test_" + sha12(req.ID)

	ctx, cancel := context.WithCancel(ctxFor(t))
	done := make(chan error, 1)
	go func() {
		_, err := m.Apply(ctx, req, expiry)
		done <- err
	}()
	deadline := time.Now().Add(60 * time.Second)
	for jitRoles(t, c, req.ID) != role {
		if time.Now().After(deadline) {
			t.Fatal("the role never appeared")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("killed apply returned %v", err)
	}
	// The role exists but terraform did not finish: the workspace is
	// incomplete, so a later pass applies it again and takes the role over.
	ws, err := m.Workspaces(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Complete {
		t.Fatalf("after the kill Workspaces = %+v, want one incomplete", ws)
	}
	req.Scope["sleep"] = int64(0)
	if _, err := m.Apply(ctxFor(t), req, expiry); err != nil {
		t.Fatal(err)
	}
	if ws, err := m.Workspaces(ctxFor(t)); err != nil || len(ws) != 1 || !ws[0].Complete {
		t.Fatalf("after re-apply Workspaces = %+v, %v", ws, err)
	}
	if _, err := m.Destroy(ctxFor(t), req.ID); err != nil {
		t.Fatal(err)
	}
	if got := jitRoles(t, c, req.ID); got != "" {
		t.Errorf("orphaned roles after destroy: %s", got)
	}
}

func TestPGStateBackendDown(t *testing.T) {
	c := pgtest.Start(t)
	e := pgEnv(t, c, "state_down")
	m := e.manager(terraform.WithLockRetry(1, 0))
	req := grant.Request{ID: "prod/db/down", Template: "slowrole", Requester: "alice", Scope: map[string]any{}}
	ctx := ctxFor(t)
	c.Stop(t)
	_, err := m.Apply(ctx, req, expiry)
	if err == nil {
		t.Fatal("apply with the state backend down succeeded")
	}
	if !strings.HasPrefix(err.Error(), "grant prod/db/down: terraform init:") {
		t.Errorf("error %q does not name the grant and the step", err)
	}
	c.Restart(t)
	if _, err := m.Apply(ctx, req, expiry); err != nil {
		t.Fatalf("apply after the backend came back: %v", err)
	}
	// Down again after initialisation: the workspace step fails, naming the
	// grant, and the next run works.
	c.Stop(t)
	_, err = m.Destroy(ctx, req.ID)
	if err == nil || !strings.HasPrefix(err.Error(), "grant prod/db/down: ") || !strings.Contains(err.Error(), "terraform ") {
		t.Errorf("destroy with the backend down: %v", err)
	}
	c.Restart(t)
	if _, err := m.Destroy(ctx, req.ID); err != nil {
		t.Fatal(err)
	}
	if got := jitRoles(t, c, req.ID); got != "" {
		t.Errorf("roles left: %s", got)
	}
}

func TestPGTargetDown(t *testing.T) {
	state := pgtest.Shared(t)
	target := pgtest.Start(t)
	e := pgEnv(t, state, "state_target_down")
	for _, kv := range target.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	m := e.manager()
	req := grant.Request{ID: "prod/db/target", Template: "slowrole", Requester: "alice", Scope: map[string]any{}}
	target.Stop(t)
	_, err := m.Apply(ctxFor(t), req, expiry)
	if err == nil || !strings.HasPrefix(err.Error(), "grant prod/db/target: terraform apply:") {
		t.Fatalf("apply with the target down: %v", err)
	}
	ws, err := m.Workspaces(ctxFor(t))
	if err != nil || len(ws) != 1 || ws[0].Complete {
		t.Fatalf("Workspaces = %+v, %v; want one incomplete", ws, err)
	}
	target.Restart(t)
	if _, err := m.Apply(ctxFor(t), req, expiry); err != nil {
		t.Fatalf("apply once the target is back: %v", err)
	}
	if got := jitRoles(t, target, req.ID); got != "jit_test_"+sha12(req.ID) {
		t.Errorf("roles = %q", got)
	}
}

func sha12(s string) string {
	return fmt.Sprintf("%x", sha256Sum([]byte(s)))[:12]
}
