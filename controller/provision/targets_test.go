package provision_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/internal/pgtest"
	"github.com/jitops/jit/controller/internal/tftest"
	"github.com/jitops/jit/controller/target"
)

// TestTargetEnvironment applies, with the pg state backend, grants bound to
// two targets and one bound to none, through a template whose provisioners
// write their whole environment to a file, and checks what each could see:
// never the state backend's connection string or a secret's source
// variable; for a target, its own settings and secrets and no PG* of the
// controller's or of another target; and the same target at destroy, read
// from the state after the grant's file is gone.
func TestTargetEnvironment(t *testing.T) {
	state := pgtest.Shared(t)
	e := pgEnv(t, state, "state_targets") // the controller's own PG* name the state server
	dir := t.TempDir()
	stagingSecret := filepath.Join(dir, "staging-password")
	if err := os.WriteFile(stagingSecret, []byte("staging-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PROD_PW", "prod-secret")
	t.Setenv("PG_CONN_STR", "inherited-conn-str")
	t.Setenv("JIT_STATE", "pg:jit-state-conn-str")
	t.Setenv("JIT_APP_PRIVATE_KEY_FILE", "/etc/jit/app.pem")
	t.Setenv("PGPASSWORD", "controller-secret")
	set, problems := target.Parse("/etc/jit/targets.hcl", []byte(`
target "prod" {
  env        = { PGHOST = "prod.invalid", PGDATABASE = "orders" }
  secret_env = { PGPASSWORD = "env:PROD_PW" }
}
target "staging" {
  env        = { PGHOST = "staging.invalid", PGAPPNAME = "staging-only" }
  secret_env = { PGPASSWORD = "file:`+stagingSecret+`" }
}
`))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	e.targets = set
	m := e.manager()
	ctx := ctxFor(t)
	dump := func(id, tgt string) grant.Request {
		return grant.Request{ID: id, File: "access/" + id + ".yaml", Template: "envdump", Requester: "alice", Target: tgt,
			Scope: map[string]any{"out": filepath.Join(dir, replaceSlashes(id))}}
	}
	never := []string{"PG_CONN_STR", "PROD_PW", "JIT_STATE", "JIT_APP_PRIVATE_KEY_FILE"}
	neverValues := []string{state.ConnString("state_targets"), "inherited-conn-str", "jit-state-conn-str"}
	check := func(t *testing.T, file string, want map[string]string) {
		t.Helper()
		env := tftest.ReadEnv(t, file)
		for k, v := range want {
			if env[k] != v {
				t.Errorf("%s: %s=%q, want %q", filepath.Base(file), k, env[k], v)
			}
		}
		for _, k := range never {
			if _, ok := env[k]; ok {
				t.Errorf("%s: the provisioner saw %s", filepath.Base(file), k)
			}
		}
		for k, v := range env {
			for _, secret := range neverValues {
				if strings.Contains(v, secret) {
					t.Errorf("%s: %s holds the state backend's connection string", filepath.Base(file), k)
				}
			}
		}
	}

	prod := dump("prod/a", "prod")
	if _, err := m.Apply(ctx, prod, expiry); err != nil {
		t.Fatal(err)
	}
	// Only the target's PG* variables: none of the controller's (PGPORT,
	// PGUSER, PGSSLMODE name the state server) or staging's.
	check(t, filepath.Join(dir, "prod_a"), map[string]string{"PGHOST": "prod.invalid", "PGDATABASE": "orders", "PGPASSWORD": "prod-secret",
		"PGPORT": "", "PGUSER": "", "PGSSLMODE": "", "PGAPPNAME": ""})

	staging := dump("staging/a", "staging")
	if _, err := m.Apply(ctx, staging, expiry); err != nil {
		t.Fatal(err)
	}
	check(t, filepath.Join(dir, "staging_a"), map[string]string{"PGHOST": "staging.invalid", "PGAPPNAME": "staging-only", "PGPASSWORD": "staging-secret",
		"PGDATABASE": "", "PGPORT": ""})

	// No target: the controller's own settings, as before targets, but
	// still no backend credentials and no target secret's source.
	legacy := dump("legacy/a", "")
	if _, err := m.Apply(ctx, legacy, expiry); err != nil {
		t.Fatal(err)
	}
	check(t, filepath.Join(dir, "legacy_a"), map[string]string{"PGHOST": state.Host, "PGPASSWORD": "controller-secret"})

	// Destroy reads the target from the state: the file is gone by now.
	if _, err := m.Destroy(ctx, prod.ID); err != nil {
		t.Fatal(err)
	}
	check(t, filepath.Join(dir, "prod_a.destroy"), map[string]string{"PGHOST": "prod.invalid", "PGPASSWORD": "prod-secret", "PGPORT": ""})

	// The backend's credentials were given to init in a file that is gone.
	filepath.WalkDir(e.work, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "backend-config.json" {
			t.Errorf("%s is left behind", p)
		}
		return nil
	})
}

// TestUnconfiguredTarget checks that a grant bound to a target this
// controller does not know fails before anything is created.
func TestUnconfiguredTarget(t *testing.T) {
	terraformPath(t) // skips here with -short, not in a subtest through e.t
	e := newEnv(t)
	set, _ := target.Parse("targets.hcl", []byte("target \"prod\" {\n  env = { PGHOST = \"prod.invalid\" }\n}\n"))
	for name, tc := range map[string]struct {
		set  *target.Set
		want string
	}{
		"other targets configured": {set, "grant dev/a: target dev is not configured on this controller (configured: prod): declare it in the targets file (--targets or JIT_TARGETS), or fix the policies that allow it"},
		"no targets configured":    {nil, "grant dev/a: target dev is not configured on this controller (none is configured)"},
	} {
		t.Run(name, func(t *testing.T) {
			e.targets = tc.set
			m := e.manager()
			req := dataGrant("dev/a", "v", t.TempDir())
			req.Target = "dev"
			_, err := m.Apply(ctxFor(t), req, expiry)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("Apply = %v, want %q", err, tc.want)
			}
			if names, err := m.WorkspaceNames(ctxFor(t)); err != nil || len(names) != 0 {
				t.Errorf("workspaces after the refused apply: %v, %v", names, err)
			}
		})
	}
}

// TestTargetSecretMissing checks that a target whose secret cannot be read
// fails the apply, naming where the secret is declared, with nothing made.
func TestTargetSecretMissing(t *testing.T) {
	e := newEnv(t)
	set, _ := target.Parse("/etc/jit/targets.hcl", []byte("target \"prod\" {\n  secret_env = { PGPASSWORD = \"env:JIT_TEST_UNSET_PW\" }\n}\n"))
	e.targets = set
	m := e.manager()
	req := dataGrant("prod/a", "v", t.TempDir())
	req.Target = "prod"
	_, err := m.Apply(ctxFor(t), req, expiry)
	want := "grant prod/a: target prod: secret PGPASSWORD: environment variable JIT_TEST_UNSET_PW is not set (/etc/jit/targets.hcl:2:31)"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Apply = %v, want %q", err, want)
	}
}

// TestTargetConnectionDelivered: a grant bound to a target delivers the
// target's own plain settings (its PGHOST and PGPORT) when its template
// names them in connection_env, though the controller's variables of those
// names are hidden from it; the target's secrets and another target's
// settings are still never delivered.
func TestTargetConnectionDelivered(t *testing.T) {
	t.Setenv("PROD_PW", "prod-secret")
	t.Setenv("PGHOST", "controller-own-host")
	set, problems := target.Parse("targets.hcl", []byte(`
target "prod" {
  env        = { PGHOST = "prod.invalid", PGPORT = "6432" }
  secret_env = { PGPASSFILE = "env:PROD_PW" }
}
target "staging" {
  env = { PGHOST = "staging.invalid", PGAPPNAME = "staging-only" }
}
`))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	alice := newPerson(t)
	for name, tc := range map[string]struct {
		connEnv map[string]any
		want    map[string]string
		err     string
	}{
		"the target's settings": {connEnv: map[string]any{"host": "PGHOST", "port": "PGPORT"},
			want: map[string]string{"user": "user-of-prod/db/alice-1", "value": "v", "host": "prod.invalid", "port": "6432"}},
		"the target's secret": {connEnv: map[string]any{"x": "PGPASSFILE"},
			err: `output "connection_env", key "x": PGPASSFILE is jit's or terraform's own setting, never delivered`},
		"another target's setting": {connEnv: map[string]any{"x": "PGAPPNAME"},
			err: `output "connection_env", key "x": PGAPPNAME is jit's or terraform's own setting, never delivered`},
		"a secret's source": {connEnv: map[string]any{"x": "PROD_PW"},
			err: `output "connection_env", key "x": PROD_PW is jit's or terraform's own setting, never delivered`},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			sink := &memSink{}
			e.keys, e.sink, e.targets = memKeys{"alice": {alice.authorized}}, sink, set
			m := e.manager()
			req := passwordGrant("prod/db/alice-1")
			req.Target = "prod"
			req.Scope["connection_env"] = tc.connEnv
			_, err := m.Apply(ctxFor(t), req, expiry)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Apply = %v, want %q", err, tc.err)
				}
				if len(sink.got) != 0 {
					t.Error("a credential was delivered")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := alice.open(t, sink.got[req.ID]).Connection; !cmp.Equal(got, tc.want) {
				t.Errorf("connection %v, want %v", got, tc.want)
			}
		})
	}
}
