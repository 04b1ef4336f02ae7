package template_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/zclconf/go-cty/cty"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/request"
	"github.com/jitops/jit/controller/template"
)

const variables = `
variable "database" {
  type = string
  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.database))
    error_message = "The database must be a lower-case PostgreSQL identifier."
  }
}
variable "privileges" {
  type    = string
  default = "read"
  validation {
    condition     = contains(["read", "write"], var.privileges)
    error_message = "The privileges must be \"read\" or \"write\"."
  }
}
variable "port" {
  type    = number
  default = 5432
}
variable "tags" {
  type    = list(string)
  default = []
}
variable "labels" {
  type    = map(string)
  default = {}
}
variable "flag" {
  type    = bool
  default = false
}
variable "opts" {
  type    = object({ a = string, b = optional(number) })
  default = { a = "x" }
}
variable "anything" { default = null }
variable "odd" {
  type    = string
  default = "x"
  validation {
    condition     = startswith(var.odd, "x")
    error_message = "unknown function: left to terraform"
  }
}
variable "grant_id"  { type = string }
variable "requester" { type = string }
`

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"templates/pg/variables.tf": {Data: []byte(variables)},
		"templates/pg/main.tf":      {Data: []byte("resource \"terraform_data\" \"x\" {\n  input = var.database\n}\n")},
	}
}

func load(t *testing.T) *template.Module {
	t.Helper()
	m, problems, err := template.Load(testFS(), "pg")
	if err != nil || len(problems) > 0 {
		t.Fatalf("Load: %v %v", err, problems)
	}
	return m
}

func TestLoadInputs(t *testing.T) {
	m := load(t)
	if got := strings.Join(m.ScopeInputs(), ","); got != "anything,database,flag,labels,odd,opts,port,privileges,tags" {
		t.Errorf("ScopeInputs = %s", got)
	}
	db := m.Inputs["database"]
	if !db.Required() || db.Type != cty.String || len(db.Validations) != 1 || db.Pos.Line != 2 || db.File != "templates/pg/variables.tf" {
		t.Errorf("database input = %+v", db)
	}
	if p := m.Inputs["privileges"]; p.Required() || p.Default.AsString() != "read" {
		t.Errorf("privileges default = %#v", p.Default)
	}
	if got := m.Inputs["tags"].TypeString(); got != "list(string)" {
		t.Errorf("tags type = %s", got)
	}
	if m.Inputs["anything"].Type != cty.DynamicPseudoType {
		t.Errorf("untyped input should be any, got %#v", m.Inputs["anything"].Type)
	}
}

func TestLoadShippedTemplate(t *testing.T) {
	m, problems, err := template.Load(os.DirFS("../.."), "postgres-role")
	if err != nil || len(problems) > 0 {
		t.Fatalf("templates/postgres-role does not load: %v %v", err, problems)
	}
	for _, in := range []string{"database", "privileges"} {
		if !slices.Contains(m.ScopeInputs(), in) {
			t.Errorf("postgres-role scope inputs = %v, want %s among them", m.ScopeInputs(), in)
		}
	}
	for _, r := range []string{"grant_id", "requester", "expires_at", "password_verifier"} {
		if _, ok := m.Inputs[r]; !ok {
			t.Errorf("postgres-role does not declare reserved input %s", r)
		}
	}
}

func TestLoadRejects(t *testing.T) {
	tests := map[string]struct {
		src       string
		line, col int
		msg       string
	}{
		"syntax error":          {"variable \"a\" {\n  type = \n}\n", 2, 10, "Invalid expression"},
		"bad type":              {"variable \"a\" {\n  type = strang\n}\n", 2, 10, "Invalid type specification"},
		"default mismatch":      {"variable \"a\" {\n  type = number\n  default = \"x\"\n}\n", 3, 13, `default of variable "a" does not match its type number`},
		"unknown attr":          {"variable \"a\" {\n  tpye = string\n}\n", 2, 3, "Unsupported argument"},
		"duplicate":             {"variable \"a\" {}\nvariable \"a\" {}\n", 2, 1, `variable "a" is declared twice (also at templates/t/main.tf:1)`},
		"no label":              {"variable {}\n", 1, 10, "Missing name for variable"},
		"validation no message": {"variable \"a\" {\n  validation {\n    condition = true\n  }\n}\n", 2, 14, "Missing required argument"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, problems, err := template.Load(fstest.MapFS{"templates/t/main.tf": {Data: []byte(tc.src)}}, "t")
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				if p.File == "templates/t/main.tf" && p.Line == tc.line && p.Column == tc.col && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Errorf("want problem at %d:%d containing %q, got %v", tc.line, tc.col, tc.msg, problems)
		})
	}
}

func TestLoadMissingAndEmpty(t *testing.T) {
	if _, _, err := template.Load(testFS(), "nope"); !errors.Is(err, template.ErrNotFound) {
		t.Errorf("Load of a missing template: err = %v, want ErrNotFound", err)
	}
	_, problems, err := template.Load(fstest.MapFS{"templates/e/README.md": {}}, "e")
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0].Message, "no .tf files") {
		t.Errorf("Load of a template without .tf files = %v, %v", problems, err)
	}
}

func grantWith(t *testing.T, scope string) grant.Request {
	t.Helper()
	src := "template: pg\nrequester: alice\nduration: 1h\nreason: r\nscope:\n" + scope
	req, problems := request.Parse("access/a.yaml", []byte(src))
	if len(problems) > 0 {
		t.Fatalf("test grant does not parse: %v", problems)
	}
	return req
}

func TestCheckScope(t *testing.T) {
	m := load(t)
	tests := map[string]struct {
		scope     string
		line, col int
		msg       string // empty: valid
	}{
		"minimal":                {"  database: orders\n", 0, 0, ""},
		"all typed":              {"  database: orders\n  privileges: write\n  port: 6432\n  tags: [a, b]\n  labels: {k: v}\n  flag: true\n  opts: {a: y, b: 2}\n  anything: [1, x]\n", 0, 0, ""},
		"missing required":       {"  privileges: read\n", 5, 1, `template pg requires input "database" (string); add it under scope:`},
		"unknown input":          {"  database: orders\n  databse: x\n", 7, 12, `template pg has no input "databse"; its inputs are: anything, database, flag`},
		"number for string":      {"  database: 5\n", 6, 13, "scope.database: must be a string, got the number 5"},
		"string for number":      {"  database: o\n  port: \"5432\"\n", 7, 9, `scope.port: must be a number, got the string "5432"`},
		"string for bool":        {"  database: o\n  flag: \"true\"\n", 7, 9, "scope.flag: must be true or false"},
		"list item type":         {"  database: o\n  tags: [a, 1]\n", 7, 9, "scope.tags: item 1: must be a string, got the number 1"},
		"map for list":           {"  database: o\n  tags: {a: b}\n", 7, 9, "scope.tags: must be list(string), got a mapping"},
		"object extra key":       {"  database: o\n  opts: {a: y, c: 1}\n", 7, 9, `scope.opts: unexpected key "c"`},
		"object missing key":     {"  database: o\n  opts: {b: 1}\n", 7, 9, `scope.opts: missing key "a"`},
		"validation regex":       {"  database: \"orders; DROP TABLE x\"\n", 6, 13, "scope.database: The database must be a lower-case PostgreSQL identifier."},
		"validation contains":    {"  database: orders\n  privileges: admin\n", 7, 15, `scope.privileges: The privileges must be "read" or "write".`},
		"shell injection":        {"  database: \"$(rm -rf /)\"\n", 6, 13, "must be a lower-case PostgreSQL identifier"},
		"unknown function skips": {"  database: orders\n  odd: y\n", 0, 0, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			problems := m.CheckScope(grantWith(t, tc.scope))
			if tc.msg == "" {
				if len(problems) > 0 {
					t.Fatalf("want no problems, got %v", problems)
				}
				return
			}
			for _, p := range problems {
				if p.File == "access/a.yaml" && p.Line == tc.line && p.Column == tc.col && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Errorf("want problem at %d:%d containing %q, got %v", tc.line, tc.col, tc.msg, problems)
		})
	}
}
