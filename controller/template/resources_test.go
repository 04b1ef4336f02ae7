package template_test

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/template"
)

const resourcesTF = `
variable "v" { type = string }

resource "terraform_data" "role" {
  input = var.v
  provisioner "local-exec" {
    command = "create"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "drop"
  }
}

resource "terraform_data" "ensure" {
  provisioner "local-exec" {
    when    = create
    command = "ensure"
  }
}

resource "terraform_data" "many" {
  count = 2
  provisioner "local-exec" { command = "x" }
}

resource "terraform_data" "quiet" {}

module "inner" {
  source = "./inner"
}

output "connection" { value = {} }
`

const resourcesJSON = `{
  "variable": {"j": {"type": "list(string)", "default": []}},
  "resource": {"terraform_data": {"each": {
    "for_each": "${toset(var.j)}",
    "provisioner": [{"local-exec": {"command": "a"}}, {"local-exec": {"when": "destroy", "command": "b"}}]
  }}},
  "output": {"extra": {"value": "x"}}
}`

// TestLoadResources: Load returns the root module's resources (with what
// jit needs of each), module calls and outputs from .tf and .tf.json files
// alike, in the same pass that finds the inputs.
func TestLoadResources(t *testing.T) {
	fsys := fstest.MapFS{
		"templates/t/main.tf":         {Data: []byte(resourcesTF)},
		"templates/t/extra.tf.json":   {Data: []byte(resourcesJSON)},
		"templates/t/inner/inner.tf":  {Data: []byte(`resource "terraform_data" "nested" {}`)},
		"templates/t/README.md":       {Data: []byte("resource \"x\" \"y\" {}")},
		"templates/t/scripts/run.sql": {Data: []byte("SELECT 1;")},
	}
	m, problems, err := template.Load(fsys, "t")
	if err != nil || len(problems) > 0 {
		t.Fatalf("Load: %v %v", err, problems)
	}
	want := []template.Resource{
		{Address: "terraform_data.each", Type: "terraform_data", Repeated: true, CreateProvisioners: 1, DestroyProvisioners: 1, File: "templates/t/extra.tf.json", Pos: grant.Pos{Line: 3, Column: 43}},
		{Address: "terraform_data.ensure", Type: "terraform_data", CreateProvisioners: 1, File: "templates/t/main.tf", Pos: grant.Pos{Line: 15, Column: 1}},
		{Address: "terraform_data.many", Type: "terraform_data", Repeated: true, CreateProvisioners: 1, File: "templates/t/main.tf", Pos: grant.Pos{Line: 22, Column: 1}},
		{Address: "terraform_data.quiet", Type: "terraform_data", File: "templates/t/main.tf", Pos: grant.Pos{Line: 27, Column: 1}},
		{Address: "terraform_data.role", Type: "terraform_data", CreateProvisioners: 1, DestroyProvisioners: 1, File: "templates/t/main.tf", Pos: grant.Pos{Line: 4, Column: 1}},
	}
	if d := cmp.Diff(want, m.Resources); d != "" {
		t.Errorf("Resources (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"module.inner"}, m.Modules); d != "" {
		t.Errorf("Modules (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"connection", "extra"}, m.Outputs); d != "" {
		t.Errorf("Outputs (-want +got):\n%s", d)
	}
	if !m.HasOutput("connection") || m.HasOutput("nope") {
		t.Errorf("HasOutput is wrong for %v", m.Outputs)
	}
	wantAddrs := []string{"module.inner", "terraform_data.each", "terraform_data.ensure", "terraform_data.many", "terraform_data.quiet", "terraform_data.role"}
	if d := cmp.Diff(wantAddrs, m.Addresses()); d != "" {
		t.Errorf("Addresses (-want +got):\n%s", d)
	}
	if _, ok := m.Inputs["j"]; !ok {
		t.Errorf("the variable declared in the .tf.json file is missing: %v", m.Inputs)
	}
	var rerun []string
	for _, r := range m.Resources {
		if r.Rerunnable() {
			rerun = append(rerun, r.Address)
		}
	}
	if d := cmp.Diff([]string{"terraform_data.ensure"}, rerun); d != "" {
		t.Errorf("Rerunnable resources (-want +got):\n%s", d)
	}
}

func TestLoadBlockProblems(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		want  []grant.Problem
	}{
		"resource twice": {
			files: map[string]string{"a.tf": `resource "terraform_data" "x" {}`, "b.tf": "\n" + `resource "terraform_data" "x" {}`},
			want:  []grant.Problem{{File: "templates/t/b.tf", Line: 2, Column: 1, Message: "resource terraform_data.x is declared twice (also at templates/t/a.tf:1)"}},
		},
		"output twice": {
			files: map[string]string{"a.tf": "output \"o\" {\n  value = 1\n}\noutput \"o\" {\n  value = 2\n}\n"},
			want:  []grant.Problem{{File: "templates/t/a.tf", Line: 4, Column: 1, Message: `output "o" is declared twice (also at templates/t/a.tf:1)`}},
		},
		"module twice": {
			files: map[string]string{"a.tf": "module \"m\" {\n  source = \"./m\"\n}\nmodule \"m\" {\n  source = \"./m\"\n}\n"},
			want:  []grant.Problem{{File: "templates/t/a.tf", Line: 4, Column: 1, Message: `module "m" is declared twice (also at templates/t/a.tf:1)`}},
		},
		"bad when": {
			files: map[string]string{"a.tf": "resource \"terraform_data\" \"x\" {\n  provisioner \"local-exec\" {\n    when = sometimes\n    command = \"x\"\n  }\n}\n"},
			want:  []grant.Problem{{File: "templates/t/a.tf", Line: 2, Column: 3, Message: "a provisioner of terraform_data.x: when must be create or destroy"}},
		},
		"override file": {
			files: map[string]string{"main.tf": `resource "terraform_data" "x" {}`, "main_override.tf": `resource "terraform_data" "x" { count = 0 }`},
			want:  []grant.Problem{{File: "templates/t/main_override.tf", Line: 1, Column: 1, Message: "override files are not supported in templates: merge it into the file it overrides"}},
		},
		"override json": {
			files: map[string]string{"main.tf": `resource "terraform_data" "x" {}`, "override.tf.json": `{}`},
			want:  []grant.Problem{{File: "templates/t/override.tf.json", Line: 1, Column: 1, Message: "override files are not supported in templates: merge it into the file it overrides"}},
		},
		"bad json": {
			files: map[string]string{"main.tf.json": "{\n  \"resource\": [\n"},
			want:  nil, // checked by prefix below
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, src := range tc.files {
				fsys["templates/t/"+n] = &fstest.MapFile{Data: []byte(src)}
			}
			_, problems, err := template.Load(fsys, "t")
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if len(problems) == 0 || problems[0].File != "templates/t/main.tf.json" || problems[0].Line == 0 {
					t.Errorf("problems = %v, want one located in main.tf.json", problems)
				}
				return
			}
			if d := cmp.Diff(tc.want, problems); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
		})
	}
}

// FuzzLoadJSON feeds arbitrary .tf.json files to Load: nothing panics and
// problems point into the file.
func FuzzLoadJSON(f *testing.F) {
	f.Add([]byte(resourcesJSON))
	f.Add([]byte(`{"resource": {"terraform_data": {"x": {"provisioner": {"local-exec": {"when": 3}}}}}}`))
	f.Add([]byte(`{"output": {"o": {"value": 1}}, "module": {"m": {"source": "./m"}}}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, src []byte) {
		m, problems, err := template.Load(fstest.MapFS{"templates/f/main.tf.json": {Data: src}}, "f")
		if err != nil {
			t.Fatalf("Load returned an error for a present template: %v", err)
		}
		for _, p := range problems {
			if p.Message == "" || p.Line < 0 || (p.File != "templates/f/main.tf.json" && p.File != "templates/f") {
				t.Fatalf("bad problem %+v", p)
			}
		}
		_ = m.Addresses()
	})
}
