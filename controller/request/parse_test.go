package request_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/request"
)

const file = "access/prod/db/alice-inc-1234.yaml"

const valid = `# a comment
template: postgres-role
requester: alice
duration: 2h
reason: Investigate stuck orders
ticket: INC-1234
scope:
  database: orders
  privileges: read
`

func TestParseValid(t *testing.T) {
	got, problems := request.Parse(file, []byte(valid))
	if len(problems) > 0 {
		t.Fatalf("unexpected problems: %v", problems)
	}
	want := grant.Request{
		ID: "prod/db/alice-inc-1234", File: file, Template: "postgres-role", Requester: "alice",
		Duration: 2 * time.Hour, Reason: "Investigate stuck orders", Ticket: "INC-1234",
		Scope: map[string]any{"database": "orders", "privileges": "read"},
	}
	if diff := cmp.Diff(want, got, cmpIgnorePos()); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
	if p := got.Position("scope.database"); p != (grant.Pos{Line: 8, Column: 13}) {
		t.Errorf("Position(scope.database) = %v, want 8:13", p)
	}
	if p := got.Position("duration"); p != (grant.Pos{Line: 4, Column: 11}) {
		t.Errorf("Position(duration) = %v, want 4:11", p)
	}
}

func cmpIgnorePos() cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Pos" }, cmp.Ignore())
}

func TestParseScopeValueTypes(t *testing.T) {
	src := "template: t\nrequester: bob\nduration: 90m\nreason: r\nbreak_glass: true\nscope:\n  n: 5\n  f: 1.5\n  b: false\n  l: [a, b]\n  m: {k: v}\n  hex: 0x10\n  big: 1e400\n"
	got, problems := request.Parse("access/x.yaml", []byte(src))
	if len(problems) > 0 {
		t.Fatalf("unexpected problems: %v", problems)
	}
	want := map[string]any{"n": int64(5), "f": 1.5, "b": false, "l": []any{"a", "b"}, "m": map[string]any{"k": "v"}, "hex": int64(16),
		// yaml.v3 resolves numbers it cannot represent as strings.
		"big": "1e400"}
	if diff := cmp.Diff(want, got.Scope); diff != "" {
		t.Errorf("scope mismatch (-want +got):\n%s", diff)
	}
	if !got.BreakGlass || got.Duration != 90*time.Minute {
		t.Errorf("BreakGlass=%v Duration=%v, want true 90m", got.BreakGlass, got.Duration)
	}
}

// TestParseBoolSpellings: YAML's other spellings of true and false mean
// what they say (True and TRUE were once read as false).
func TestParseBoolSpellings(t *testing.T) {
	for _, tc := range []struct {
		spelling string
		want     bool
	}{{"true", true}, {"True", true}, {"TRUE", true}, {"false", false}, {"False", false}, {"FALSE", false}} {
		src := "template: t\nrequester: bob\nduration: 1h\nreason: r\nbreak_glass: " + tc.spelling + "\nscope:\n  b: " + tc.spelling + "\n"
		got, problems := request.Parse("access/x.yaml", []byte(src))
		if len(problems) > 0 {
			t.Fatalf("%s: unexpected problems: %v", tc.spelling, problems)
		}
		if got.BreakGlass != tc.want || got.Scope["b"] != tc.want {
			t.Errorf("%s: break_glass=%v scope.b=%v, want %v", tc.spelling, got.BreakGlass, got.Scope["b"], tc.want)
		}
	}
}

// TestParseRejects holds one case per rejected input; each checks the
// problem's line, column and message.
func TestParseRejects(t *testing.T) {
	base := "template: postgres-role\nrequester: alice\nduration: 2h\nreason: r\n"
	tests := map[string]struct {
		file string
		src  string
		line int
		col  int
		msg  string
	}{
		"unknown field":        {file, base + "reasn: typo\n", 5, 1, `unknown field "reasn" (did you mean "reason"?)`},
		"duplicate key":        {file, base + "requester: mallory\n", 5, 1, `duplicate key "requester" (first at line 2)`},
		"duplicate scope key":  {file, base + "scope:\n  database: a\n  database: b\n", 7, 3, `duplicate key "scope.database" (first at line 6)`},
		"anchor":               {file, base + "scope:\n  database: &x orders\n", 6, 13, "anchors (&x) are not allowed"},
		"alias":                {file, "template: &t postgres-role\nrequester: *t\nduration: 2h\nreason: r\n", 1, 11, "anchors (&t) are not allowed"},
		"merge key":            {file, base + "scope:\n  <<: {database: a}\n", 6, 3, "merge keys (<<) are not allowed"},
		"explicit tag":         {file, base + "ticket: !!binary aGVsbG8=\n", 5, 9, "explicit tags (!!binary) are not allowed"},
		"custom tag":           {file, base + "ticket: !env HOME\n", 5, 9, "explicit tags (!env) are not allowed"},
		"two documents":        {file, base + "---\ntemplate: x\n", 5, 1, "exactly one YAML document"},
		"not a mapping":        {file, "- a\n- b\n", 1, 1, "must be a YAML mapping"},
		"empty file":           {file, "", 1, 1, "file is empty"},
		"missing requester":    {file, "template: postgres-role\nduration: 2h\nreason: r\n", 1, 1, `missing required field "requester"`},
		"requester not string": {file, "template: postgres-role\nrequester: 123\nduration: 2h\nreason: r\n", 2, 12, `requester must be a string, got the number 123; quote it: requester: "123"`},
		"requester not login":  {file, "template: postgres-role\nrequester: al ice\nduration: 2h\nreason: r\n", 2, 12, `requester "al ice" is not a GitHub login`},
		"bad duration":         {file, "template: postgres-role\nrequester: alice\nduration: 2 days\nreason: r\n", 3, 11, `duration "2 days" is not a duration`},
		"seconds duration":     {file, "template: postgres-role\nrequester: alice\nduration: 30s\nreason: r\n", 3, 11, `duration "30s" is not a duration`},
		// The hint for a number must lead to a valid duration, and a quoted
		// number must say that the unit is what is missing.
		"number duration": {file, "template: postgres-role\nrequester: alice\nduration: 3600\nreason: r\n", 3, 11,
			"duration must be a string, got the number 3600; durations need a unit: write hours or minutes such as duration: 1h or duration: 90m"},
		"quoted number duration": {file, "template: postgres-role\nrequester: alice\nduration: \"3600\"\nreason: r\n", 3, 11,
			`duration "3600" has no unit; units are required: write hours or minutes such as 2h, 90m or 1h30m`},
		"boolean duration": {file, "template: postgres-role\nrequester: alice\nduration: true\nreason: r\n", 3, 11,
			"duration must be a string, got the boolean true; write hours or minutes such as duration: 1h or duration: 90m"},
		"zero duration":        {file, "template: postgres-role\nrequester: alice\nduration: 0h\nreason: r\n", 3, 11, `duration "0h" is zero`},
		"empty reason":         {file, "template: postgres-role\nrequester: alice\nduration: 2h\nreason: \"  \"\n", 4, 9, "reason is empty"},
		"bad template name":    {file, "template: ../etc\nrequester: alice\nduration: 2h\nreason: r\n", 1, 11, `template "../etc" is not a valid template name`},
		"break_glass not bool": {file, base + "break_glass: yes\n", 5, 14, "break_glass must be true or false"},
		"scope not mapping":    {file, base + "scope: [a]\n", 5, 8, "scope must be a mapping"},
		"scope reserved":       {file, base + "scope:\n  grant_id: x\n", 6, 3, `scope key "grant_id" is supplied by the controller`},
		"scope bad key":        {file, base + "scope:\n  Data-Base: x\n", 6, 3, `scope key "Data-Base" is not a template input name`},
		"scope null":           {file, base + "scope:\n  database: ~\n", 6, 13, "null is not a scope value"},
		"scope too deep":       {file, base + "scope:\n  a: [[[[[[[[[1]]]]]]]]]\n", 6, 14, "nests more than 8 levels"},
		// yaml.v3 reports parser errors at the line where the construct began
		// (here the flow mapping's context, one line up), without a column.
		"invalid yaml":           {file, base + "scope: {a: [}\n", 4, 0, "invalid YAML"},
		"tab indentation":        {file, "template: postgres-role\n\trequester: alice\n", 2, 0, "invalid YAML"},
		"not utf-8":              {file, base + "ticket: \xff\xfe\n", 5, 9, "not valid UTF-8"},
		"NUL byte":               {file, base + "ticket: a\x00b\n", 5, 10, "control character U+0000"},
		"too large":              {file, base + "reason2: " + strings.Repeat("x", 70000) + "\n", 1, 1, "grant files may be at most 65536 bytes"},
		"yml extension":          {"access/prod/a.yml", base, 1, 1, "end in .yaml, not .yml"},
		"outside access":         {"prod/a.yaml", base, 1, 1, "grant files live under access/"},
		"dotdot in path":         {"access/prod/../a.yaml", base, 1, 1, `path segment ".." is not allowed`},
		"space in path":          {"access/prod/my grant.yaml", base, 1, 1, `path segment "my grant" is not allowed`},
		"upper case in path":     {"access/prod/Alice.yaml", base, 1, 1, `path segment "Alice" is not allowed`},
		"reason too long":        {file, "template: postgres-role\nrequester: alice\nduration: 2h\nreason: " + strings.Repeat("é", 2001) + "\n", 4, 9, "reason is 2001 characters"},
		"ticket multi-line":      {file, base + "ticket: |\n  a\n  b\n", 5, 9, "ticket must be a single-line reference"},
		"non-string key":         {file, base + "1: x\n", 5, 1, "keys must be plain names; got the number 1"},
		"duration over a year":   {file, "template: postgres-role\nrequester: alice\nduration: 9000h\nreason: r\n", 3, 11, "longer than a year"},
		"document is a scalar":   {file, "hello\n", 1, 1, "must be a YAML mapping"},
		"target not a name":      {file, base + "target: Prod Orders\n", 5, 9, `target "Prod Orders" is not a valid target name`},
		"target not a string":    {file, base + "target: [prod]\n", 5, 9, "target must be a string, got a list"},
		"target misspelt":        {file, base + "targt: prod\n", 5, 1, `unknown field "targt" (did you mean "target"?)`},
		"billion laughs refused": {file, "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", 1, 4, "anchors (&a) are not allowed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, problems := request.Parse(tc.file, []byte(tc.src))
			if got.ID != "" || got.File != "" {
				t.Errorf("a rejected file must yield no request, got %+v", got)
			}
			for _, p := range problems {
				if p.Line == tc.line && p.Column == tc.col && strings.Contains(p.Message, tc.msg) && p.File == tc.file {
					return
				}
			}
			t.Errorf("want a problem %s:%d:%d containing %q; got %v", tc.file, tc.line, tc.col, tc.msg, problems)
		})
	}
}

func TestParseTarget(t *testing.T) {
	src := "template: postgres-role\nrequester: alice\nduration: 2h\nreason: r\ntarget: prod-orders\n"
	got, problems := request.Parse(file, []byte(src))
	if len(problems) > 0 {
		t.Fatalf("unexpected problems: %v", problems)
	}
	if got.Target != "prod-orders" || got.Position("target") != (grant.Pos{Line: 5, Column: 9}) {
		t.Errorf("Target = %q at %v, want prod-orders at 5:9", got.Target, got.Position("target"))
	}
}

func TestParseCollectsEveryProblem(t *testing.T) {
	src := "template: Bad!\nrequester: 42\nduration: forever\nreason: ''\nextra: 1\n"
	_, problems := request.Parse(file, []byte(src))
	if len(problems) != 5 {
		t.Fatalf("want 5 problems (one per bad field), got %d: %v", len(problems), problems)
	}
	for i := 1; i < len(problems); i++ {
		if problems[i-1].Line > problems[i].Line {
			t.Errorf("problems not sorted by line: %v", problems)
		}
	}
}

// TestParseLenient: what parsed cleanly is kept and every missing or wrong
// field is marked, so that later checks neither miss the rest nor repeat
// the parser's problems; a file that does not decode yields nothing.
func TestParseLenient(t *testing.T) {
	src := "template: postgres-role\nrequester: 42\nduration: \"3600\"\nticket: INC-1\nscope:\n  database: orders\n  grant_id: x\n  size: ~\n"
	got, problems := request.ParseLenient(file, []byte(src))
	if len(problems) != 5 {
		t.Errorf("want 5 problems (requester, duration, reason, grant_id, size), got %v", problems)
	}
	want := grant.Request{ID: "prod/db/alice-inc-1234", File: file, Template: "postgres-role", Ticket: "INC-1",
		Scope:   map[string]any{"database": "orders"},
		Invalid: map[string]bool{"requester": true, "duration": true, "reason": true, "scope.grant_id": true, "scope.size": true}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(grant.Request{}, "Pos")); diff != "" {
		t.Errorf("ParseLenient (-want +got):\n%s", diff)
	}
	if strict, _ := request.Parse(file, []byte(src)); strict.File != "" {
		t.Errorf("Parse returned a partial request: %+v", strict)
	}
	if none, ps := request.ParseLenient(file, []byte("scope: {a: [}\n")); none.File != "" || none.Invalid != nil || len(ps) != 1 {
		t.Errorf("a file that does not decode: got %+v, %v", none, ps)
	}
	if ok, ps := request.ParseLenient(file, []byte(valid)); len(ps) != 0 || ok.Invalid != nil || ok.File != file {
		t.Errorf("a valid file: got %+v, %v", ok, ps)
	}
}

func TestIDFromPath(t *testing.T) {
	good := map[string]string{
		"access/prod/db/alice-inc-1234.yaml": "prod/db/alice-inc-1234",
		"access/a.yaml":                      "a",
		"access/team_1/x.y-z.yaml":           "team_1/x.y-z",
	}
	for in, want := range good {
		if got, msg := request.IDFromPath(in); got != want || msg != "" {
			t.Errorf("IDFromPath(%q) = %q, %q; want %q", in, got, msg, want)
		}
	}
	for _, bad := range []string{"access/.yaml", "access//a.yaml", "access/.hidden.yaml", "access/a..b.yaml", "access/a.yaml.txt", "access/-a.yaml", "access/a/.yaml", "access/" + strings.Repeat("a", 201) + ".yaml", "access/a./b.yaml"} {
		if _, msg := request.IDFromPath(bad); msg == "" {
			t.Errorf("IDFromPath(%q) accepted, want a problem", bad)
		}
	}
}
