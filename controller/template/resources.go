package template

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/hcldiag"
)

// Resource is one resource block of a template's root module.
type Resource struct {
	// Address is "<type>.<name>", e.g. "terraform_data.role".
	Address string
	// Type is the resource type, e.g. "terraform_data".
	Type string
	// Repeated reports that the block sets count or for_each, so the state
	// may hold any number of instances of it (zero included).
	Repeated bool
	// CreateProvisioners and DestroyProvisioners count the block's
	// provisioners that run when the resource is created (when = create, the
	// default) and when it is destroyed (when = destroy).
	CreateProvisioners  int
	DestroyProvisioners int
	// File and Pos locate the block.
	File string
	Pos  grant.Pos
}

// Rerunnable reports whether re-creating the resource does nothing but run
// its create-time provisioners again: a single terraform_data resource with
// at least one create-time provisioner and no destroy-time provisioner.
// Replacing such a resource has no effect of its own on any target (a
// terraform_data destroy without provisioners only forgets), so it is how a
// template re-asserts what its provisioners ensure (see provision.Reassert).
func (r Resource) Rerunnable() bool {
	return r.Type == "terraform_data" && !r.Repeated && r.CreateProvisioners > 0 && r.DestroyProvisioners == 0
}

// Addresses returns the addresses of the template's resources and module
// calls, sorted.
func (m *Module) Addresses() []string {
	out := make([]string, 0, len(m.Resources)+len(m.Modules))
	for _, r := range m.Resources {
		out = append(out, r.Address)
	}
	out = append(out, m.Modules...)
	sort.Strings(out)
	return out
}

// HasOutput reports whether the template declares output name.
func (m *Module) HasOutput(name string) bool {
	i := sort.SearchStrings(m.Outputs, name)
	return i < len(m.Outputs) && m.Outputs[i] == name
}

var resourceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "count"}, {Name: "for_each"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "provisioner", LabelNames: []string{"type"}}},
}

var provisionerSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "when"}}}

// addBlock records a resource, module or output block. Only what jit needs
// is decoded; terraform checks the rest.
func (m *Module) addBlock(file string, b *hcl.Block) []grant.Problem {
	pos := hcldiag.Pos(b.DefRange)
	key := b.Type + " " + b.Labels[0]
	what := fmt.Sprintf("%s %q", b.Type, b.Labels[0])
	if b.Type == "resource" {
		key += "." + b.Labels[1]
		what = "resource " + b.Labels[0] + "." + b.Labels[1]
	}
	if m.blocks == nil {
		m.blocks = map[string]string{}
	}
	if prev, dup := m.blocks[key]; dup {
		return []grant.Problem{grant.At(file, pos, "%s is declared twice (also at %s)", what, prev)}
	}
	m.blocks[key] = fmt.Sprintf("%s:%d", file, pos.Line)
	switch b.Type {
	case "module":
		m.Modules = append(m.Modules, "module."+b.Labels[0])
	case "output":
		m.Outputs = append(m.Outputs, b.Labels[0])
	case "resource":
		r := Resource{Address: b.Labels[0] + "." + b.Labels[1], Type: b.Labels[0], File: file, Pos: pos}
		content, _, diags := b.Body.PartialContent(resourceSchema)
		problems := hcldiag.Problems(file, diags)
		r.Repeated = content.Attributes["count"] != nil || content.Attributes["for_each"] != nil
		for _, pb := range content.Blocks {
			pc, _, diags := pb.Body.PartialContent(provisionerSchema)
			problems = append(problems, hcldiag.Problems(file, diags)...)
			when := "create"
			if a, ok := pc.Attributes["when"]; ok {
				when = hcl.ExprAsKeyword(a.Expr)
			}
			switch when {
			case "create":
				r.CreateProvisioners++
			case "destroy":
				r.DestroyProvisioners++
			default:
				problems = append(problems, grant.At(file, hcldiag.Pos(pb.DefRange), "a provisioner of %s: when must be create or destroy", r.Address))
			}
		}
		m.Resources = append(m.Resources, r)
		return problems
	}
	return nil
}

func (m *Module) sortBlocks() {
	sort.Slice(m.Resources, func(i, j int) bool { return m.Resources[i].Address < m.Resources[j].Address })
	sort.Strings(m.Modules)
	sort.Strings(m.Outputs)
}
