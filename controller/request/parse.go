package request

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/jitops/jit/controller/grant"
)

// MaxFileSize is the largest grant file accepted, in bytes.
const MaxFileSize = 64 << 10

// MaxScopeDepth bounds how deeply scope values may nest (lists in maps in
// lists...). Templates take flat values; the bound keeps hostile input cheap.
const MaxScopeDepth = 8

// MaxReasonLength bounds the reason, in characters.
const MaxReasonLength = 2000

var (
	templateName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	// GitHub logins: alphanumerics and single hyphens, no leading or trailing
	// hyphen, at most 39 characters.
	loginPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}$`)
	scopeKey     = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,63}$`)
)

// fields lists the top-level keys of a grant file and whether each is required.
var fields = []struct {
	name     string
	required bool
}{
	{"template", true},
	{"requester", true},
	{"duration", true},
	{"reason", true},
	{"ticket", false},
	{"target", false},
	{"break_glass", false},
	{"scope", false},
}

// Parse parses one grant file. file is its repository-relative path
// ("access/prod/db/alice-inc-1234.yaml"), which also gives the grant its ID.
// Either the Request is complete and the problems are empty, or the problems
// say everything found wrong.
func Parse(file string, data []byte) (grant.Request, []grant.Problem) {
	req, problems := ParseLenient(file, data)
	if len(problems) > 0 {
		return grant.Request{}, problems
	}
	return req, nil
}

// ParseLenient parses one grant file like Parse, for reporting every problem
// of a file at once. When the file decodes as one YAML mapping, the Request
// it returns holds every field that parsed cleanly and marks each missing or
// wrong field in its Invalid set, even when there are problems, so that the
// checks of templates and policies can run on the rest. When it does not
// decode, the Request is the zero value (its File is empty). A Request with
// problems must never be provisioned or approved: it only feeds reports.
func ParseLenient(file string, data []byte) (grant.Request, []grant.Problem) {
	p := parser{file: file, invalid: map[string]bool{}}
	req := p.parse(data)
	if len(p.problems) == 0 {
		req.Invalid = nil
		return req, nil
	}
	grant.SortProblems(p.problems)
	if req.File != "" {
		req.Invalid = p.invalid
	}
	return req, p.problems
}

type parser struct {
	file     string
	problems []grant.Problem
	// invalid collects the fields found missing or wrong.
	invalid map[string]bool
}

// bad reports a problem with field's value and marks the field invalid.
func (p *parser) bad(field string, pos grant.Pos, format string, args ...any) {
	p.invalid[field] = true
	p.add(pos, format, args...)
}

func (p *parser) add(pos grant.Pos, format string, args ...any) {
	p.problems = append(p.problems, grant.At(p.file, pos, format, args...))
}

func nodePos(n *yaml.Node) grant.Pos { return grant.Pos{Line: n.Line, Column: n.Column} }

func (p *parser) parse(data []byte) grant.Request {
	id, idProblem := IDFromPath(p.file)
	if idProblem != "" {
		p.add(grant.Pos{Line: 1, Column: 1}, "%s", idProblem)
	}
	if len(data) > MaxFileSize {
		p.add(grant.Pos{Line: 1, Column: 1}, "file is %d bytes; grant files may be at most %d bytes (64 KiB)", len(data), MaxFileSize)
		return grant.Request{}
	}
	if pos, bad := firstInvalidUTF8(data); bad {
		p.add(pos, "file is not valid UTF-8; save it as UTF-8 text")
		return grant.Request{}
	}
	if p.rejectHiddenText(data) {
		return grant.Request{}
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(grant.Pos{Line: 1, Column: 1}, "file is empty; a grant needs template, requester, duration and reason")
		} else {
			p.add(yamlErrorPos(err), "invalid YAML: %s", yamlErrorText(err))
		}
		return grant.Request{}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		pos := grant.Pos{Line: extra.Line, Column: extra.Column}
		if err != nil {
			pos = yamlErrorPos(err)
		}
		if pos.Line == 0 {
			pos = grant.Pos{Line: 1, Column: 1}
		}
		p.add(pos, "a grant file holds exactly one YAML document; remove the '---' separator and what follows")
		return grant.Request{}
	}
	if p.rejectAnchorsAndTags(&doc, 0) {
		return grant.Request{}
	}
	if p.rejectHiddenScalars(&doc) {
		return grant.Request{}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		p.add(nodePos(root), "a grant file must be a YAML mapping of fields (template, requester, duration, reason, ...)")
		return grant.Request{}
	}

	req := grant.Request{ID: id, File: p.file, Pos: map[string]grant.Pos{}}
	values := p.mapping(root, "")
	for name, kv := range values {
		req.Pos[name] = valuePos(kv)
	}
	for _, f := range fields {
		if _, ok := values[f.name]; !ok && f.required {
			p.bad(f.name, grant.Pos{Line: 1, Column: 1}, "missing required field %q", f.name)
		}
	}
	for name, kv := range values {
		known := false
		for _, f := range fields {
			known = known || f.name == name
		}
		if !known {
			p.add(nodePos(kv.key), "unknown field %q%s; allowed fields are template, requester, duration, reason, ticket, target, break_glass, scope", name, suggest(name))
		}
	}

	if kv, ok := values["template"]; ok {
		if s, ok := p.str(kv, "template"); ok {
			if templateName.MatchString(s) {
				req.Template = s
			} else {
				p.bad("template", nodePos(kv.value), "template %q is not a valid template name: lower-case letters, digits, '-' and '_', naming a directory under templates/", s)
			}
		}
	}
	if kv, ok := values["requester"]; ok {
		if s, ok := p.str(kv, "requester"); ok {
			if loginPattern.MatchString(s) {
				req.Requester = s
			} else {
				p.bad("requester", nodePos(kv.value), "requester %q is not a GitHub login: letters, digits and single hyphens, at most 39 characters", s)
			}
		}
	}
	if kv, ok := values["duration"]; ok {
		if s, ok := p.str(kv, "duration"); ok {
			d, err := grant.ParseDuration(s)
			if err != nil {
				p.bad("duration", nodePos(kv.value), "%v", err)
			}
			req.Duration = d
		}
	}
	if kv, ok := values["reason"]; ok {
		if s, ok := p.str(kv, "reason"); ok {
			switch {
			case strings.TrimSpace(s) == "":
				p.bad("reason", nodePos(kv.value), "reason is empty; say why you need the access")
			case utf8.RuneCountInString(s) > MaxReasonLength:
				p.bad("reason", nodePos(kv.value), "reason is %d characters; at most %d are allowed", utf8.RuneCountInString(s), MaxReasonLength)
			}
			req.Reason = s
		}
	}
	if kv, ok := values["ticket"]; ok {
		if s, ok := p.str(kv, "ticket"); ok {
			if strings.TrimSpace(s) == "" || len(s) > 100 || strings.ContainsAny(s, "\n\r") {
				p.bad("ticket", nodePos(kv.value), "ticket must be a single-line reference of at most 100 characters, such as INC-1234")
			} else {
				req.Ticket = s
			}
		}
	}
	if kv, ok := values["target"]; ok {
		if s, ok := p.str(kv, "target"); ok {
			if templateName.MatchString(s) {
				req.Target = s
			} else {
				p.bad("target", nodePos(kv.value), "target %q is not a valid target name: lower-case letters, digits, '-' and '_', as the policies covering the grant list it", s)
			}
		}
	}
	if kv, ok := values["break_glass"]; ok {
		if kv.value.Kind != yaml.ScalarNode || kv.value.ShortTag() != "!!bool" {
			p.bad("break_glass", nodePos(kv.value), "break_glass must be true or false")
		} else {
			req.BreakGlass = yamlTrue(kv.value)
		}
	}
	if kv, ok := values["scope"]; ok {
		if kv.value.Kind != yaml.MappingNode {
			p.bad("scope", nodePos(kv.value), "scope must be a mapping of the template's input names to values")
		} else {
			req.Scope = map[string]any{}
			for name, skv := range p.mapping(kv.value, "scope.") {
				req.Pos["scope."+name] = valuePos(skv)
				if !scopeKey.MatchString(name) {
					p.bad("scope."+name, nodePos(skv.key), "scope key %q is not a template input name: lower-case letters, digits and '_'", name)
					continue
				}
				if grant.IsReservedInput(name) {
					p.bad("scope."+name, nodePos(skv.key), "scope key %q is supplied by the controller and may not be set in a grant", name)
					continue
				}
				if v, ok := p.value(skv.value, 1); ok {
					req.Scope[name] = v
				} else {
					p.invalid["scope."+name] = true
				}
			}
		}
	}
	return req
}

type keyValue struct{ key, value *yaml.Node }

// valuePos is where a problem with a field's value should point: the value
// itself when it starts on the key's line, otherwise the key (a block
// mapping's or list's own position is its first entry, lines below).
func valuePos(kv keyValue) grant.Pos {
	if kv.value.Line == kv.key.Line {
		return nodePos(kv.value)
	}
	return nodePos(kv.key)
}

// mapping returns the entries of a mapping node, reporting duplicate and
// non-string keys.
func (p *parser) mapping(n *yaml.Node, prefix string) map[string]keyValue {
	out := make(map[string]keyValue, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			p.add(nodePos(k), "keys must be plain names; got %s", describe(k))
			continue
		}
		if prev, dup := out[k.Value]; dup {
			p.add(nodePos(k), "duplicate key %q (first at line %d); each field may appear once", prefix+k.Value, prev.key.Line)
			continue
		}
		out[k.Value] = keyValue{k, v}
	}
	return out
}

func (p *parser) str(kv keyValue, field string) (string, bool) {
	v := kv.value
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		hint := ""
		switch {
		case field == "duration" && (v.ShortTag() == "!!int" || v.ShortTag() == "!!float"):
			hint = "; durations need a unit: write hours or minutes such as duration: 1h or duration: 90m"
		case field == "duration" && v.Kind == yaml.ScalarNode:
			hint = "; write hours or minutes such as duration: 1h or duration: 90m"
		case v.Kind == yaml.ScalarNode:
			hint = fmt.Sprintf("; quote it: %s: %q", field, v.Value)
		}
		p.bad(field, nodePos(v), "%s must be a string, got %s%s", field, describe(v), hint)
		return "", false
	}
	return v.Value, true
}

// yamlTrue reports whether n, a node yaml.v3 resolved as !!bool (true,
// True, TRUE, false, False or FALSE), means true. Comparing with "true"
// alone would read True and TRUE as false.
func yamlTrue(n *yaml.Node) bool { return strings.EqualFold(n.Value, "true") }

// value converts a scope value node into plain Go values.
func (p *parser) value(n *yaml.Node, depth int) (any, bool) {
	if depth > MaxScopeDepth {
		p.add(nodePos(n), "scope value nests more than %d levels deep", MaxScopeDepth)
		return nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return n.Value, true
		case "!!bool":
			return yamlTrue(n), true
		case "!!int":
			i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
			if err != nil {
				p.add(nodePos(n), "number %s is out of range; quote it if it is meant as text", n.Value)
				return nil, false
			}
			return i, true
		case "!!float":
			f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				p.add(nodePos(n), "number %s is not a finite number; quote it if it is meant as text", n.Value)
				return nil, false
			}
			return f, true
		case "!!null":
			p.add(nodePos(n), "null is not a scope value; remove the key to use the template's default")
			return nil, false
		default:
			p.add(nodePos(n), "unsupported value %s", describe(n))
			return nil, false
		}
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for _, c := range n.Content {
			v, good := p.value(c, depth+1)
			ok = ok && good
			out = append(out, v)
		}
		return out, ok
	case yaml.MappingNode:
		out := map[string]any{}
		ok := true
		for name, kv := range p.mapping(n, "") {
			v, good := p.value(kv.value, depth+1)
			ok = ok && good
			out[name] = v
		}
		return out, ok
	}
	p.add(nodePos(n), "unsupported value %s", describe(n))
	return nil, false
}

// rejectAnchorsAndTags reports the first anchor, alias, merge key or explicit
// tag in the document; it returns true when it found one.
func (p *parser) rejectAnchorsAndTags(n *yaml.Node, depth int) bool {
	bad := false
	if depth > 64 {
		p.add(nodePos(n), "document nests more than 64 levels deep")
		return true
	}
	switch {
	case n.Kind == yaml.AliasNode:
		p.add(nodePos(n), "aliases (*%s) are not allowed in grant files; write the value out", n.Value)
		return true
	case n.Anchor != "":
		p.add(nodePos(n), "anchors (&%s) are not allowed in grant files", n.Anchor)
		bad = true
	case n.Kind == yaml.ScalarNode && n.Tag == "!!merge":
		p.add(nodePos(n), "merge keys (<<) are not allowed in grant files")
		bad = true
	case n.Style&yaml.TaggedStyle != 0:
		p.add(nodePos(n), "explicit tags (%s) are not allowed in grant files", n.Tag)
		bad = true
	}
	for _, c := range n.Content {
		if bad {
			break // one such problem per file is enough; a YAML bomb holds thousands
		}
		bad = p.rejectAnchorsAndTags(c, depth+1)
	}
	return bad
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	case "!!null":
		return "null"
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	}
	return fmt.Sprintf("a %s value", n.Tag)
}

func suggest(name string) string {
	best, bestDist := "", 3
	for _, f := range fields {
		if d := distance(name, f.name); d < bestDist {
			best, bestDist = f.name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein edit distance, for "did you mean" hints.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
