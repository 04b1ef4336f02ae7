package render_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/render"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading golden file (run go test ./controller/render -update to create it): %v", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs from golden (-want +got):\n%s", name, d)
	}
}

var expires = time.Date(2026, 5, 1, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600))

func TestVarsJSONGolden(t *testing.T) {
	all := map[string]bool{"database": true, "privileges": true, "grant_id": true, "requester": true, "expires_at": true, "password_verifier": true}
	tests := map[string]render.Vars{
		"postgres-role.tfvars.json": {
			Meta: render.MetaOf(grant.Request{
				ID: "prod/db/alice-inc-1234", Template: "postgres-role", Requester: "alice",
				Scope: map[string]any{"database": "orders", "privileges": "read"},
			}, expires),
			PasswordVerifier:  "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy",
			DeliveredVerifier: "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy",
			Declared:          all,
		},
		"undeclared-reserved.tfvars.json": {
			Meta: render.MetaOf(grant.Request{
				ID: "dev/x", Template: "t", Requester: "bob",
				Scope: map[string]any{"n": int64(3), "on": true, "list": []any{"a", "b"}},
			}, expires),
			PasswordVerifier:  "not-declared-so-absent",
			DeliveredVerifier: "not-declared-so-absent",
			Declared:          map[string]bool{"grant_id": true},
		},
		"hostile-values.tfvars.json": {
			Meta: render.MetaOf(grant.Request{
				ID: "prod/db/mallory", Template: "postgres-role", Requester: "mallory",
				Scope: map[string]any{"database": "x\"; DROP ROLE postgres; --", "privileges": "${file(\"/etc/passwd\")} %{ if true }$(id)`id`\n"},
			}, expires),
			Declared: all,
		},
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := render.VarsJSON(v)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, got)
		})
	}
}

func TestVarsJSONRejectsReservedScope(t *testing.T) {
	for _, k := range append(append([]string{}, grant.ReservedInputs...), render.JitVariables...) {
		t.Run(k, func(t *testing.T) {
			_, err := render.VarsJSON(render.Vars{Meta: render.Meta{Grant: "g/1", Template: "t", Scope: map[string]any{k: "x"}}})
			want := `grant g/1: scope sets "` + k + `", which jit supplies itself: remove it from the grant's scope`
			if err == nil || err.Error() != want {
				t.Errorf("error = %v, want %q", err, want)
			}
		})
	}
}

func TestMetaRoundTrip(t *testing.T) {
	m := render.MetaOf(grant.Request{ID: "a/b", Template: "t", Requester: "r", Target: "prod-orders", Scope: map[string]any{"k": "v"}}, expires)
	if m.ExpiresAt != "2026-05-01T12:00:00Z" || m.Target != "prod-orders" {
		t.Errorf("ExpiresAt = %q, Target = %q; want UTC RFC 3339 and prod-orders", m.ExpiresAt, m.Target)
	}
	vars, err := render.VarsJSON(render.Vars{Meta: m})
	if err != nil {
		t.Fatal(err)
	}
	// The output holds the variable's value: a JSON string.
	raw := regexp.MustCompile(`"jit_grant": ("(?:[^"\\]|\\.)*")`).FindSubmatch(vars)
	if raw == nil {
		t.Fatalf("no jit_grant in %s", vars)
	}
	got, err := render.ParseMeta(raw[1])
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(m, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestParseMetaRejects(t *testing.T) {
	tests := map[string]struct{ raw, want string }{
		"not a string": {`{"grant":"x"}`, "jit bookkeeping output jit_grant is not a string"},
		"not json":     {`"nope"`, "jit bookkeeping output jit_grant: invalid character"},
		"no grant":     {`"{\"template\":\"t\"}"`, "jit bookkeeping output jit_grant names no grant or template"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := render.ParseMeta([]byte(tc.raw))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestMetaFileGolden(t *testing.T) {
	for name, credential := range map[string]bool{"zz_jit.tf.json": false, "zz_jit-credential.tf.json": true} {
		t.Run(name, func(t *testing.T) {
			got, err := render.MetaFile([]string{"module.x", "terraform_data.role"}, []string{"terraform_data.role"}, credential)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, got)
		})
	}
}

func TestBackendGolden(t *testing.T) {
	tests := map[string]render.Backend{
		"backend-local.tf.json": {Kind: "local", Dir: "/var/lib/jit/state"},
		"backend-pg.tf.json":    {Kind: "pg", ConnStr: "postgres://secret@db/jit"},
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := b.Config()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(got), "secret") {
				t.Errorf("backend file holds the connection string:\n%s", got)
			}
			golden(t, name, got)
		})
	}
}

func TestBackendInitConfigAndKey(t *testing.T) {
	pg := render.Backend{Kind: "pg", ConnStr: "postgres://secret@db/jit?x=\"}\n"}
	b, err := pg.InitConfig()
	var got map[string]string
	if err == nil {
		err = json.Unmarshal(b, &got)
	}
	if err != nil || len(got) != 1 || got["conn_str"] != pg.ConnStr {
		t.Errorf("InitConfig = %s, %v; want the connection string as conn_str", b, err)
	}
	if b, err := (render.Backend{Kind: "local", Dir: "/s"}).InitConfig(); b != nil || err != nil {
		t.Errorf("local InitConfig = %s, %v; want none", b, err)
	}
	if strings.Contains(pg.Key(), "secret") || strings.Contains(pg.String(), "secret") {
		t.Errorf("Key %q or String %q leaks the connection string", pg.Key(), pg.String())
	}
	other := render.Backend{Kind: "pg", ConnStr: "postgres://secret@db/other"}
	if pg.Key() == other.Key() {
		t.Errorf("different backends share key %q", pg.Key())
	}
	if _, err := (render.Backend{Kind: "local", Dir: "rel"}).Config(); err == nil || err.Error() != `local state directory "rel" must be absolute` {
		t.Errorf("relative local dir: error = %v", err)
	}
}

func TestParseState(t *testing.T) {
	tests := map[string]struct {
		spec    string
		want    render.Backend
		wantErr string
	}{
		"local":       {spec: "local:.jit/state", want: render.Backend{Kind: "local", Dir: ".jit/state"}},
		"pg url":      {spec: "pg:postgres://u@h:5432/db?sslmode=disable", want: render.Backend{Kind: "pg", ConnStr: "postgres://u@h:5432/db?sslmode=disable"}},
		"pg keywords": {spec: "pg:host=/tmp port=5 dbname=x", want: render.Backend{Kind: "pg", ConnStr: "host=/tmp port=5 dbname=x"}},
		"no colon":    {spec: "local", wantErr: `--state "local": want local:DIR or pg:CONNSTR`},
		"empty local": {spec: "local:", wantErr: `--state "local:": local needs a directory, e.g. local:.jit/state`},
		"empty pg":    {spec: "pg: ", wantErr: `--state pg: needs a connection string`},
		"s3":          {spec: "s3:bucket", wantErr: "--state s3: is not built in; configure the s3 backend as documented in controller/render"},
		"unknown":     {spec: "consul:x", wantErr: `--state "consul:x": unknown backend "consul", want local:DIR or pg:CONNSTR`},
		"nul in dir":  {spec: "local:a\x00b", wantErr: "--state: the directory contains a NUL byte"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := render.ParseState(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want prefix %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestWorkspaceName(t *testing.T) {
	tests := map[string]struct{ id, want, legacy string }{
		"path":        {"prod/db/alice-inc-1234", "jit-prod_db_alice-inc-1234-", "jit-prod_db_alice-inc-1234-"},
		"upper case":  {"Prod/DB/Alice", "jit-prod_db_alice-", "jit-prod_db_alice-"},
		"punctuation": {"a.b c/ü", "jit-a_b_c__-", "jit-a_b_c__-"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, legacy := render.WorkspaceName(tc.id), render.LegacyWorkspaceName(tc.id)
			if !strings.HasPrefix(got, tc.want) || len(got) != len(tc.want)+26 || !render.IsWorkspaceName(got) {
				t.Errorf("WorkspaceName(%q) = %q, want %q + 26 base32 characters, a valid name", tc.id, got, tc.want)
			}
			if !strings.HasPrefix(legacy, tc.legacy) || len(legacy) != len(tc.legacy)+10 || !render.IsWorkspaceName(legacy) {
				t.Errorf("LegacyWorkspaceName(%q) = %q, want %q + 10 hex digits, a valid name", tc.id, legacy, tc.legacy)
			}
			if !render.IsWorkspaceOf(got, tc.id) || !render.IsWorkspaceOf(legacy, tc.id) || render.IsWorkspaceOf(got, tc.id+"x") {
				t.Errorf("IsWorkspaceOf does not tie %q and %q to %q alone", got, legacy, tc.id)
			}
		})
	}
	// Both shapes are pinned: a changed name would orphan every workspace in
	// existing states.
	if got, want := render.WorkspaceName("prod/db/alice-inc-1234"), "jit-prod_db_alice-inc-1234-cu2yjxg2wxnuu6e3iunrfgjbam"; got != want {
		t.Errorf("WorkspaceName changed: %q, want %q", got, want)
	}
	if got, want := render.LegacyWorkspaceName("prod/db/alice-inc-1234"), "jit-prod_db_alice-inc-1234-153584dcda"; got != want {
		t.Errorf("LegacyWorkspaceName changed: %q, want %q", got, want)
	}
	// Ids whose slugs collapse to the same text still get distinct names.
	for _, pair := range [][2]string{{"prod/db/x", "prod_db/x"}, {"alice-1", "alice_-_1"}, {"a/b", "a.b"}} {
		if a, b := render.WorkspaceName(pair[0]), render.WorkspaceName(pair[1]); a == b {
			t.Errorf("%q and %q share workspace %q", pair[0], pair[1], a)
		}
	}
	long := render.WorkspaceName(strings.Repeat("x", 500))
	if len(long) != 4+64+1+26 || !render.IsWorkspaceName(long) {
		t.Errorf("long id gives %q (%d bytes)", long, len(long))
	}
	for _, bad := range []string{
		"default", "jit-", "jit-abc", render.UsedMarker, "other-prod-0123456789", "jit-UPPER-0123456789",
		"jit-x-0123456789abcdef0123456789", // neither 10 hex nor 26 base32 characters
		"jit-x-abcdefghijklmnopqrstuvwxy1", // 1 is not base32
		"jit-x-abcdefghijklmnopqrstuvwxyz-", "jit-x-012345678g",
		"jit-" + strings.Repeat("x", 65) + "-abcdefghijklmnopqrstuvwxyz",
	} {
		if render.IsWorkspaceName(bad) {
			t.Errorf("IsWorkspaceName(%q) = true", bad)
		}
	}
}

func FuzzWorkspaceName(f *testing.F) {
	for _, s := range []string{"prod/db/alice-inc-1234", "", "ü/ß", "a\x00b", strings.Repeat("ab/", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		n, legacy := render.WorkspaceName(id), render.LegacyWorkspaceName(id)
		if !render.IsWorkspaceName(n) || !render.IsWorkspaceName(legacy) {
			t.Fatalf("WorkspaceName(%q) = %q or LegacyWorkspaceName = %q is not a valid workspace name", id, n, legacy)
		}
		if n != render.WorkspaceName(id) || n == legacy {
			t.Fatalf("unstable, or the same as the legacy name")
		}
		if !render.IsWorkspaceOf(n, id) || !render.IsWorkspaceOf(legacy, id) {
			t.Fatalf("IsWorkspaceOf rejects the names of %q", id)
		}
	})
}

func FuzzParseState(f *testing.F) {
	for _, s := range []string{"local:.jit/state", "pg:postgres://u@h/db", "pg:", "local", ":", "s3:x", "pg:host=a dbname=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		b, err := render.ParseState(spec)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if b.Kind != "local" && b.Kind != "pg" {
			t.Fatalf("kind %q", b.Kind)
		}
		if b.Kind == "local" {
			b.Dir = "/abs/" + b.Dir
		}
		cfg, err := b.Config()
		if err != nil {
			t.Fatalf("Config of parsed %q: %v", spec, err)
		}
		if b.ConnStr != "" && strings.Contains(string(cfg), b.ConnStr) && len(b.ConnStr) > 8 {
			t.Fatalf("connection string in backend file")
		}
	})
}
