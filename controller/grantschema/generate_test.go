package grantschema_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/grantschema"
)

func generateJSON(t *testing.T, fsys fstest.MapFS) map[string]any {
	t.Helper()
	b, err := grantschema.Generate(fsys)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range b {
		if c >= 0x80 {
			t.Fatalf("byte %d of the schema is not ASCII: %q", i, b[max(0, i-20):min(len(b), i+20)])
		}
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v in\n%s", err, s)
	}
	return v
}

const inputsTF = `
variable "name" {
  description = "A name; with <brackets> & \"quotes\" and é."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+$", var.name)) && length(var.name) < 10
    error_message = "The name must be lower case."
  }
}

variable "count" {
  type    = number
  default = 2
  validation {
    condition     = (1 <= var.count) && var.count < 100 && var.count == floor(var.count) && var.count > -5 && var.count <= 150.5 && var.count <= 1e3
    error_message = "from 1 to 99"
  }
}

variable "mode" {
  type    = string
  default = "a"
  validation {
    condition     = contains(["a", "b"], var.mode) || var.mode == "c"
    error_message = "a, b or c"
  }
  validation {
    condition     = contains(["a", "b"], var.mode)
    error_message = "a or b"
  }
}

variable "twice" {
  type = string
  validation {
    condition     = can(regex("^a", var.twice))
    error_message = "starts with a"
  }
  validation {
    condition     = can(regex("b$", var.twice))
    error_message = "ends with b"
  }
}

variable "crossed" {
  type    = string
  default = "x"
  validation {
    condition     = var.crossed != var.name && can(regex("(?i)^x$", var.crossed)) && contains([1, 2], var.crossed) && var.crossed >= 0.5
    error_message = "nothing translates"
  }
}

variable "tags" {
  type    = list(string)
  default = []
}

variable "limits" {
  type = map(number)
}

variable "opts" {
  type    = object({ a = string, b = optional(bool) })
  default = { a = "x" }
}

variable "pair" {
  type    = tuple([string, number])
  default = ["a", 1]
}

variable "free" {
  default = null
}

variable "grant_id" {
  type = string
}
`

// TestScopeFromInputs checks what each kind of input declaration and
// validation rule becomes: types, defaults, descriptions, required inputs,
// and the rules that translate (patterns with the rule's message, enums,
// bounds, whole numbers), while rules that do not translate add nothing.
func TestScopeFromInputs(t *testing.T) {
	s := generateJSON(t, fstest.MapFS{"templates/t/variables.tf": {Data: []byte(inputsTF)}})
	got := s["allOf"].([]any)[0]
	want := decodeJSON(t, `{
  "if": {"properties": {"template": {"const": "t"}}, "required": ["template"]},
  "then": {
    "required": ["scope"],
    "properties": {"scope": {
      "type": "object", "description": "Inputs of template t.", "additionalProperties": false,
      "required": ["limits", "name", "twice"],
      "properties": {
        "name": {"type": "string", "description": "A name; with <brackets> & \"quotes\" and é.",
          "pattern": "^[a-z]+$", "patternErrorMessage": "The name must be lower case."},
        "count": {"type": "number", "default": 2, "minimum": 1, "exclusiveMaximum": 100, "multipleOf": 1, "exclusiveMinimum": -5, "maximum": 1000},
        "mode": {"type": "string", "default": "a", "enum": ["a", "b"]},
        "twice": {"type": "string", "pattern": "^a", "patternErrorMessage": "starts with a",
          "allOf": [{"pattern": "b$", "patternErrorMessage": "ends with b"}]},
        "crossed": {"type": "string", "default": "x"},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "limits": {"type": "object", "additionalProperties": {"type": "number"}},
        "opts": {"type": "object", "additionalProperties": false, "required": ["a"],
          "properties": {"a": {"type": "string"}, "b": {"type": "boolean"}}, "default": {"a": "x"}},
        "pair": {"type": "array", "items": [{"type": "string"}, {"type": "number"}], "additionalItems": false, "minItems": 2, "default": ["a", 1]},
        "free": {"not": {"type": "null"}}
      }
    }}
  }
}`)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("the template's condition (-want +got):\n%s", d)
	}
	tmpl := s["properties"].(map[string]any)["template"].(map[string]any)
	if d := cmp.Diff([]any{"t"}, tmpl["enum"]); d != "" {
		t.Errorf("template enum (-want +got):\n%s", d)
	}
}

// TestScopeEvaluation checks the translated rules as a validator applies
// them, against values the template's own rules accept and reject.
func TestScopeEvaluation(t *testing.T) {
	s := generateJSON(t, fstest.MapFS{"templates/t/variables.tf": {Data: []byte(inputsTF)}})
	head := "template: t\nrequester: alice\nduration: 1h\nreason: x\n"
	tests := []struct {
		name, scope string
		ok          bool
	}{
		{"required inputs", "{name: abc, twice: ab, limits: {a: 1}}", true},
		{"every input", "{name: abc, twice: axb, limits: {}, count: 99, mode: b, crossed: y, tags: [a], opts: {a: x, b: true}, pair: [a, 2], free: [1, {x: y}]}", true},
		{"name upper case", "{name: Abc, twice: ab, limits: {}}", false},
		{"twice without the end", "{name: abc, twice: a, limits: {}}", false},
		{"count at the exclusive maximum", "{name: abc, twice: ab, limits: {}, count: 100}", false},
		{"count below the minimum", "{name: abc, twice: ab, limits: {}, count: 0}", false},
		{"count not whole", "{name: abc, twice: ab, limits: {}, count: 1.5}", false},
		{"mode c (rejected by the second rule)", "{name: abc, twice: ab, limits: {}, mode: c}", false},
		{"limits of strings", "{name: abc, twice: ab, limits: {a: x}}", false},
		{"tags not a list", "{name: abc, twice: ab, limits: {}, tags: a}", false},
		{"opts without a", "{name: abc, twice: ab, limits: {}, opts: {b: true}}", false},
		{"opts with an unknown key", "{name: abc, twice: ab, limits: {}, opts: {a: x, c: 1}}", false},
		{"pair too long", "{name: abc, twice: ab, limits: {}, pair: [a, 1, 2]}", false},
		{"pair too short", "{name: abc, twice: ab, limits: {}, pair: [a]}", false},
		{"pair of the wrong types", "{name: abc, twice: ab, limits: {}, pair: [1, a]}", false},
		{"free null", "{name: abc, twice: ab, limits: {}, free: null}", false},
		{"reserved input", "{name: abc, twice: ab, limits: {}, grant_id: x}", false},
		{"no scope", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := head
			if tt.scope != "" {
				file += "scope: " + tt.scope + "\n"
			}
			errs := schemaErrors(t, s, []byte(file))
			if tt.ok != (len(errs) == 0) {
				t.Errorf("want ok=%v, schema says %q", tt.ok, errs)
			}
		})
	}
}

// TestGenerateRefuses checks that templates the schema cannot describe
// fail the generation with a message saying what to fix.
func TestGenerateRefuses(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"a template with problems", fstest.MapFS{"templates/t/variables.tf": {Data: []byte("variable \"x\" {\n  type = strin g\n}\n")}},
			"template t has problems; fix them before generating the grant schema:\ntemplates/t/variables.tf:2:"},
		{"a template no grant can name", fstest.MapFS{"templates/Bad Name/variables.tf": {Data: []byte(`variable "x" {}`)}},
			"templates/Bad Name: a template's name must be lower-case letters, digits, '-' and '_' (grant files could not name it); rename the directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := grantschema.Generate(tt.fsys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Generate: %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestGenerateWithoutTemplates: no templates/ directory gives a schema of
// the grant format alone.
func TestGenerateWithoutTemplates(t *testing.T) {
	s := generateJSON(t, fstest.MapFS{"access/README.md": {Data: []byte("x")}})
	if _, ok := s["allOf"]; ok {
		t.Error("a schema without templates has conditions")
	}
	if _, ok := s["properties"].(map[string]any)["template"].(map[string]any)["enum"]; ok {
		t.Error("a schema without templates lists template names")
	}
}

// TestPropertiesFollowGrantRequest checks that the top-level properties are
// grant.Request's fields as grant files spell them, and that a field the
// schema does not describe fails the generation instead of being left out.
func TestPropertiesFollowGrantRequest(t *testing.T) {
	props, required, err := grantschema.Properties(reflect.TypeFor[grant.Request](), nil)
	if err != nil {
		t.Fatal(err)
	}
	names := sortedKeys(props)
	if d := cmp.Diff([]string{"break_glass", "duration", "reason", "requester", "scope", "target", "template", "ticket"}, names); d != "" {
		t.Errorf("properties (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"template", "requester", "duration", "reason"}, required); d != "" {
		t.Errorf("required (-want +got):\n%s", d)
	}

	type withColour struct {
		Template string
		Colour   string
	}
	_, _, err = grantschema.Properties(reflect.TypeFor[withColour](), nil)
	want := "grantschema_test.withColour has a field Colour that the grant schema does not describe: add it to grantschema's fields and run go generate ./controller/grantschema"
	if err == nil || err.Error() != want {
		t.Errorf("Properties of a struct with an undescribed field: %v; want %q", err, want)
	}
}

// FuzzGenerate feeds arbitrary variable declarations: generation never
// panics, and a schema it produces is ASCII JSON whose patterns all
// compile as Go regular expressions.
func FuzzGenerate(f *testing.F) {
	f.Add(inputsTF)
	f.Add(`variable "x" {
  type = number
  validation {
    condition     = contains([1, null, "a"], var.x) && var.x >= 1e400 && floor(var.x) == var.x && can(regex(var.x, var.x))
    error_message = var.x
  }
}`)
	f.Add(`variable "x" {
  type = list(object({ a = optional(string, "d"), b = set(number) }))
  default = [{ b = [1] }]
  validation {
    condition     = contains([[1]], var.x) && (var.x) > (2) && can(regex("[[:alpha:]]\\pL", var.x))
    error_message = "m"
  }
}`)
	f.Fuzz(func(t *testing.T, tf string) {
		b, err := grantschema.Generate(fstest.MapFS{"templates/t/variables.tf": {Data: []byte(tf)}})
		if err != nil {
			return
		}
		var s any
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("the schema is not JSON: %v\n%s", err, b)
		}
		for i, c := range b {
			if c >= 0x80 {
				t.Fatalf("byte %d of the schema is not ASCII", i)
			}
		}
		for _, p := range schemaPatterns(s) {
			if _, err := regexp.Compile(p); err != nil {
				t.Fatalf("pattern %q does not compile: %v", p, err)
			}
		}
	})
}
