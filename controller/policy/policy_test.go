package policy_test

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/policy"
)

func TestLoadShippedPolicies(t *testing.T) {
	ps, problems := policy.Load(os.DirFS("../.."))
	if len(problems) > 0 {
		t.Fatalf("policies/ has problems: %v", problems)
	}
	if len(ps) != 2 || ps[0].Name != "prod" || ps[1].Name != "staging" {
		t.Fatalf("policies = %+v, want prod and staging", ps)
	}
	prod := ps[0]
	if prod.MaxDuration != 4*time.Hour || prod.Approvals != 1 || prod.Ticket == nil || prod.Ticket.String() != "^[A-Z]+-[0-9]+$" ||
		!prod.BreakGlass.Allowed || prod.BreakGlass.MaxDuration != time.Hour || prod.BreakGlass.ReviewWindow != 24*time.Hour ||
		prod.File != "policies/prod.hcl" || prod.Pos.Line != 4 {
		t.Errorf("prod policy = %+v", prod)
	}
	staging := ps[1]
	if staging.MaxDuration != 24*time.Hour || staging.Ticket != nil || staging.BreakGlass.Allowed || strings.Join(staging.Paths, ",") != "access/staging/**" {
		t.Errorf("staging policy = %+v", staging)
	}
}

const good = `policy "p" {
  paths        = ["access/p/**"]
  templates    = ["postgres-role"]
  max_duration = "4h"
  approvals    = 2
}
`

func TestParseRejects(t *testing.T) {
	tests := map[string]struct {
		src       string
		line, col int
		msg       string
	}{
		"syntax error":          {"policy \"p\" {\n  paths = [\n}\n", 3, 1, "Invalid expression"},
		"unknown attribute":     {strings.Replace(good, "approvals", "aprovals", 1), 5, 3, `Unsupported argument`},
		"missing paths":         {strings.Replace(good, `  paths        = ["access/p/**"]`+"\n", "", 1), 1, 12, `Missing required argument: The argument "paths" is required`},
		"unknown block":         {good + "team \"x\" {}\n", 7, 1, "Unsupported block type"},
		"bad name":              {strings.Replace(good, `"p"`, `"Prod X"`, 1), 1, 8, `policy name "Prod X" must be lower-case`},
		"path outside access":   {strings.Replace(good, "access/p/**", "policies/**", 1), 2, 18, `path glob "policies/**" must be a relative glob under access/`},
		"absolute path":         {strings.Replace(good, "access/p/**", "/access/p/**", 1), 2, 18, "must be a relative glob"},
		"bad glob":              {strings.Replace(good, "access/p/**", "access/[p/**", 1), 2, 18, "must be a relative glob"},
		"paths not list":        {strings.Replace(good, `["access/p/**"]`, `"access/p/**"`, 1), 2, 18, "paths must be a list of strings"},
		"empty paths":           {strings.Replace(good, `["access/p/**"]`, `[]`, 1), 2, 18, "paths is empty"},
		"bad duration":          {strings.Replace(good, `"4h"`, `"4 hours"`, 1), 4, 18, `max_duration: duration "4 hours" is not a duration`},
		"duration not string":   {strings.Replace(good, `"4h"`, `4`, 1), 4, 18, "max_duration must be a string"},
		"zero approvals":        {strings.Replace(good, "= 2", "= 0", 1), 5, 18, "approvals must be a whole number from 1 to 10, got 0"},
		"fractional approvals":  {strings.Replace(good, "= 2", "= 1.5", 1), 5, 18, "got 1.5"},
		"approvals string":      {strings.Replace(good, "= 2", `= "2"`, 1), 5, 18, "approvals must be a whole number"},
		"variables not allowed": {strings.Replace(good, "= 2", "= var.x", 1), 5, 18, "Variables not allowed"},
		"bad ticket regexp":     {strings.Replace(good, "}\n", "  ticket = \"[A-\"\n}\n", 1), 6, 12, "ticket pattern does not compile"},
		"bad approver":          {strings.Replace(good, "}\n", "  approvers = [\"acme/dba\"]\n}\n", 1), 6, 15, `approver "acme/dba" must be @user or @org/team`},
		"break glass too long":  {strings.Replace(good, "}\n", "  break_glass {\n    allowed = true\n    max_duration = \"5h\"\n  }\n}\n", 1), 8, 20, "break_glass max_duration 5h exceeds the policy's max_duration 4h"},
		"break glass no max":    {strings.Replace(good, "}\n", "  break_glass {\n    allowed = true\n  }\n}\n", 1), 6, 3, "needs max_duration"},
		"break glass twice":     {strings.Replace(good, "}\n", "  break_glass {\n    allowed = false\n  }\n  break_glass {\n    allowed = false\n  }\n}\n", 1), 9, 3, "break_glass may appear once"},
		"break glass allowed 1": {strings.Replace(good, "}\n", "  break_glass {\n    allowed = 1\n  }\n}\n", 1), 7, 15, "allowed must be true or false"},
		"bad template name":     {strings.Replace(good, "postgres-role", "../x", 1), 3, 18, `template name "../x" must be a directory name`},
		"no label":              {"policy {\n}\n", 1, 8, "Missing name for policy"},
		"targets not a list":    {strings.Replace(good, "}\n", "  targets = \"prod\"\n}\n", 1), 6, 13, "targets must be a list of strings"},
		"targets empty":         {strings.Replace(good, "}\n", "  targets = []\n}\n", 1), 6, 13, "targets is empty"},
		"bad target name":       {strings.Replace(good, "}\n", "  targets = [\"Prod DB\"]\n}\n", 1), 6, 13, `target name "Prod DB" must be lower-case`},
		"target twice":          {strings.Replace(good, "}\n", "  targets = [\"a\", \"a\"]\n}\n", 1), 6, 13, `target "a" is listed twice`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ps, problems := policy.Parse("policies/p.hcl", []byte(tc.src))
			if len(ps) != 0 {
				t.Errorf("a policy with problems was returned: %+v", ps)
			}
			for _, p := range problems {
				if p.File == "policies/p.hcl" && p.Line == tc.line && p.Column == tc.col && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Errorf("want problem at %d:%d containing %q, got %v", tc.line, tc.col, tc.msg, problems)
		})
	}
}

func TestParseTargets(t *testing.T) {
	ps, problems := policy.Parse("policies/p.hcl", []byte(strings.Replace(good, "}\n", "  targets = [\"prod-orders\", \"prod-billing\"]\n}\n", 1)))
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	if got := strings.Join(ps[0].Targets, ","); got != "prod-orders,prod-billing" {
		t.Errorf("Targets = %q, want prod-orders,prod-billing", got)
	}
	ps, _ = policy.Parse("policies/p.hcl", []byte(good))
	if ps[0].Targets != nil {
		t.Errorf("a policy without targets has Targets %v, want none", ps[0].Targets)
	}
}

func TestLoadDuplicateNamesAndIgnoredFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"policies/a.hcl":     {Data: []byte(good)},
		"policies/b.hcl":     {Data: []byte("# same name\n" + good)},
		"policies/README.md": {Data: []byte("not a policy")},
	}
	_, problems := policy.Load(fsys)
	if len(problems) != 1 || problems[0].File != "policies/b.hcl" || problems[0].Line != 2 ||
		!strings.Contains(problems[0].Message, `policy "p" is defined twice (also at policies/a.hcl:1)`) {
		t.Errorf("problems = %v", problems)
	}
}

func TestLoadWithoutPolicies(t *testing.T) {
	ps, problems := policy.Load(fstest.MapFS{})
	if ps != nil || problems != nil {
		t.Errorf("Load without policies/ = %v, %v", ps, problems)
	}
}

// FuzzParse checks that no policy file crashes the decoder and that every
// accepted policy is usable: it has paths, a positive duration and approvals.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	src, _ := os.ReadFile("../../policies/prod.hcl")
	f.Add(src)
	f.Add([]byte("policy \"x\" { paths = [1] }"))
	f.Add([]byte(strings.Replace(good, "}\n", "  targets = [\"prod-orders\"]\n}\n", 1)))
	f.Add([]byte("policy \"x\" {\n break_glass {\n allowed = true\n }\n}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, problems := policy.Parse("policies/f.hcl", data)
		for _, p := range ps {
			if len(p.Paths) == 0 || p.MaxDuration <= 0 || p.Approvals < 1 || p.Approvals > 10 || p.Name == "" {
				t.Fatalf("accepted an unusable policy %+v", p)
			}
			for _, tg := range p.Targets {
				if tg == "" || strings.ContainsAny(tg, " /.") {
					t.Fatalf("accepted target name %q", tg)
				}
			}
			for _, g := range p.Paths {
				if !grant.ValidGlob(g) {
					t.Fatalf("accepted invalid glob %q", g)
				}
			}
		}
		for _, p := range problems {
			if p.Message == "" || p.Line < 0 {
				t.Fatalf("bad problem %+v", p)
			}
		}
	})
}
