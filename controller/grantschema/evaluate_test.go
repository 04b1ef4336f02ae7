package grantschema_test

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// A minimal JSON Schema (draft-07) evaluator for exactly the keywords the
// generator emits. It fails on any other keyword, so a generator that
// starts emitting one cannot pass these tests unchecked.
//
// Values are what yaml.v3 decodes into an any: map[string]any, []any,
// string, int, float64, bool and nil, as yaml-language-server sees YAML.

// annotations are keywords that do not constrain a value.
var annotations = map[string]bool{
	"$schema": true, "$comment": true, "title": true, "description": true, "default": true,
	"patternErrorMessage": true, "errorMessage": true,
}

// evaluate returns where and why v does not conform to s, or nothing.
func evaluate(s any, v any, at string) ([]string, error) {
	switch s := s.(type) {
	case bool:
		if !s {
			return []string{at + ": no value is allowed here"}, nil
		}
		return nil, nil
	case map[string]any:
		return evaluateObject(s, v, at)
	}
	return nil, fmt.Errorf("%s: a schema must be an object or a boolean, got %T", at, s)
}

func evaluateObject(s map[string]any, v any, at string) ([]string, error) {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kw := s[k]
		if annotations[k] {
			continue
		}
		switch k {
		case "type":
			if !hasType(v, kw.(string)) {
				fail("want %s, got %T", kw, v)
			}
		case "enum":
			if !contains(kw.([]any), v) {
				fail("%v is not one of %v", v, kw)
			}
		case "const":
			if !equal(kw, v) {
				fail("%v is not %v", v, kw)
			}
		case "pattern":
			str, ok := v.(string)
			if !ok {
				continue
			}
			re, err := regexp.Compile(kw.(string))
			if err != nil {
				return nil, fmt.Errorf("%s: pattern %q is not in the Go/ECMA common subset: %v", at, kw, err)
			}
			if !re.MatchString(str) {
				fail("%q does not match %s", str, kw)
			}
		case "minLength", "maxLength":
			str, ok := v.(string)
			if !ok {
				continue
			}
			n, lim := utf8.RuneCountInString(str), int(kw.(float64))
			if k == "minLength" && n < lim || k == "maxLength" && n > lim {
				fail("length %d violates %s %d", n, k, lim)
			}
		case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf":
			n, ok := number(v)
			if !ok {
				continue
			}
			lim := kw.(float64)
			bad := map[string]bool{
				"minimum": n < lim, "maximum": n > lim, "exclusiveMinimum": n <= lim, "exclusiveMaximum": n >= lim,
				"multipleOf": math.Mod(n, lim) != 0,
			}[k]
			if bad {
				fail("%v violates %s %v", n, k, lim)
			}
		case "required":
			obj, ok := v.(map[string]any)
			if !ok {
				continue
			}
			for _, name := range kw.([]any) {
				if _, set := obj[name.(string)]; !set {
					fail("%s is required", name)
				}
			}
		case "properties", "additionalProperties", "propertyNames":
			obj, ok := v.(map[string]any)
			if !ok {
				continue
			}
			props, _ := s["properties"].(map[string]any)
			for _, name := range sortedKeys(obj) {
				var sub any
				switch {
				case k == "properties" && props[name] != nil:
					sub = props[name]
				case k == "additionalProperties" && props[name] == nil:
					sub = kw
				case k == "propertyNames":
					e, err := evaluate(kw, name, at+"{"+name+"}")
					if err != nil {
						return nil, err
					}
					errs = append(errs, e...)
					continue
				default:
					continue
				}
				e, err := evaluate(sub, obj[name], at+"."+name)
				if err != nil {
					return nil, err
				}
				errs = append(errs, e...)
			}
		case "items", "additionalItems", "minItems":
			arr, ok := v.([]any)
			if !ok {
				continue
			}
			switch {
			case k == "minItems":
				if len(arr) < int(kw.(float64)) {
					fail("%d items, fewer than %v", len(arr), kw)
				}
				continue
			case k == "additionalItems":
				tuple, isTuple := s["items"].([]any)
				if !isTuple {
					continue
				}
				for i := len(tuple); i < len(arr); i++ {
					e, err := evaluate(kw, arr[i], fmt.Sprintf("%s[%d]", at, i))
					if err != nil {
						return nil, err
					}
					errs = append(errs, e...)
				}
				continue
			}
			for i, item := range arr {
				sub := kw
				if tuple, isTuple := kw.([]any); isTuple {
					if i >= len(tuple) {
						break
					}
					sub = tuple[i]
				}
				e, err := evaluate(sub, item, fmt.Sprintf("%s[%d]", at, i))
				if err != nil {
					return nil, err
				}
				errs = append(errs, e...)
			}
		case "allOf":
			for i, sub := range kw.([]any) {
				e, err := evaluate(sub, v, fmt.Sprintf("%s(allOf %d)", at, i))
				if err != nil {
					return nil, err
				}
				errs = append(errs, e...)
			}
		case "not":
			e, err := evaluate(kw, v, at)
			if err != nil {
				return nil, err
			}
			if len(e) == 0 {
				fail("%v matches a schema it must not match", v)
			}
		case "if":
			e, err := evaluate(kw, v, at)
			if err != nil {
				return nil, err
			}
			branch := "then"
			if len(e) > 0 {
				branch = "else"
			}
			if sub, ok := s[branch]; ok {
				e, err := evaluate(sub, v, at)
				if err != nil {
					return nil, err
				}
				errs = append(errs, e...)
			}
		case "then", "else":
			if _, ok := s["if"]; !ok {
				return nil, fmt.Errorf("%s: %s without if", at, k)
			}
		default:
			return nil, fmt.Errorf("%s: keyword %q is not one this evaluator knows; teach it before the generator emits it", at, k)
		}
	}
	return errs, nil
}

func hasType(v any, t string) bool {
	switch t {
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := number(v)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "null":
		return v == nil
	}
	panic("unknown type " + t)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func equal(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

func contains(list []any, v any) bool {
	for _, it := range list {
		if equal(it, v) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// errorsText joins evaluation errors for a test message.
func errorsText(errs []string) string { return strings.Join(errs, "; ") }
