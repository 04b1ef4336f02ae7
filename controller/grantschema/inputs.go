package grantschema

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/jitops/jit/controller/template"
)

// scopeSchema describes the scope a grant of template m may set: its
// non-reserved inputs, those without a default required, nothing else.
func scopeSchema(fsys fs.FS, m *template.Module) (Schema, error) {
	descs, err := descriptions(fsys, m)
	if err != nil {
		return nil, err
	}
	props := Schema{}
	required := []string{}
	for _, name := range m.ScopeInputs() {
		in := m.Inputs[name]
		s := typeSchema(in.Type)
		if d := descs[name]; d != "" {
			s["description"] = d
		}
		if in.Required() {
			required = append(required, name)
		} else if !in.Default.IsNull() {
			def, err := jsonValue(in.Default)
			if err != nil {
				return nil, fmt.Errorf("%s: default of variable %q: %w", in.File, name, err)
			}
			s["default"] = withoutNulls(def)
		}
		for _, v := range in.Validations {
			addRule(s, in, v)
		}
		props[name] = s
	}
	s := Schema{"type": "object", "description": "Inputs of template " + m.Name + ".",
		"properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s, nil
}

// descriptions reads the description of each variable of m from the files
// that declare them. A description that is not a constant string is left
// out.
func descriptions(fsys fs.FS, m *template.Module) (map[string]string, error) {
	files := map[string]bool{}
	for _, in := range m.Inputs {
		files[in.File] = true
	}
	out := map[string]string{}
	for _, file := range sortedSet(files) {
		src, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", file, err)
		}
		body, ok := parseBody(file, src)
		if !ok {
			continue // .tf.json, or a file template.Load accepted and hclsyntax does not: no descriptions
		}
		for _, b := range body.Blocks {
			if b.Type != "variable" || len(b.Labels) != 1 {
				continue
			}
			attr, ok := b.Body.Attributes["description"]
			if !ok {
				continue
			}
			v, diags := attr.Expr.Value(nil)
			if diags.HasErrors() || v.Type() != cty.String || v.IsNull() || !v.IsKnown() {
				continue
			}
			out[b.Labels[0]] = v.AsString()
		}
	}
	return out, nil
}

func parseBody(file string, src []byte) (*hclsyntax.Body, bool) {
	f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, false
	}
	body, ok := f.Body.(*hclsyntax.Body)
	return body, ok
}

// typeSchema translates a terraform type constraint into the schema of a
// value of that type as the scope check (template.CheckScope) accepts it:
// strictly, so a string input takes a string and not a number.
func typeSchema(ty cty.Type) Schema {
	switch {
	case ty == cty.String:
		return Schema{"type": "string"}
	case ty == cty.Number:
		return Schema{"type": "number"}
	case ty == cty.Bool:
		return Schema{"type": "boolean"}
	case ty.IsListType() || ty.IsSetType():
		return Schema{"type": "array", "items": typeSchema(ty.ElementType())}
	case ty.IsTupleType():
		elems := ty.TupleElementTypes()
		items := make([]any, len(elems))
		for i, e := range elems {
			items[i] = typeSchema(e)
		}
		return Schema{"type": "array", "items": items, "additionalItems": false, "minItems": len(elems)}
	case ty.IsMapType():
		return Schema{"type": "object", "additionalProperties": typeSchema(ty.ElementType())}
	case ty.IsObjectType():
		props := Schema{}
		required := []string{}
		for name, at := range ty.AttributeTypes() {
			props[name] = typeSchema(at)
			if !ty.AttributeOptional(name) {
				required = append(required, name)
			}
		}
		sort.Strings(required)
		s := Schema{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	// "any": whatever YAML value the grant parser accepts, which is never null.
	return Schema{"not": Schema{"type": "null"}}
}

// withoutNulls drops the null attributes terraform's conversion gives
// absent optional attributes: an editor offering the default would write
// them out, and a grant's scope may hold no null.
func withoutNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if e != nil {
				out[k] = withoutNulls(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutNulls(e)
		}
		return out
	}
	return v
}

// jsonValue converts a terraform value to its JSON form.
func jsonValue(v cty.Value) (any, error) {
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// addRule adds to s what a validation rule of input name says, as far as
// it translates exactly: each conjunct of the condition that does is added,
// the others are left to jit validate and terraform. The rule's constant
// error message becomes the editor's message for the patterns it adds.
func addRule(s Schema, in template.Input, v template.Validation) {
	msg := ""
	if mv, diags := v.ErrorMessage.Value(nil); !diags.HasErrors() && mv.Type() == cty.String && mv.IsKnown() && !mv.IsNull() {
		msg = mv.AsString()
	}
	for _, c := range conjuncts(v.Condition) {
		if kw := translate(c, in.Name, in.Type); kw != nil {
			if _, ok := kw["pattern"]; ok && msg != "" {
				kw["patternErrorMessage"] = msg
			}
			merge(s, kw)
		}
	}
}

// merge adds the keywords of kw to s; where s already has one of them the
// whole of kw goes into s's allOf instead, so that both apply.
func merge(s, kw Schema) {
	for k := range kw {
		if _, clash := s[k]; clash {
			all, _ := s["allOf"].([]any)
			s["allOf"] = append(all, kw)
			return
		}
	}
	for k, v := range kw {
		s[k] = v
	}
}

// conjuncts splits a condition at its top-level && operators.
func conjuncts(e hcl.Expression) []hcl.Expression {
	e = unwrap(e)
	if b, ok := e.(*hclsyntax.BinaryOpExpr); ok && b.Op == hclsyntax.OpLogicalAnd {
		return append(conjuncts(b.LHS), conjuncts(b.RHS)...)
	}
	return []hcl.Expression{e}
}

func unwrap(e hcl.Expression) hcl.Expression {
	for {
		p, ok := e.(*hclsyntax.ParenthesesExpr)
		if !ok {
			return e
		}
		e = p.Expression
	}
}

// translate returns the schema keywords equivalent to condition c over
// var.name (of type ty), or nil when there are none.
func translate(c hcl.Expression, name string, ty cty.Type) Schema {
	switch e := c.(type) {
	case *hclsyntax.FunctionCallExpr:
		switch {
		case e.Name == "can" && len(e.Args) == 1 && !e.ExpandFinal:
			re, ok := unwrap(e.Args[0]).(*hclsyntax.FunctionCallExpr)
			if !ok || re.Name != "regex" || len(re.Args) != 2 || re.ExpandFinal || !isVar(re.Args[1], name) {
				return nil
			}
			pat, ok := constant(re.Args[0])
			if !ok || pat.Type() != cty.String {
				return nil
			}
			if p, ok := Pattern(pat.AsString()); ok {
				return Schema{"pattern": p}
			}
		case e.Name == "contains" && len(e.Args) == 2 && !e.ExpandFinal && isVar(e.Args[1], name):
			list, ok := constant(e.Args[0])
			if !ok || !(list.Type().IsTupleType() || list.Type().IsListType() || list.Type().IsSetType()) || list.LengthInt() == 0 {
				return nil
			}
			var enum []any
			for it := list.ElementIterator(); it.Next(); {
				_, ev := it.Element()
				if ev.IsNull() || !ev.Type().IsPrimitiveType() || !ev.Type().Equals(ty) {
					return nil
				}
				j, err := jsonValue(ev)
				if err != nil {
					return nil
				}
				enum = append(enum, j)
			}
			return Schema{"enum": enum}
		}
	case *hclsyntax.BinaryOpExpr:
		return comparison(e, name)
	}
	return nil
}

// comparison translates var.x OP constant (either way round) and
// floor(var.x) == var.x.
func comparison(e *hclsyntax.BinaryOpExpr, name string) Schema {
	lhs, rhs := unwrap(e.LHS), unwrap(e.RHS)
	if e.Op == hclsyntax.OpEqual && (isFloorOf(lhs, name) && isVar(rhs, name) || isFloorOf(rhs, name) && isVar(lhs, name)) {
		return Schema{"multipleOf": 1}
	}
	keyword := map[*hclsyntax.Operation]string{
		hclsyntax.OpGreaterThan: "exclusiveMinimum", hclsyntax.OpGreaterThanOrEqual: "minimum",
		hclsyntax.OpLessThan: "exclusiveMaximum", hclsyntax.OpLessThanOrEqual: "maximum",
	}
	mirror := map[string]string{"exclusiveMinimum": "exclusiveMaximum", "minimum": "maximum",
		"exclusiveMaximum": "exclusiveMinimum", "maximum": "minimum"}
	kw, ok := keyword[e.Op]
	if !ok {
		return nil
	}
	varSide, constSide := lhs, rhs
	if !isVar(lhs, name) {
		varSide, constSide, kw = rhs, lhs, mirror[kw]
	}
	if !isVar(varSide, name) {
		return nil
	}
	n, ok := constant(constSide)
	if !ok || n.Type() != cty.Number || n.IsNull() {
		return nil
	}
	f := n.AsBigFloat()
	if !f.IsInt() || f.Cmp(big.NewFloat(1<<53)) > 0 || f.Cmp(big.NewFloat(-(1<<53))) < 0 {
		return nil // a bound JSON carries exactly, or none
	}
	i, _ := f.Int64()
	return Schema{kw: i}
}

func isFloorOf(e hcl.Expression, name string) bool {
	f, ok := e.(*hclsyntax.FunctionCallExpr)
	return ok && f.Name == "floor" && len(f.Args) == 1 && !f.ExpandFinal && isVar(f.Args[0], name)
}

// isVar reports whether e is exactly var.<name>.
func isVar(e hcl.Expression, name string) bool {
	t, ok := unwrap(e).(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(t.Traversal) != 2 || t.Traversal.RootName() != "var" {
		return false
	}
	a, ok := t.Traversal[1].(hcl.TraverseAttr)
	return ok && a.Name == name
}

// constant evaluates e when it refers to no variable and calls no function.
func constant(e hcl.Expression) (cty.Value, bool) {
	if len(e.Variables()) > 0 {
		return cty.NilVal, false
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return cty.NilVal, false
	}
	return v, true
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
