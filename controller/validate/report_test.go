package validate_test

import (
	"strings"
	"testing"

	"github.com/jitops/jit/controller/validate"
)

// TestReportSummary checks the line `jit validate` prints when all is well,
// with singular and plural counts.
func TestReportSummary(t *testing.T) {
	a, b, c := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	tests := map[string]struct {
		rep   validate.Report
		where string
		want  string
	}{
		"tree": {validate.Report{Checked: validate.Checked{GrantFiles: 2, Policies: 2, Templates: 1}}, "/repo",
			"2 grant files checked against 2 policies and 1 template in /repo"},
		"tree of one": {validate.Report{Checked: validate.Checked{GrantFiles: 1, Policies: 1, Templates: 3}}, ".",
			"1 grant file checked against 1 policy and 3 templates in ."},
		"change adding one": {validate.Report{Grants: []validate.Grant{{Change: "added"}},
			Checked: validate.Checked{GrantFiles: 1, Policies: 2, Templates: 1, MergeBase: a, Head: b, DefaultTip: c}}, "main",
			"change aaaaaaaaaaaa..bbbbbbbbbbbb adds 1 grant, judged by 2 policies and 1 template at main cccccccccccc"},
		"change of several kinds": {validate.Report{Grants: []validate.Grant{{Change: "added"}, {Change: "added"}, {Change: "extended"}, {Change: "deleted"}},
			Checked: validate.Checked{GrantFiles: 4, Policies: 1, Templates: 1, MergeBase: a, Head: b, DefaultTip: c}}, "main",
			"change aaaaaaaaaaaa..bbbbbbbbbbbb adds 2 grants, extends 1 grant, deletes 1 grant, judged by 1 policy and 1 template at main cccccccccccc"},
		"change of governing files": {validate.Report{Checked: validate.Checked{Policies: 2, Templates: 1, MergeBase: a, Head: b, DefaultTip: c}}, "main",
			"change aaaaaaaaaaaa..bbbbbbbbbbbb changes no grant; its governing files (2 policies and 1 template) are valid"},
		"change of neither": {validate.Report{Checked: validate.Checked{MergeBase: a, Head: b, DefaultTip: c}}, "main",
			"change aaaaaaaaaaaa..bbbbbbbbbbbb changes no grant and no governing file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.rep.Summary(tc.where); got != tc.want {
				t.Errorf("Summary:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
