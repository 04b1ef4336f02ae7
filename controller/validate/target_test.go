package validate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jitops/jit/controller/history"
	"github.com/jitops/jit/controller/internal/gittest"
)

// TestChangeTarget checks that a pull request's grant is judged for its
// target by the default branch's policies, and that a disallowed or
// ambiguous target is reported at the grant's target: line (or its top).
func TestChangeTarget(t *testing.T) {
	withTargets := func(list string) string {
		return strings.Replace(governing["policies/prod.hcl"], "  approvals    = 1\n", "  approvals    = 1\n  targets      = ["+list+"]\n", 1)
	}
	tests := map[string]struct {
		policy string
		grant  string
		want   string // "" for valid
	}{
		"named and allowed":    {withTargets(`"prod-orders"`), prodGrant + "target: prod-orders\n", ""},
		"omitted, one allowed": {withTargets(`"prod-orders"`), prodGrant, ""},
		"named, not allowed": {withTargets(`"prod-orders"`), prodGrant + "target: staging\n",
			"access/prod/a.yaml:8:9: target staging is not allowed by policy prod (policies/prod.hcl:1), which covers this path and allows only prod-orders"},
		"omitted, two allowed": {withTargets(`"prod-orders", "prod-billing"`), prodGrant,
			"access/prod/a.yaml:1:1: the policies covering this path (prod at policies/prod.hcl:1) allow targets prod-billing, prod-orders; add target: naming one of them"},
		"named where no policy declares targets": {governing["policies/prod.hcl"], prodGrant + "target: prod-orders\n",
			"access/prod/a.yaml:8:9: target prod-orders is not allowed: no policy covering access/prod/a.yaml declares targets"},
		"the pull request's own policy is not what judges it": {governing["policies/prod.hcl"], "",
			"policies/prod.hcl:0:0: a pull request that changes access/ may not change governing files"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := gittest.New(t)
			g.Commit("main", "admin", "governance", t0, tree(map[string]string{"policies/prod.hcl": tc.policy}))
			files := map[string]string{"access/prod/a.yaml": tc.grant}
			if tc.grant == "" {
				// The pull request tries to allow its own target.
				files = map[string]string{"access/prod/a.yaml": prodGrant + "target: mine\n", "policies/prod.hcl": withTargets(`"mine"`)}
			}
			g.Commit("pr", "alice", "request", t0.Add(time.Hour), files, g.Head("main"))
			h, err := history.Open(g.Dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { h.Close() })
			r := change(t, h, "alice")
			if tc.want == "" {
				if !r.Valid {
					t.Fatalf("want valid, got:\n%s", problemLines(r))
				}
				return
			}
			if r.Valid {
				t.Fatalf("want invalid, got valid with grants %+v", r.Grants)
			}
			wantProblem(t, r, tc.want)
		})
	}
}
