package grant_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/grant"
)

func TestResolveTarget(t *testing.T) {
	pol := func(name string, line int, paths []string, targets ...string) grant.Policy {
		return grant.Policy{Name: name, File: "policies/" + name + ".hcl", Pos: grant.Pos{Line: line, Column: 1},
			Paths: paths, Templates: []string{"postgres-role"}, MaxDuration: time.Hour, Approvals: 1, Targets: targets}
	}
	prodDB := pol("prod", 3, []string{"access/prod/**"}, "prod-orders", "prod-billing")
	orders := pol("orders", 7, []string{"access/prod/orders/**"}, "prod-orders")
	staging := pol("staging", 1, []string{"access/staging/**"}, "staging")
	legacy := pol("legacy", 1, []string{"access/legacy/**"})
	audit := pol("audit", 2, []string{"access/**"}) // declares no targets: restricts nothing
	billing := pol("billing", 9, []string{"access/prod/orders/**"}, "prod-billing")
	all := []grant.Policy{prodDB, orders, staging, legacy, audit}
	at := grant.Pos{Line: 6, Column: 9}
	mk := func(file, target string) grant.Request {
		r := grant.Request{File: file, Target: target, Pos: map[string]grant.Pos{}}
		if target != "" {
			r.Pos["target"] = at
		}
		return r
	}
	tests := map[string]struct {
		policies []grant.Policy
		req      grant.Request
		want     string
		problems []grant.Problem
	}{
		"named and allowed":                                    {all, mk("access/prod/db/a.yaml", "prod-billing"), "prod-billing", nil},
		"omitted, one allowed":                                 {all, mk("access/staging/a.yaml", ""), "staging", nil},
		"omitted, intersection of two policies is one":         {all, mk("access/prod/orders/a.yaml", ""), "prod-orders", nil},
		"no policy declares targets: controller's environment": {all, mk("access/legacy/a.yaml", ""), "", nil},
		"named where no policy declares targets": {all, mk("access/legacy/a.yaml", "staging"), "", []grant.Problem{
			{File: "access/legacy/a.yaml", Line: 6, Column: 9, Message: "target staging is not allowed: no policy covering access/legacy/a.yaml declares targets, so its grants use the controller's own connection settings; remove target:"}}},
		"named, another path's target": {all, mk("access/staging/a.yaml", "prod-orders"), "", []grant.Problem{
			{File: "access/staging/a.yaml", Line: 6, Column: 9, Message: "target prod-orders is not allowed by policy staging (policies/staging.hcl:1), which covers this path and allows only staging"}}},
		"named, allowed by one policy but not another": {all, mk("access/prod/orders/a.yaml", "prod-billing"), "", []grant.Problem{
			{File: "access/prod/orders/a.yaml", Line: 6, Column: 9, Message: "target prod-billing is not allowed by policy orders (policies/orders.hcl:7), which covers this path and allows only prod-orders"}}},
		"omitted, several allowed": {all, mk("access/prod/db/a.yaml", ""), "", []grant.Problem{
			{File: "access/prod/db/a.yaml", Line: 1, Column: 1, Message: "the policies covering this path (prod at policies/prod.hcl:3) allow targets prod-billing, prod-orders; add target: naming one of them"}}},
		"omitted, none in common": {[]grant.Policy{orders, billing}, mk("access/prod/orders/a.yaml", ""), "", []grant.Problem{
			{File: "access/prod/orders/a.yaml", Line: 1, Column: 1, Message: "no target is allowed by every policy covering this path (billing at policies/billing.hcl:9, orders at policies/orders.hcl:7); ask for policies that share a target"}}},
		"no matching policy": {all, mk("access/other/a.yaml", "staging"), "", []grant.Problem{
			{File: "access/other/a.yaml", Line: 6, Column: 9, Message: "target staging is not allowed: no policy covering access/other/a.yaml declares targets, so its grants use the controller's own connection settings; remove target:"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, problems := grant.ResolveTarget(tc.req, tc.policies)
			if got != tc.want {
				t.Errorf("target = %q, want %q", got, tc.want)
			}
			if diff := cmp.Diff(tc.problems, problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckPoliciesTarget checks that CheckPolicies resolves the target
// and reports a disallowed one with the other policy problems.
func TestCheckPoliciesTarget(t *testing.T) {
	p := grant.Policy{Name: "prod", File: "policies/prod.hcl", Pos: grant.Pos{Line: 1, Column: 1}, Paths: []string{"access/prod/**"},
		Templates: []string{"postgres-role"}, MaxDuration: time.Hour, Approvals: 1, Targets: []string{"prod-orders"}}
	r := grant.Request{File: "access/prod/a.yaml", Template: "postgres-role", Duration: time.Hour, Pos: map[string]grant.Pos{"target": {Line: 2, Column: 9}}}
	reqs, problems := grant.CheckPolicies(r, []grant.Policy{p})
	if reqs.Target != "prod-orders" || len(problems) != 0 {
		t.Fatalf("CheckPolicies = target %q, problems %v; want prod-orders and none", reqs.Target, problems)
	}
	r.Target = "staging"
	reqs, problems = grant.CheckPolicies(r, []grant.Policy{p})
	want := []grant.Problem{{File: "access/prod/a.yaml", Line: 2, Column: 9, Message: "target staging is not allowed by policy prod (policies/prod.hcl:1), which covers this path and allows only prod-orders"}}
	if diff := cmp.Diff(want, problems); diff != "" || reqs.Target != "" {
		t.Errorf("target %q, problems (-want +got):\n%s", reqs.Target, diff)
	}
}
