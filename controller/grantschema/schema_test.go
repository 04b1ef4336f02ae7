package grantschema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/grantschema"
	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/template"
)

// repo is the repository's top level, seen from this package's directory.
var repo = os.DirFS("../..")

// TestCommittedSchemaIsFresh fails while grant.schema.json differs from what
// the grant format and the templates under templates/ generate.
func TestCommittedSchemaIsFresh(t *testing.T) {
	want, err := grantschema.Generate(repo)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(repo, grantschema.File)
	if err != nil {
		t.Fatalf("reading the committed schema: %v; create it with: %s", err, grantschema.Regenerate)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		line := 0
		for line < len(gl) && line < len(wl) && gl[line] == wl[line] {
			line++
		}
		t.Errorf("%s is stale (first difference at line %d); regenerate it with: %s", grantschema.File, line+1, grantschema.Regenerate)
	}
}

// generated is the schema generated from this repository, decoded as a
// JSON reader sees it; generated once, never modified.
var generated = sync.OnceValues(func() (any, error) {
	b, err := grantschema.Generate(repo)
	if err != nil {
		return nil, err
	}
	var s any
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("the schema is not JSON: %w", err)
	}
	return s, nil
})

func loadSchema(t *testing.T) any {
	t.Helper()
	s, err := generated()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// schemaErrors evaluates a grant file as an editor would: the YAML decoded,
// then checked against the schema. A file that is not YAML fails.
func schemaErrors(t *testing.T, s any, data []byte) []string {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return []string{"YAML: " + err.Error()}
	}
	errs, err := evaluate(s, v, "$")
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

// coreProblems checks a grant file as jit validate does, as far as the file
// alone decides: the strict parser, then the template's scope check.
func coreProblems(t *testing.T, file string, data []byte) []grant.Problem {
	t.Helper()
	req, ps := request.Parse(file, data)
	if len(ps) > 0 {
		return ps
	}
	m, ps, err := template.Load(repo, req.Template)
	if errors.Is(err, template.ErrNotFound) {
		return []grant.Problem{grant.At(file, req.Position("template"), "no such template")}
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) > 0 {
		t.Fatalf("template %s: %v", req.Template, ps)
	}
	return m.CheckScope(req)
}

const validHead = "template: postgres-role\nrequester: alice\nduration: 2h\nreason: Investigate stuck orders\n"

// TestSchemaAgreesWithValidate checks, for grant files jit accepts and
// rejects, that the schema gives the same verdict: no file jit accepts is
// marked wrong in an editor, and each kind of mistake the schema can
// express is marked. Cases marked beyond are mistakes only jit's checks
// see (the schema accepts them; the test holds that, so the list of gaps
// stays true).
func TestSchemaAgreesWithValidate(t *testing.T) {
	s := loadSchema(t)
	tests := []struct {
		name   string
		file   string
		valid  bool
		beyond bool // jit rejects it; the schema cannot say so
	}{
		{"minimal", validHead + "scope:\n  database: orders\n", true, false},
		{"every field", "# yaml-language-server: $schema=../../../grant.schema.json\n" + validHead +
			"ticket: INC-1234\ntarget: primary\nbreak_glass: false\nscope:\n  database: orders\n  privileges: write\n  connection_limit: 20\n", true, false},
		{"hours and minutes", strings.Replace(validHead, "2h", "1h30m", 1) + "scope: {database: orders}\n", true, false},
		{"minutes", strings.Replace(validHead, "2h", "90m", 1) + "scope: {database: orders}\n", true, false},
		{"a year", strings.Replace(validHead, "2h", "8784h", 1) + "scope: {database: orders}\n", true, false},
		{"one minute", strings.Replace(validHead, "2h", "0h1m", 1) + "scope: {database: orders}\n", true, false},
		{"connection limit 1", validHead + "scope: {database: orders, connection_limit: 1}\n", true, false},
		{"connection limit as 3.0", validHead + "scope: {database: orders, connection_limit: 3.0}\n", true, false},
		{"unicode reason", strings.Replace(validHead, "Investigate stuck orders", "Prüfung der Bestellungen ✓", 1) + "scope: {database: orders}\n", true, false},
		{"quoted strings", "template: \"postgres-role\"\nrequester: 'alice'\nduration: \"2h\"\nreason: \"x\"\nscope:\n  database: \"_x1\"\n", true, false},

		{"missing template", strings.Replace(validHead, "template: postgres-role\n", "", 1) + "scope: {database: orders}\n", false, false},
		{"missing requester", strings.Replace(validHead, "requester: alice\n", "", 1) + "scope: {database: orders}\n", false, false},
		{"missing duration", strings.Replace(validHead, "duration: 2h\n", "", 1) + "scope: {database: orders}\n", false, false},
		{"missing reason", strings.Replace(validHead, "reason: Investigate stuck orders\n", "", 1) + "scope: {database: orders}\n", false, false},
		{"unknown field", validHead + "tickets: INC-1\nscope: {database: orders}\n", false, false},
		{"not a mapping", "- template: postgres-role\n", false, false},
		{"a scalar", "hello\n", false, false},
		{"empty", "", false, false},
		{"unknown template", strings.Replace(validHead, "postgres-role", "mysql-role", 1), false, false},
		{"template not a name", strings.Replace(validHead, "postgres-role", "Postgres Role", 1), false, false},
		{"requester leading hyphen", strings.Replace(validHead, "alice", "-alice", 1) + "scope: {database: orders}\n", false, false},
		{"requester double hyphen", strings.Replace(validHead, "alice", "al--ice", 1) + "scope: {database: orders}\n", false, false},
		{"requester 40 characters", strings.Replace(validHead, "alice", strings.Repeat("a", 40), 1) + "scope: {database: orders}\n", false, false},
		{"requester a number", strings.Replace(validHead, "alice", "1234", 1) + "scope: {database: orders}\n", false, false},
		{"duration in days", strings.Replace(validHead, "2h", "2d", 1) + "scope: {database: orders}\n", false, false},
		{"duration with a space", strings.Replace(validHead, "2h", "\"1h 30m\"", 1) + "scope: {database: orders}\n", false, false},
		{"duration zero", strings.Replace(validHead, "2h", "0h", 1) + "scope: {database: orders}\n", false, false},
		{"duration zero minutes", strings.Replace(validHead, "2h", "0h00m", 1) + "scope: {database: orders}\n", false, false},
		{"duration empty", strings.Replace(validHead, "2h", "\"\"", 1) + "scope: {database: orders}\n", false, false},
		{"duration a number", strings.Replace(validHead, "2h", "3600", 1) + "scope: {database: orders}\n", false, false},
		{"duration of five hour digits", strings.Replace(validHead, "2h", "10000h", 1) + "scope: {database: orders}\n", false, false},
		{"reason blank", strings.Replace(validHead, "Investigate stuck orders", "\"  \\t \"", 1) + "scope: {database: orders}\n", false, false},
		{"reason of no-break spaces", strings.Replace(validHead, "Investigate stuck orders", "\"\u00a0\u3000\"", 1) + "scope: {database: orders}\n", false, false},
		{"reason too long", strings.Replace(validHead, "Investigate stuck orders", strings.Repeat("x", 2001), 1) + "scope: {database: orders}\n", false, false},
		{"reason a number", strings.Replace(validHead, "Investigate stuck orders", "42", 1) + "scope: {database: orders}\n", false, false},
		{"ticket blank", validHead + "ticket: \" \"\nscope: {database: orders}\n", false, false},
		{"ticket two lines", validHead + "ticket: \"INC-1\\nINC-2\"\nscope: {database: orders}\n", false, false},
		{"ticket 101 characters", validHead + "ticket: " + strings.Repeat("T", 101) + "\nscope: {database: orders}\n", false, false},
		{"target upper case", validHead + "target: Primary\nscope: {database: orders}\n", false, false},
		{"break_glass a string", validHead + "break_glass: \"true\"\nscope: {database: orders}\n", false, false},
		{"break_glass yes", validHead + "break_glass: yes\nscope: {database: orders}\n", false, false},
		{"scope missing", validHead, false, false},
		{"scope a list", validHead + "scope:\n  - database\n", false, false},
		{"scope without the required input", validHead + "scope: {privileges: read}\n", false, false},
		{"database upper case", validHead + "scope: {database: Orders}\n", false, false},
		{"database 58 characters", validHead + "scope: {database: " + strings.Repeat("d", 58) + "}\n", false, false},
		{"database a number", validHead + "scope: {database: 12}\n", false, false},
		{"privileges admin", validHead + "scope: {database: orders, privileges: admin}\n", false, false},
		{"privileges null", validHead + "scope: {database: orders, privileges: }\n", false, false},
		{"connection limit 0", validHead + "scope: {database: orders, connection_limit: 0}\n", false, false},
		{"connection limit 21", validHead + "scope: {database: orders, connection_limit: 21}\n", false, false},
		{"connection limit 2.5", validHead + "scope: {database: orders, connection_limit: 2.5}\n", false, false},
		{"connection limit a string", validHead + "scope: {database: orders, connection_limit: \"3\"}\n", false, false},
		{"unknown input", validHead + "scope: {database: orders, schema: public}\n", false, false},
		{"reserved input", validHead + "scope: {database: orders, requester: bob}\n", false, false},
		{"input not a name", validHead + "scope: {database: orders, Bad-Key: 1}\n", false, false},
		{"duplicate key", validHead + "reason: again\nscope: {database: orders}\n", false, false},

		{"duration over a year", strings.Replace(validHead, "2h", "8785h", 1) + "scope: {database: orders}\n", false, true},
		{"an alias", "template: postgres-role\nrequester: alice\nduration: 2h\nreason: &r INC-1 again\nticket: *r\nscope: {database: orders}\n", false, true},
		{"a second document", validHead + "scope: {database: orders}\n---\nx: 1\n", false, true},
		{"a bidirectional control", strings.Replace(validHead, "stuck", "stuck\u202e", 1) + "scope: {database: orders}\n", false, true},
		{"ticket over 100 bytes, not characters", validHead + "ticket: " + strings.Repeat("é", 60) + "\nscope: {database: orders}\n", false, true},
	}
	const file = "access/prod/orders/alice-test.yaml"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.file)
			problems := coreProblems(t, file, data)
			errs := schemaErrors(t, s, data)
			if tt.valid != (len(problems) == 0) {
				t.Fatalf("the case says valid=%v but jit's checks found %v", tt.valid, problems)
			}
			switch {
			case len(errs) > 0 && len(problems) == 0:
				t.Errorf("the schema rejects a grant jit accepts: %s", errorsText(errs))
			case tt.beyond && len(errs) > 0:
				t.Errorf("the schema now rejects this case (%s); drop its beyond mark", errorsText(errs))
			case !tt.beyond && len(problems) > 0 && len(errs) == 0:
				t.Errorf("the schema accepts a grant jit rejects with %v", problems)
			}
		})
	}
}

// TestExampleGrantsNameTheSchema checks that every grant file under access/
// names grant.schema.json in a yaml-language-server modeline whose relative
// path reaches it, and that jit and the schema both accept the file.
func TestExampleGrantsNameTheSchema(t *testing.T) {
	s := loadSchema(t)
	n := 0
	err := fs.WalkDir(repo, request.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, request.Ext) {
			return err
		}
		n++
		data, err := fs.ReadFile(repo, p)
		if err != nil {
			return err
		}
		first, _, _ := strings.Cut(string(data), "\n")
		if want := grantschema.Modeline(p); first != want {
			t.Errorf("%s:1: want the modeline %q as the first line, got %q", p, want, first)
		}
		rel, _ := strings.CutPrefix(first, "# yaml-language-server: $schema=")
		if got := path.Join(path.Dir(p), rel); got != grantschema.File {
			t.Errorf("%s:1: the modeline's %s leads to %s, not %s", p, rel, got, grantschema.File)
		}
		if ps := coreProblems(t, p, data); len(ps) > 0 {
			t.Errorf("jit rejects %s: %v", p, ps)
		}
		if errs := schemaErrors(t, s, data); len(errs) > 0 {
			t.Errorf("the schema rejects %s: %s", p, errorsText(errs))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no grant files under access/")
	}
}

func TestModeline(t *testing.T) {
	for file, want := range map[string]string{
		"access/a.yaml":                      "# yaml-language-server: $schema=../grant.schema.json",
		"access/prod/orders/alice-1234.yaml": "# yaml-language-server: $schema=../../../grant.schema.json",
		"access/prod//db/./x.yaml":           "# yaml-language-server: $schema=../../../grant.schema.json",
	} {
		if got := grantschema.Modeline(file); got != want {
			t.Errorf("Modeline(%q) = %q, want %q", file, got, want)
		}
	}
}
