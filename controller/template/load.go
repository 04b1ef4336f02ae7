package template

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/hcldiag"
)

// Dir is the directory of the access repository holding templates.
const Dir = "templates"

// MaxFileSize bounds each .tf file read, in bytes.
const MaxFileSize = 1 << 20

// ErrNotFound means the template directory does not exist.
var ErrNotFound = errors.New("template not found")

// Module is a template's interface as seen by the controller.
type Module struct {
	// Name is the directory name under templates/.
	Name string
	// Inputs are the declared variables by name.
	Inputs map[string]Input
	// Resources are the managed resources (resource blocks) of the root
	// module, sorted by address.
	Resources []Resource
	// Modules are the addresses of the root module's module calls
	// ("module.x"), sorted.
	Modules []string
	// Outputs are the names of the root module's outputs, sorted.
	Outputs []string

	blocks map[string]string // "resource T.N", "module N", "output N": where declared

	mu       sync.Mutex
	outcomes map[string]outcome // validation results by input, rule and values
}

// Input is one declared variable of a template.
type Input struct {
	Name string
	// Type is the declared type constraint; cty.DynamicPseudoType when the
	// variable declares none (terraform's "any").
	Type cty.Type
	// Default is the default value; cty.NilVal when the input is required.
	Default cty.Value
	// Sensitive is the variable's sensitive flag.
	Sensitive bool
	// Validations are the variable's validation blocks, in order.
	Validations []Validation
	// File and Pos locate the declaration.
	File string
	Pos  grant.Pos
}

// Required reports whether a grant (or the controller) must supply the input.
func (in Input) Required() bool { return in.Default == cty.NilVal }

// TypeString renders the type as terraform writes it ("string", "list(string)").
func (in Input) TypeString() string { return typeexpr.TypeString(in.Type) }

// Validation is one validation block: a condition over var.<name> and the
// message terraform shows when it is false.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
}

// ScopeInputs returns the names of the inputs a grant's scope may set (every
// declared input except the reserved ones), sorted.
func (m *Module) ScopeInputs() []string {
	var names []string
	for n := range m.Inputs {
		if !grant.IsReservedInput(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"}, {Name: "type"}, {Name: "default"}, {Name: "sensitive"},
		{Name: "nullable"}, {Name: "ephemeral"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}, {Name: "error_message", Required: true}},
}

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "resource", LabelNames: []string{"type", "name"}},
	{Type: "module", LabelNames: []string{"name"}},
	{Type: "output", LabelNames: []string{"name"}},
}}

// isConfigFile reports whether terraform reads a file of this name as part
// of the root module.
func isConfigFile(name string) bool {
	return strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json")
}

// isOverrideFile reports whether terraform merges a file of this name into
// the other files' blocks (override.tf, x_override.tf and their .json forms).
func isOverrideFile(name string) bool {
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".json"), ".tf")
	return base == "override" || strings.HasSuffix(base, "_override")
}

// Load parses the root module of templates/<name> from fsys (rooted at the
// repository): its *.tf and *.tf.json files, as terraform reads them. It
// returns the template's inputs, resources, module calls and outputs, in one
// pass. Problems point into the files; override files (override.tf,
// *_override.tf), which would change blocks after they were read here, are
// problems. The error is ErrNotFound (wrapped) when the directory is
// missing, or a read error.
func Load(fsys fs.FS, name string) (*Module, []grant.Problem, error) {
	dir := path.Join(Dir, name)
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s: %w", dir, ErrNotFound)
		}
		return nil, nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	m := &Module{Name: name, Inputs: map[string]Input{}}
	var problems []grant.Problem
	files := 0
	for _, e := range entries {
		if e.IsDir() || !isConfigFile(e.Name()) {
			continue
		}
		files++
		file := path.Join(dir, e.Name())
		if isOverrideFile(e.Name()) {
			problems = append(problems, grant.Problem{File: file, Line: 1, Column: 1, Message: "override files are not supported in templates: merge it into the file it overrides"})
			continue
		}
		if e.Type()&fs.ModeSymlink != 0 {
			problems = append(problems, grant.Problem{File: file, Line: 1, Column: 1, Message: "symbolic links are not allowed in templates"})
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", file, err)
		}
		if info.Size() > MaxFileSize {
			problems = append(problems, grant.Problem{File: file, Line: 1, Column: 1, Message: fmt.Sprintf("file is %d bytes; template files may be at most %d", info.Size(), MaxFileSize)})
			continue
		}
		src, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", file, err)
		}
		problems = append(problems, m.parseFile(file, src)...)
	}
	if files == 0 {
		problems = append(problems, grant.Problem{File: dir, Message: "template has no .tf files"})
	}
	m.sortBlocks()
	grant.SortProblems(problems)
	return m, problems, nil
}

func (m *Module) parseFile(file string, src []byte) []grant.Problem {
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(file, ".json") {
		f, diags = json.Parse(src, file)
	} else {
		f, diags = hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	}
	problems := hcldiag.Problems(file, diags)
	if diags.HasErrors() {
		return problems
	}
	content, _, diags := f.Body.PartialContent(fileSchema)
	problems = append(problems, hcldiag.Problems(file, diags)...)
	for _, b := range content.Blocks {
		if b.Type != "variable" {
			problems = append(problems, m.addBlock(file, b)...)
			continue
		}
		in, ps := decodeVariable(file, b)
		problems = append(problems, ps...)
		if prev, dup := m.Inputs[in.Name]; dup {
			problems = append(problems, grant.At(file, in.Pos, "variable %q is declared twice (also at %s:%d)", in.Name, prev.File, prev.Pos.Line))
			continue
		}
		m.Inputs[in.Name] = in
	}
	return problems
}

func decodeVariable(file string, b *hcl.Block) (Input, []grant.Problem) {
	in := Input{Name: b.Labels[0], Type: cty.DynamicPseudoType, Default: cty.NilVal, File: file,
		Pos: grant.Pos{Line: b.DefRange.Start.Line, Column: b.DefRange.Start.Column}}
	content, diags := b.Body.Content(variableSchema)
	problems := hcldiag.Problems(file, diags)
	if attr, ok := content.Attributes["type"]; ok {
		ty, _, diags := typeexpr.TypeConstraintWithDefaults(attr.Expr)
		problems = append(problems, hcldiag.Problems(file, diags)...)
		if !diags.HasErrors() {
			in.Type = ty
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		v, diags := attr.Expr.Value(nil)
		problems = append(problems, hcldiag.Problems(file, diags)...)
		if !diags.HasErrors() {
			conv, err := convert.Convert(v, in.Type)
			if err != nil {
				problems = append(problems, grant.At(file, hcldiag.Pos(attr.Expr.Range()), "default of variable %q does not match its type %s: %v", in.Name, in.TypeString(), err))
			} else {
				in.Default = conv
			}
		}
	}
	if attr, ok := content.Attributes["sensitive"]; ok {
		v, diags := attr.Expr.Value(nil)
		problems = append(problems, hcldiag.Problems(file, diags)...)
		if !diags.HasErrors() && v.Type() == cty.Bool && v.IsKnown() && !v.IsNull() {
			in.Sensitive = v.True()
		}
	}
	for _, vb := range content.Blocks {
		vc, diags := vb.Body.Content(validationSchema)
		problems = append(problems, hcldiag.Problems(file, diags)...)
		if diags.HasErrors() {
			continue
		}
		in.Validations = append(in.Validations, Validation{Condition: vc.Attributes["condition"].Expr, ErrorMessage: vc.Attributes["error_message"].Expr})
	}
	return in, problems
}
