package validate_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/validate"
)

func TestTreeValid(t *testing.T) {
	r := validate.Tree(mapFS(tree(map[string]string{
		"access/prod/db/alice-inc-1234.yaml": prodGrant,
		"access/staging/bob-migration.yaml":  stagingGrant,
	})))
	if !r.Valid || len(r.Problems) != 0 {
		t.Fatalf("want valid, got %v", r.Problems)
	}
	want := []validate.Grant{
		{ID: "prod/db/alice-inc-1234", File: "access/prod/db/alice-inc-1234.yaml", Template: "pg", Requester: "alice", DurationSeconds: 7200,
			Reason: "Investigate stuck orders", Ticket: "INC-1234", Scope: map[string]any{"database": "orders"},
			Policies: []string{"prod"}, ApprovalsRequired: 1, EligibleApprovers: []string{"@acme/dba"}},
		{ID: "staging/bob-migration", File: "access/staging/bob-migration.yaml", Template: "pg", Requester: "bob", DurationSeconds: 8 * 3600,
			Reason: "Rehearse the migration", Scope: map[string]any{"database": "orders", "privileges": "write"},
			Policies: []string{"staging"}, ApprovalsRequired: 1, EligibleApprovers: []string{"@acme/dba", "@acme/developers"}},
	}
	if diff := cmp.Diff(want, r.Grants); diff != "" {
		t.Errorf("grants mismatch (-want +got):\n%s", diff)
	}
}

// TestTreeProblems has one case per way a tree can be invalid; each checks
// the problem's file, line and message.
func TestTreeProblems(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		want  string // "file:line:col: substring"
	}{
		"unknown template": {map[string]string{"access/prod/a.yaml": strings.Replace(prodGrant, "template: pg", "template: mysql", 1)},
			"access/prod/a.yaml:1:11: template mysql does not exist (no directory templates/mysql); available templates: pg"},
		"scope type": {map[string]string{"access/prod/a.yaml": strings.Replace(prodGrant, "database: orders", "database: 42", 1)},
			"access/prod/a.yaml:7:13: scope.database: must be a string, got the number 42"},
		"scope validation": {map[string]string{"access/prod/a.yaml": strings.Replace(prodGrant, "database: orders", "database: \"x'; DROP ROLE admin; --\"", 1)},
			"access/prod/a.yaml:7:13: scope.database: The database must be a lower-case PostgreSQL identifier."},
		"no policy": {map[string]string{"access/dev/a.yaml": prodGrant},
			"access/dev/a.yaml:1:1: no policy covers access/dev/a.yaml"},
		"over max duration": {map[string]string{"access/prod/a.yaml": strings.Replace(prodGrant, "2h", "5h", 1)},
			"access/prod/a.yaml:3:11: duration 5h exceeds the max_duration of 4h set by policy prod (policies/prod.hcl:1)"},
		"owner-less line un-owns": {map[string]string{"access/staging/unowned/a.yaml": stagingGrant},
			"access/staging/unowned/a.yaml:1:1: nobody is eligible to approve access/staging/unowned/a.yaml: .github/CODEOWNERS:4 has no owners for it"},
		"no rule matches": {map[string]string{"access/unowned/a.yaml": stagingGrant},
			"access/unowned/a.yaml:1:1: nobody is eligible to approve access/unowned/a.yaml: no rule matches it in .github/CODEOWNERS"},
		"no CODEOWNERS": {map[string]string{".github/CODEOWNERS": "", "access/prod/a.yaml": prodGrant},
			"access/prod/a.yaml:1:1: no CODEOWNERS file (looked for .github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS)"},
		"CODEOWNERS error fails closed (grant)": {map[string]string{".github/CODEOWNERS": "/access/ @acme/dba\n/x/ not-an-owner\n", "access/prod/a.yaml": prodGrant},
			"access/prod/a.yaml:1:1: nobody is eligible to approve while .github/CODEOWNERS has errors (first at .github/CODEOWNERS:2)"},
		"CODEOWNERS error fails closed (line)": {map[string]string{".github/CODEOWNERS": "/access/ @acme/dba\n/x/ not-an-owner\n", "access/prod/a.yaml": prodGrant},
			".github/CODEOWNERS:2:5: "},
		"CODEOWNERS over 3 MB": {map[string]string{".github/CODEOWNERS": "/access/ @acme/dba\n" + strings.Repeat("#", 3<<20), "access/prod/a.yaml": prodGrant},
			"access/prod/a.yaml:1:1: nobody is eligible to approve while .github/CODEOWNERS has errors"},
		"root CODEOWNERS used when .github has none": {map[string]string{".github/CODEOWNERS": "", "CODEOWNERS": "/access/prod/ \n", "access/prod/a.yaml": prodGrant},
			"access/prod/a.yaml:1:1: nobody is eligible to approve access/prod/a.yaml: CODEOWNERS:1 has no owners for it"},
		"broken policy": {map[string]string{"policies/prod.hcl": "policy \"prod\" {\n  paths = 1\n}\n", "access/prod/a.yaml": prodGrant},
			"policies/prod.hcl:2:11: paths must be a list of strings"},
		"broken policy denies": {map[string]string{"policies/prod.hcl": "policy \"prod\" {\n  paths = 1\n}\n", "access/prod/a.yaml": prodGrant},
			"access/prod/a.yaml:1:1: no policy covers access/prod/a.yaml"},
		"policy names missing template": {map[string]string{"policies/x.hcl": "policy \"x\" {\n  paths = [\"access/x/**\"]\n  templates = [\"nope\"]\n  max_duration = \"1h\"\n  approvals = 1\n}\n"},
			"policies/x.hcl:1:1: policy x allows template nope, but there is no directory templates/nope"},
		"broken template": {map[string]string{"templates/pg/main.tf": "resource {", "access/prod/a.yaml": prodGrant},
			"templates/pg/main.tf:1:10: "},
		"broken template fails grant": {map[string]string{"templates/pg/main.tf": "resource {", "access/prod/a.yaml": prodGrant},
			"access/prod/a.yaml:1:11: template pg has errors"},
		"parse error": {map[string]string{"access/prod/a.yaml": prodGrant + "extra: 1\n"},
			`access/prod/a.yaml:8:1: unknown field "extra"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := validate.Tree(mapFS(tree(tc.files)))
			if r.Valid {
				t.Fatalf("want invalid, got valid with grants %+v", r.Grants)
			}
			wantProblem(t, r, tc.want)
		})
	}
}

// wantProblem checks that r has a problem at want's "file:line:col" whose
// message contains the rest of want.
func wantProblem(t *testing.T, r validate.Report, want string) {
	t.Helper()
	i := strings.Index(want, ": ")
	for _, p := range r.Problems {
		s := p.String()
		if strings.HasPrefix(s, want[:i]+":") && strings.Contains(s, want[i+2:]) {
			return
		}
	}
	t.Errorf("want a problem %q, got:\n%s", want, problemLines(r))
}

func problemLines(r validate.Report) string {
	var b strings.Builder
	for _, p := range r.Problems {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

// TestTreeReportsEveryProblemAtOnce is the regression test for a grant whose
// problems took several rounds to see: once its YAML decodes, field, duration,
// template, scope, policy and ticket problems all come in one run, each at
// its line and column, and no problem is a consequence of another.
func TestTreeReportsEveryProblemAtOnce(t *testing.T) {
	const file = `template: pg
requester: "not a login"
duration: 3600
reason: ""
ticket: nope
colour: blue
scope:
  database: 42
  extra: x
`
	r := validate.Tree(mapFS(tree(map[string]string{"access/prod/a.yaml": file})))
	want := []string{
		`access/prod/a.yaml:2:12: requester "not a login" is not a GitHub login: letters, digits and single hyphens, at most 39 characters`,
		`access/prod/a.yaml:3:11: duration must be a string, got the number 3600; durations need a unit: write hours or minutes such as duration: 1h or duration: 90m`,
		`access/prod/a.yaml:4:9: reason is empty; say why you need the access`,
		`access/prod/a.yaml:5:9: ticket "nope" does not match ^[A-Z]+-[0-9]+$ required by policy prod (policies/prod.hcl:1)`,
		`access/prod/a.yaml:6:1: unknown field "colour"; allowed fields are template, requester, duration, reason, ticket, target, break_glass, scope`,
		`access/prod/a.yaml:8:13: scope.database: must be a string, got the number 42`,
		`access/prod/a.yaml:9:10: template pg has no input "extra"; its inputs are: database, privileges`,
	}
	if diff := cmp.Diff(want, problemStrings(r)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if len(r.Grants) != 0 {
		t.Errorf("a grant file with problems is listed among the grants: %+v", r.Grants)
	}
}

// TestTreeUnknownTemplateOnce: an unknown template is one problem, at
// template:, listing the templates that exist (not also two policy problems
// saying the same).
func TestTreeUnknownTemplateOnce(t *testing.T) {
	for name, tc := range map[string]struct {
		files map[string]string
		want  []string
	}{
		"templates exist": {map[string]string{"access/prod/a.yaml": strings.Replace(prodGrant, "template: pg", "template: mysql", 1)},
			[]string{"access/prod/a.yaml:1:11: template mysql does not exist (no directory templates/mysql); available templates: pg"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := validate.Tree(mapFS(tree(tc.files)))
			if diff := cmp.Diff(tc.want, problemStrings(r)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func problemStrings(r validate.Report) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.String())
	}
	return out
}
