package target_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/target"
)

const good = `target "prod-orders" {
  description = "orders, production"
  env         = { PGHOST = "db.prod.internal", PGPORT = "5432", PGUSER = "jit_admin" }
  secret_env  = { PGPASSWORD = "env:PROD_ORDERS_PG_PASSWORD" }
}

target "staging" {
  env        = { PGHOST = "db.staging.internal" }
  secret_env = { PGPASSWORD = "file:/run/secrets/staging" }
}
`

func TestParse(t *testing.T) {
	s, problems := target.Parse("targets.hcl", []byte(good))
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	if d := cmp.Diff([]string{"prod-orders", "staging"}, s.Names()); d != "" {
		t.Errorf("Names (-want +got):\n%s", d)
	}
	prod, ok := s.Get("prod-orders")
	want := target.Target{Name: "prod-orders", File: "targets.hcl", Pos: grant.Pos{Line: 1, Column: 1},
		Env:     map[string]string{"PGHOST": "db.prod.internal", "PGPORT": "5432", "PGUSER": "jit_admin"},
		Secrets: map[string]target.Secret{"PGPASSWORD": {Source: "env", Ref: "PROD_ORDERS_PG_PASSWORD", Pos: grant.Pos{Line: 4, Column: 32}}}}
	if d := cmp.Diff(want, prod); !ok || d != "" {
		t.Errorf("prod-orders (-want +got):\n%s", d)
	}
	wantControlled := map[string]bool{"PGHOST": true, "PGPORT": true, "PGUSER": true, "PGPASSWORD": true, "PROD_ORDERS_PG_PASSWORD": true}
	if d := cmp.Diff(wantControlled, s.Controlled()); d != "" {
		t.Errorf("Controlled (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]bool{"PROD_ORDERS_PG_PASSWORD": true}, s.SecretSources()); d != "" {
		t.Errorf("SecretSources (-want +got):\n%s", d)
	}
	if _, ok := s.Get("dev"); ok {
		t.Error("Get(dev) found a target that is not declared")
	}
	var none *target.Set
	if _, ok := none.Get("x"); ok || none.Names() != nil || len(none.Controlled()) != 0 {
		t.Error("a nil Set is not empty")
	}
}

// TestParseRejects holds one case per rejected input; each checks the
// problem's line, column and message.
func TestParseRejects(t *testing.T) {
	block := func(body string) string { return "target \"t\" {\n" + body + "\n}\n" }
	tests := map[string]struct {
		src       string
		line, col int
		msg       string
	}{
		"syntax error":           {"target \"t\" {\n  env = {\n}\n", 1, 12, "Unclosed configuration block"},
		"unknown block":          {"server \"t\" {}\n", 1, 1, "Unsupported block type"},
		"unknown attribute":      {block(`  host = "x"`), 2, 3, "Unsupported argument"},
		"no label":               {"target {\n}\n", 1, 8, "Missing name for target"},
		"bad name":               {"target \"Prod DB\" {\n  env = { PGHOST = \"x\" }\n}\n", 1, 8, `target name "Prod DB" must be lower-case`},
		"declared twice":         {block(`  env = { PGHOST = "x" }`) + block(`  env = { PGHOST = "y" }`), 4, 8, `target "t" is declared twice (also at targets.hcl:1)`},
		"sets nothing":           {block(""), 1, 1, "target t sets nothing"},
		"env not a map":          {block(`  env = "PGHOST=x"`), 2, 9, "env must be a map of variable names to strings"},
		"env value not a string": {block(`  env = { PGPORT = 5432 }`), 2, 20, "env: the value of PGPORT must be a literal string"},
		"env value a variable":   {block(`  env = { PGHOST = var.host }`), 2, 20, "env: the value of PGHOST must be a literal string"},
		"env bad name":           {block(`  env = { "pg-host" = "x" }`), 2, 11, `"pg-host" is not an environment variable name`},
		"env sets TF_":           {block(`  env = { TF_LOG = "trace" }`), 2, 11, "TF_LOG is terraform's, jit's or the state backend's own setting"},
		"env sets PG_CONN_STR":   {block(`  env = { PG_CONN_STR = "x" }`), 2, 11, "PG_CONN_STR is terraform's, jit's or the state backend's own setting"},
		"env twice":              {block(`  env = { PGHOST = "x", PGHOST = "y" }`), 2, 25, "PGHOST is set twice"},
		"password in env":        {block(`  env = { PGPASSWORD = "hunter2" }`), 2, 11, "PGPASSWORD looks like a secret; move it to secret_env"},
		"line break in value":    {block(`  env = { PGHOST = "a\nb" }`), 2, 20, "the value of PGHOST holds a line break"},
		"in env and secret_env":  {block("  env = { PGHOST = \"x\" }\n  secret_env = { PGHOST = \"env:H\" }"), 3, 18, "PGHOST is set in both env and secret_env"},
		"secret value written":   {block(`  secret_env = { PGPASSWORD = "hunter2" }`), 2, 31, `secret PGPASSWORD must be "env:VARIABLE" or "file:/absolute/path"`},
		"secret bad variable":    {block(`  secret_env = { PGPASSWORD = "env:my-pass" }`), 2, 31, `secret PGPASSWORD: "my-pass" is not an environment variable name`},
		"secret relative file":   {block(`  secret_env = { PGPASSWORD = "file:secrets/pw" }`), 2, 31, `secret PGPASSWORD: "secrets/pw" is not an absolute path`},
		"secret sets TF_":        {block(`  secret_env = { TF_TOKEN_x = "env:X" }`), 2, 18, "TF_TOKEN_x"},
		"description not string": {block("  description = 1\n  env = { PGHOST = \"x\" }"), 2, 17, "description must be a string"},
		"too large":              {"# " + strings.Repeat("x", target.MaxFileSize) + "\n", 1, 1, "at most 1048576 are allowed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, problems := target.Parse("targets.hcl", []byte(tc.src))
			if s != nil {
				t.Errorf("a file with problems gave targets %v", s.Names())
			}
			for _, p := range problems {
				if p.File == "targets.hcl" && p.Line == tc.line && p.Column == tc.col && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Errorf("want a problem at %d:%d containing %q, got %v", tc.line, tc.col, tc.msg, problems)
		})
	}
}

func TestEnviron(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "pw")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("pw", "s3cret\n")
	src := `target "a" {
  env        = { PGHOST = "h" }
  secret_env = { PGPASSWORD = "env:A_PW", PGSSLKEYPASS = "file:` + secretFile + `" }
}
`
	s, problems := target.Parse("/etc/jit/targets.hcl", []byte(src))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	a, _ := s.Get("a")
	env := map[string]string{"A_PW": "from-env"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got, err := a.Environ(lookup)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"PGHOST": "h", "PGPASSWORD": "from-env", "PGSSLKEYPASS": "s3cret"}, got); d != "" {
		t.Errorf("Environ (-want +got):\n%s", d)
	}

	tests := map[string]struct {
		env  map[string]string
		file string
		want string
	}{
		"variable unset": {map[string]string{}, "s3cret", "target a: secret PGPASSWORD: environment variable A_PW is not set (/etc/jit/targets.hcl:3:31); set it in jit's environment"},
		"variable empty": {map[string]string{"A_PW": ""}, "s3cret", "environment variable A_PW is not set"},
		"file empty":     {map[string]string{"A_PW": "x"}, "\n", "target a: secret PGSSLKEYPASS (/etc/jit/targets.hcl:3:58): secret file " + secretFile + " is empty"},
		"file too large": {map[string]string{"A_PW": "x"}, strings.Repeat("x", target.MaxSecretSize+1), "is over 65536 bytes"},
		"file with NUL":  {map[string]string{"A_PW": "x"}, "a\x00b", "holds a NUL byte"},
		"file missing":   {map[string]string{"A_PW": "x"}, "", "reading the secret file: open " + secretFile + ": no such file or directory; make it readable by jit"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			os.Remove(secretFile)
			if tc.file != "" {
				write("pw", tc.file)
			}
			env = tc.env
			_, err := a.Environ(lookup)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Environ error = %v, want one containing %q", err, tc.want)
			}
			for _, secret := range []string{"s3cret", "from-env"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds the secret", err)
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "targets.hcl")
	if _, err := target.Load(p); err == nil || !strings.Contains(err.Error(), "give the file declaring the targets (--targets or JIT_TARGETS)") {
		t.Errorf("Load(missing) = %v", err)
	}
	if err := os.WriteFile(p, []byte("target \"x\" {\n  env = { PGPASSWORD = \"p\" }\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := target.Load(p); err == nil || !strings.HasPrefix(err.Error(), p+":2:11: PGPASSWORD looks like a secret") {
		t.Errorf("Load(bad) = %v, want the problem at %s:2:11", err, p)
	}
	if err := os.WriteFile(p, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := target.Load(p); err != nil || len(s.Names()) != 2 {
		t.Errorf("Load(good) = %v, %v", s, err)
	}
}

// FuzzParse checks that no targets file crashes the parser, that problems
// are located in the file, and that every accepted target is usable: a
// valid name, valid variable names, none reserved, no secret written out.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("target \"t\" {\n  env = { PGHOST = \"x\", PGHOST = \"y\" }\n}\n"))
	f.Add([]byte("target \"t\" {\n  secret_env = { A = \"file:/x\", B = \"env:C\" }\n}\n"))
	f.Add([]byte("target \"t\" { env = { (\"A\") = \"x\" } }"))
	f.Add([]byte("target \"t\" { env = { A = \"${x}\" } }"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, problems := target.Parse("targets.hcl", data)
		lines := strings.Count(string(data), "\n") + 1
		for _, p := range problems {
			if p.Message == "" || p.Line < 0 || p.Line > lines+1 {
				t.Fatalf("bad problem %+v (file has %d lines)", p, lines)
			}
		}
		if len(problems) > 0 {
			if s != nil {
				t.Fatal("targets returned alongside problems")
			}
			return
		}
		for _, name := range s.Names() {
			tg, _ := s.Get(name)
			if name == "" || strings.ContainsAny(name, " /.\"") || len(tg.Env)+len(tg.Secrets) == 0 {
				t.Fatalf("accepted an unusable target %+v", tg)
			}
			for k, v := range tg.Env {
				if k == "" || strings.HasPrefix(k, "TF_") || k == "PG_CONN_STR" || strings.Contains(k, "PASSWORD") || strings.ContainsAny(k+v, "=\x00\n") && strings.ContainsAny(k, "=") {
					t.Fatalf("accepted env %s=%q", k, v)
				}
			}
			for k, sec := range tg.Secrets {
				if _, dup := tg.Env[k]; dup || (sec.Source != "env" && sec.Source != "file") || sec.Ref == "" {
					t.Fatalf("accepted secret %s=%+v", k, sec)
				}
			}
		}
	})
}
