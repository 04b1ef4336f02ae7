package template

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/jitops/jit/controller/grant"
)

// CheckScope checks a grant's scope against the template's inputs: every key
// must be a declared, non-reserved input; every required input must be set;
// every value must have the declared type (strictly: a string input takes a
// YAML string, not a number); and no validation rule of the template that can
// be evaluated here may reject the value. Problems point into the grant file.
// An input the request marks Invalid (its problem already reported) is not
// reported missing.
func (m *Module) CheckScope(req grant.Request) []grant.Problem {
	var problems []grant.Problem
	vals := map[string]cty.Value{}
	for _, name := range sortedKeys(req.Scope) {
		in, ok := m.Inputs[name]
		if !ok || grant.IsReservedInput(name) {
			problems = append(problems, grant.At(req.File, req.Position("scope."+name),
				"template %s has no input %q; its inputs are: %s", m.Name, name, strings.Join(m.ScopeInputs(), ", ")))
			continue
		}
		v, msg := conform(req.Scope[name], in.Type)
		if msg != "" {
			problems = append(problems, grant.At(req.File, req.Position("scope."+name), "scope.%s: %s", name, msg))
			continue
		}
		vals[name] = v
	}
	for _, name := range m.ScopeInputs() {
		in := m.Inputs[name]
		if _, set := req.Scope[name]; !set && in.Required() && !req.Bad("scope") && !req.Bad("scope."+name) {
			problems = append(problems, grant.At(req.File, req.Position("scope"),
				"template %s requires input %q (%s); add it under scope:", m.Name, name, in.TypeString()))
		}
	}
	if len(problems) > 0 {
		return problems
	}
	return m.checkValidations(req, vals)
}

// checkValidations evaluates each input's validation conditions with the
// grant's values. Conditions that cannot be decided here (unknown functions,
// values only the controller supplies) are left to terraform.
func (m *Module) checkValidations(req grant.Request, vals map[string]cty.Value) []grant.Problem {
	all := map[string]cty.Value{}
	for name, in := range m.Inputs {
		switch v, ok := vals[name]; {
		case ok:
			all[name] = v
		case !in.Required():
			all[name] = in.Default
		default:
			all[name] = cty.UnknownVal(in.Type)
		}
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(all)},
		Functions: functions,
	}
	// Many grants share values (the same database, the same privileges), and
	// evaluating a rule compiles its regular expressions each time, so
	// outcomes are memoised by the values the rule could see.
	key := m.Name + "\x00" + ctyKey(cty.ObjectVal(all))
	var problems []grant.Problem
	for _, name := range sortedKeys(vals) {
		for i, v := range m.Inputs[name].Validations {
			ok, decided := m.evalCached(fmt.Sprintf("%s\x00%d\x00%s", name, i, key), ctx, v.Condition)
			if !decided || ok {
				continue
			}
			msg := "the template's validation rule rejects this value"
			if mv, diags := v.ErrorMessage.Value(ctx); !diags.HasErrors() && mv.Type() == cty.String && mv.IsKnown() && !mv.IsNull() {
				msg = mv.AsString()
			}
			problems = append(problems, grant.At(req.File, req.Position("scope."+name), "scope.%s: %s", name, msg))
		}
	}
	return problems
}

type outcome struct{ ok, decided bool }

func (m *Module) evalCached(key string, ctx *hcl.EvalContext, expr hcl.Expression) (ok, decided bool) {
	m.mu.Lock()
	o, hit := m.outcomes[key]
	m.mu.Unlock()
	if hit {
		return o.ok, o.decided
	}
	ok, decided = evalCondition(ctx, expr)
	m.mu.Lock()
	if m.outcomes == nil {
		m.outcomes = map[string]outcome{}
	}
	if len(m.outcomes) < maxOutcomes {
		m.outcomes[key] = outcome{ok, decided}
	}
	m.mu.Unlock()
	return ok, decided
}

// maxOutcomes bounds the memo of validation outcomes per template.
const maxOutcomes = 100_000

// ctyKey renders a value (unknowns included) as a memo key.
func ctyKey(v cty.Value) string { return v.GoString() }

func evalCondition(ctx *hcl.EvalContext, expr hcl.Expression) (ok, decided bool) {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.Bool {
		return false, false
	}
	return v.True(), true
}

// functions are the terraform functions whose behaviour go-cty and hcl share
// with terraform, enough for the usual validation rules.
var functions = map[string]function.Function{
	"can":        tryfunc.CanFunc,
	"try":        tryfunc.TryFunc,
	"regex":      stdlib.RegexFunc,
	"regexall":   stdlib.RegexAllFunc,
	"contains":   stdlib.ContainsFunc,
	"length":     stdlib.LengthFunc,
	"lower":      stdlib.LowerFunc,
	"upper":      stdlib.UpperFunc,
	"trimspace":  stdlib.TrimSpaceFunc,
	"keys":       stdlib.KeysFunc,
	"values":     stdlib.ValuesFunc,
	"min":        stdlib.MinFunc,
	"max":        stdlib.MaxFunc,
	"abs":        stdlib.AbsoluteFunc,
	"floor":      stdlib.FloorFunc,
	"ceil":       stdlib.CeilFunc,
	"substr":     stdlib.SubstrFunc,
	"join":       stdlib.JoinFunc,
	"split":      stdlib.SplitFunc,
	"formatdate": stdlib.FormatDateFunc,
}

// conform converts a YAML-decoded value to ty without terraform's lenient
// conversions (no number-to-string, no "true"-to-bool), returning a message
// when the value does not have the type.
func conform(v any, ty cty.Type) (cty.Value, string) {
	if ty == cty.DynamicPseudoType {
		return toCty(v), ""
	}
	switch {
	case ty == cty.String:
		if s, ok := v.(string); ok {
			return cty.StringVal(s), ""
		}
	case ty == cty.Number:
		switch n := v.(type) {
		case int64:
			return cty.NumberIntVal(n), ""
		case float64:
			return cty.NumberFloatVal(n), ""
		}
	case ty == cty.Bool:
		if b, ok := v.(bool); ok {
			return cty.BoolVal(b), ""
		}
	case ty.IsListType() || ty.IsSetType():
		items, ok := v.([]any)
		if !ok {
			break
		}
		if len(items) == 0 {
			if ty.IsListType() {
				return cty.ListValEmpty(ty.ElementType()), ""
			}
			return cty.SetValEmpty(ty.ElementType()), ""
		}
		out := make([]cty.Value, len(items))
		for i, it := range items {
			c, msg := conform(it, ty.ElementType())
			if msg != "" {
				return cty.NilVal, fmt.Sprintf("item %d: %s", i, msg)
			}
			out[i] = c
		}
		if ty.IsListType() {
			return cty.ListVal(out), ""
		}
		return cty.SetVal(out), ""
	case ty.IsTupleType():
		items, ok := v.([]any)
		if !ok || len(items) != len(ty.TupleElementTypes()) {
			break
		}
		out := make([]cty.Value, len(items))
		for i, it := range items {
			c, msg := conform(it, ty.TupleElementTypes()[i])
			if msg != "" {
				return cty.NilVal, fmt.Sprintf("item %d: %s", i, msg)
			}
			out[i] = c
		}
		return cty.TupleVal(out), ""
	case ty.IsMapType():
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		if len(m) == 0 {
			return cty.MapValEmpty(ty.ElementType()), ""
		}
		out := map[string]cty.Value{}
		for _, k := range sortedKeys(m) {
			c, msg := conform(m[k], ty.ElementType())
			if msg != "" {
				return cty.NilVal, fmt.Sprintf("key %q: %s", k, msg)
			}
			out[k] = c
		}
		return cty.MapVal(out), ""
	case ty.IsObjectType():
		m, ok := v.(map[string]any)
		if !ok {
			break
		}
		out := map[string]cty.Value{}
		for _, k := range sortedKeys(m) {
			if !ty.HasAttribute(k) {
				return cty.NilVal, fmt.Sprintf("unexpected key %q; %s has no such attribute", k, typeexpr.TypeString(ty))
			}
			c, msg := conform(m[k], ty.AttributeType(k))
			if msg != "" {
				return cty.NilVal, fmt.Sprintf("key %q: %s", k, msg)
			}
			out[k] = c
		}
		for name, at := range ty.AttributeTypes() {
			if _, set := out[name]; set {
				continue
			}
			if !ty.AttributeOptional(name) {
				return cty.NilVal, fmt.Sprintf("missing key %q", name)
			}
			out[name] = cty.NullVal(at)
		}
		return cty.ObjectVal(out), ""
	}
	return cty.NilVal, fmt.Sprintf("must be %s, got %s", describeType(ty), describeValue(v))
}

// toCty converts a YAML-decoded value for an untyped ("any") input.
func toCty(v any) cty.Value {
	switch x := v.(type) {
	case string:
		return cty.StringVal(x)
	case bool:
		return cty.BoolVal(x)
	case int64:
		return cty.NumberIntVal(x)
	case float64:
		return cty.NumberFloatVal(x)
	case []any:
		out := make([]cty.Value, len(x))
		for i, it := range x {
			out[i] = toCty(it)
		}
		return cty.TupleVal(out)
	case map[string]any:
		out := map[string]cty.Value{}
		for k, it := range x {
			out[k] = toCty(it)
		}
		return cty.ObjectVal(out)
	}
	return cty.DynamicVal
}

func describeType(ty cty.Type) string {
	switch {
	case ty == cty.String:
		return "a string"
	case ty == cty.Number:
		return "a number"
	case ty == cty.Bool:
		return "true or false"
	}
	return typeexpr.TypeString(ty)
}

func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case int64, float64:
		return fmt.Sprintf("the number %v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
