package grant_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/grant"
)

var (
	prod = grant.Policy{Name: "prod", File: "policies/prod.hcl", Pos: grant.Pos{Line: 4, Column: 1},
		Paths: []string{"access/prod/**"}, Templates: []string{"postgres-role"}, MaxDuration: 4 * time.Hour, Approvals: 1,
		Ticket:     regexp.MustCompile(`^[A-Z]+-[0-9]+$`),
		BreakGlass: grant.BreakGlass{Allowed: true, MaxDuration: time.Hour, ReviewWindow: 24 * time.Hour}}
	staging = grant.Policy{Name: "staging", File: "policies/staging.hcl", Pos: grant.Pos{Line: 2, Column: 1},
		Paths: []string{"access/staging/**"}, Templates: []string{"postgres-role"}, MaxDuration: 24 * time.Hour, Approvals: 1}
	// audit adds requirements to every prod grant without naming templates.
	audit = grant.Policy{Name: "audit", File: "policies/audit.hcl", Pos: grant.Pos{Line: 1, Column: 1},
		Paths: []string{"access/prod/**"}, MaxDuration: 2 * time.Hour, Approvals: 2, Approvers: []string{"@acme/sre"},
		BreakGlass: grant.BreakGlass{Allowed: true, MaxDuration: 30 * time.Minute, ReviewWindow: 4 * time.Hour}}
	// ssh allows its template only under access/ssh.
	ssh = grant.Policy{Name: "ssh", File: "policies/ssh.hcl", Pos: grant.Pos{Line: 1, Column: 1},
		Paths: []string{"access/ssh/**"}, Templates: []string{"ssh-cert"}, MaxDuration: time.Hour, Approvals: 1}
)

func req(file, template string, d time.Duration, ticket string, breakGlass bool) grant.Request {
	return grant.Request{File: file, Template: template, Duration: d, Ticket: ticket, BreakGlass: breakGlass,
		Pos: map[string]grant.Pos{"template": {Line: 1, Column: 11}, "duration": {Line: 3, Column: 11}, "ticket": {Line: 5, Column: 9}, "break_glass": {Line: 6, Column: 14}}}
}

func TestCheckPolicies(t *testing.T) {
	all := []grant.Policy{staging, prod, ssh}
	tests := map[string]struct {
		policies []grant.Policy
		req      grant.Request
		want     grant.Requirements
		problems []string // "line:col: substring"
	}{
		"prod within limits": {all, req("access/prod/db/a.yaml", "postgres-role", 2*time.Hour, "INC-1", false),
			grant.Requirements{Policies: []string{"prod"}, MaxDuration: 4 * time.Hour, Approvals: 1}, nil},
		"default deny": {all, req("access/other/a.yaml", "postgres-role", time.Hour, "", false),
			grant.Requirements{}, []string{"1:1: no policy covers access/other/a.yaml"}},
		"duration over max": {all, req("access/prod/a.yaml", "postgres-role", 5*time.Hour, "INC-1", false),
			grant.Requirements{Policies: []string{"prod"}, MaxDuration: 4 * time.Hour, Approvals: 1},
			[]string{"3:11: duration 5h exceeds the max_duration of 4h set by policy prod (policies/prod.hcl:4)"}},
		"ticket missing": {all, req("access/prod/a.yaml", "postgres-role", time.Hour, "", false),
			grant.Requirements{Policies: []string{"prod"}, MaxDuration: 4 * time.Hour, Approvals: 1},
			[]string{"1:1: policy prod (policies/prod.hcl:4) requires a ticket matching ^[A-Z]+-[0-9]+$"}},
		"ticket wrong": {all, req("access/prod/a.yaml", "postgres-role", time.Hour, "inc-12", false),
			grant.Requirements{Policies: []string{"prod"}, MaxDuration: 4 * time.Hour, Approvals: 1},
			[]string{`5:9: ticket "inc-12" does not match ^[A-Z]+-[0-9]+$`}},
		"ticket must match whole": {[]grant.Policy{{Name: "x", Paths: []string{"access/**"}, Templates: []string{"t"}, MaxDuration: time.Hour, Approvals: 1, Ticket: regexp.MustCompile(`[A-Z]+-[0-9]+`)}},
			req("access/a.yaml", "t", time.Hour, "see INC-1 too", false),
			grant.Requirements{Policies: []string{"x"}, MaxDuration: time.Hour, Approvals: 1}, []string{`5:9: ticket "see INC-1 too" does not match`}},
		"template of another path": {all, req("access/staging/a.yaml", "ssh-cert", time.Hour, "", false),
			grant.Requirements{Policies: []string{"staging"}, MaxDuration: 24 * time.Hour, Approvals: 1},
			[]string{"1:11: template ssh-cert is not allowed by policy staging", "1:11: template ssh-cert may not be used under access/staging/a.yaml"}},
		"strictest wins": {[]grant.Policy{prod, audit}, req("access/prod/a.yaml", "postgres-role", 3*time.Hour, "INC-1", false),
			grant.Requirements{Policies: []string{"audit", "prod"}, MaxDuration: 2 * time.Hour, Approvals: 2, ApproverSets: [][]string{{"@acme/sre"}}},
			[]string{"3:11: duration 3h exceeds the max_duration of 2h set by policy audit (policies/audit.hcl:1)"}},
		"template-less policy alone names nothing": {[]grant.Policy{audit}, req("access/prod/a.yaml", "postgres-role", time.Hour, "", false),
			grant.Requirements{Policies: []string{"audit"}, MaxDuration: 2 * time.Hour, Approvals: 2, ApproverSets: [][]string{{"@acme/sre"}}},
			[]string{"1:11: template postgres-role may not be used under access/prod/a.yaml: no policy covering this path names it"}},
		"break glass within limit": {[]grant.Policy{prod, audit}, req("access/prod/a.yaml", "postgres-role", 30*time.Minute, "INC-1", true),
			grant.Requirements{Policies: []string{"audit", "prod"}, MaxDuration: 30 * time.Minute, Approvals: 0, ApproverSets: [][]string{{"@acme/sre"}}, ReviewWindow: 4 * time.Hour}, nil},
		"break glass over its limit": {all, req("access/prod/a.yaml", "postgres-role", 2*time.Hour, "INC-1", true),
			grant.Requirements{Policies: []string{"prod"}, MaxDuration: time.Hour, ReviewWindow: 24 * time.Hour},
			[]string{"3:11: duration 2h exceeds the break_glass max_duration of 1h set by policy prod"}},
		"break glass not allowed": {all, req("access/staging/a.yaml", "postgres-role", 30*time.Minute, "", true),
			grant.Requirements{Policies: []string{"staging"}, MaxDuration: 0, ReviewWindow: 0},
			[]string{"6:14: policy staging (policies/staging.hcl:2) does not allow break-glass access", "3:11: duration 30m exceeds the break_glass max_duration of 0m"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, problems := grant.CheckPolicies(tc.req, tc.policies)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Requirements mismatch (-want +got):\n%s", diff)
			}
			if len(problems) != len(tc.problems) {
				t.Fatalf("got %d problems, want %d: %v", len(problems), len(tc.problems), problems)
			}
			for _, want := range tc.problems {
				found := false
				for _, p := range problems {
					s := strings.TrimPrefix(p.String(), tc.req.File+":")
					found = found || (strings.HasPrefix(s, want[:strings.Index(want, ": ")]) && strings.Contains(s, want[strings.Index(want, ": ")+2:]))
				}
				if !found {
					t.Errorf("missing problem %q in %v", want, problems)
				}
			}
		})
	}
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"access/prod/**", "access/prod/a.yaml", true},
		{"access/prod/**", "access/prod/db/x/a.yaml", true},
		{"access/prod/**", "access/production/a.yaml", false},
		{"access/prod/**", "access/staging/prod/a.yaml", false},
		{"access/*/db/*.yaml", "access/prod/db/a.yaml", true},
		{"access/*/db/*.yaml", "access/prod/x/db/a.yaml", false},
		{"access/**/db/*.yaml", "access/prod/x/db/a.yaml", true},
		{"access/**/db/*.yaml", "access/db/a.yaml", true},
		{"access/p?od/**", "access/prod/a.yaml", true},
		{"access/**/**/a.yaml", "access/a.yaml", true},
		{"access/[pq]rod/**", "access/prod/a.yaml", true},
		{"access/[/**", "access/[/a.yaml", false},
		{"access/prod", "access/prod/a.yaml", false},
	}
	for _, tc := range tests {
		if got := grant.MatchGlob(tc.pattern, tc.name); got != tc.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
	for _, bad := range []string{"", "/access/**", "access/", "access//x", "access/../x", "access/a**/x", "access/[x"} {
		if grant.ValidGlob(bad) {
			t.Errorf("ValidGlob(%q) = true, want false", bad)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := map[string]time.Duration{"1m": time.Minute, "2h": 2 * time.Hour, "1h30m": 90 * time.Minute, "90m": 90 * time.Minute, "8784h": 366 * 24 * time.Hour}
	for in, want := range tests {
		got, err := grant.ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "h", "2", "-1h", "1d", "1.5h", "2H", " 2h", "1m1h", "0m", "99999h"} {
		if _, err := grant.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded, want an error", bad)
		}
	}
	for in, want := range map[string]string{
		"3600": `duration "3600" has no unit; units are required: write hours or minutes such as 2h, 90m or 1h30m`,
		"2 h":  `duration "2 h" is not a duration; write hours and minutes such as 2h, 90m or 1h30m`,
		"0m":   `duration "0m" is zero; ask for at least 1m`,
	} {
		if _, err := grant.ParseDuration(in); err == nil || err.Error() != want {
			t.Errorf("ParseDuration(%q) error = %v, want %q", in, err, want)
		}
	}
	for d, want := range map[time.Duration]string{time.Hour: "1h", 90 * time.Minute: "1h30m", 45 * time.Minute: "45m"} {
		if got := grant.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
