package template_test

import (
	"testing"
	"testing/fstest"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/template"
)

// FuzzLoad feeds arbitrary .tf files to the input discovery and checks that
// nothing panics, problems point into the file, and a grant can always be
// checked against whatever was discovered.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(variables))
	f.Add([]byte("variable \"a\" {\n  type = map(object({ x = optional(list(number), [1]) }))\n}\n"))
	f.Add([]byte("variable \"a\" {\n  default = [1, \"x\", true]\n  validation {\n    condition = length(var.a) > 0\n    error_message = \"x\"\n  }\n}\n"))
	f.Add([]byte("variable \"a\" { type = string\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		m, problems, err := template.Load(fstest.MapFS{"templates/f/main.tf": {Data: src}}, "f")
		if err != nil {
			t.Fatalf("Load returned an error for a present template: %v", err)
		}
		for _, p := range problems {
			if p.Message == "" || p.Line < 0 || (p.File != "templates/f/main.tf" && p.File != "templates/f") {
				t.Fatalf("bad problem %+v", p)
			}
		}
		req := grant.Request{ID: "f", File: "access/f.yaml", Template: "f", Scope: map[string]any{}}
		for _, name := range m.ScopeInputs() {
			req.Scope[name] = "value"
		}
		_ = m.CheckScope(req)
	})
}
