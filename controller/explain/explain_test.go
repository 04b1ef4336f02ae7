package explain

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
)

const (
	head  = "1111111111111111111111111111111111111111"
	older = "2222222222222222222222222222222222222222"
	c1    = "3333333333333333333333333333333333333333"
	c2    = "4444444444444444444444444444444444444444"
	file  = "access/prod/db/alice-inc-1234.yaml"
	id    = "prod/db/alice-inc-1234"
)

// now is the fixed evaluation time; nothing in the texts depends on it.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func pull() PullRequest {
	return PullRequest{Number: 12, Author: "alice", URL: "https://github.com/acme/access/pull/12", HeadSHA: head, BaseRef: "main", DefaultBranch: "main"}
}

// alices is alice's 2h request for the orders database, under policy prod
// (1 approval, approvers @acme/dba-leads), owned by @acme/dba.
func alices() change.Summary {
	return change.Summary{ID: id, File: file, Template: "postgres-role", Requester: "alice", DurationSeconds: 7200,
		Reason: "Investigate stuck orders", Ticket: "INC-1234", Scope: map[string]any{"database": "orders"}, Change: "added",
		Policies: []string{"prod"}, ApprovalsRequired: 1, EligibleApprovers: []string{"@acme/dba"}}
}

// changeFor is the grant.Change matching summaries.
func changeFor(sums ...change.Summary) grant.Change {
	var c grant.Change
	for _, s := range sums {
		c.Grants = append(c.Grants, grant.GrantChange{ID: s.ID, File: s.File, Kind: grant.ChangeKind(s.Change), Requester: s.Requester, BreakGlass: s.BreakGlass,
			Requirements: grant.Requirements{Policies: s.Policies, Approvals: s.ApprovalsRequired, ApproverSets: s.PolicyApprovers, ReviewWindow: time.Hour},
			Owners:       s.EligibleApprovers})
	}
	return c
}

func edit(s change.Summary, f func(*change.Summary)) change.Summary {
	f(&s)
	return s
}

// evidence is alice's pull request at head: one commit of hers in the web
// editor; @acme/dba is bob, dave and frank (read-only); @acme/dba-leads is
// dave.
func evidence(reviews ...grant.Review) grant.Evidence {
	return grant.Evidence{Author: "alice", BaseSHA: older, HeadSHA: head,
		Commits: []grant.Commit{{SHA: c1, Author: "alice", Committer: "web-flow"}},
		Reviews: reviews,
		Teams:   map[string][]string{"@acme/dba": {"bob", "dave", "frank"}, "@acme/dba-leads": {"dave"}},
		Permissions: map[string]grant.Permission{"alice": grant.PermissionWrite, "bob": grant.PermissionWrite, "carol": grant.PermissionWrite,
			"dave": grant.PermissionAdmin, "frank": grant.PermissionRead, "mallory": grant.PermissionWrite},
	}
}

func review(login string, state grant.ReviewState, sha string, minute int) grant.Review {
	return grant.Review{ID: int64(minute), Reviewer: login, State: state, CommitSHA: sha, SubmittedAt: now.Add(time.Duration(minute-60) * time.Minute)}
}

func approve(login string, minute int) grant.Review {
	return review(login, grant.ReviewApproved, head, minute)
}

// header is the part of a Check the tables compare exactly.
type header struct{ Status, Conclusion, Title string }

func headerOf(c Check) header { return header{c.Status, c.Conclusion, c.Title} }

// containsAll fails for each want not in the rendered (unescaped) text.
func containsAll(t *testing.T, what, got string, want []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q; it is:\n%s", what, w, got)
		}
	}
}

func TestValidate(t *testing.T) {
	ext := edit(alices(), func(s *change.Summary) { s.Change = "extended"; s.DurationSeconds = 3 * 3600 })
	tests := map[string]struct {
		problems []grant.Problem
		grants   []change.Summary
		want     header
		summary  []string
		notes    []Annotation
		raw      bool // summary holds Markdown, not the rendered text
	}{
		"one valid grant": {
			grants:  []change.Summary{alices()},
			want:    header{"completed", "success", "1 grant valid: prod/db/alice-inc-1234 (postgres-role, 2h)"},
			summary: []string{"| `prod/db/alice-inc-1234` | request | `postgres-role` | 2h | `alice` |"},
		},
		"an extension says so": {
			grants: []change.Summary{ext},
			want:   header{"completed", "success", "1 grant valid: prod/db/alice-inc-1234 (postgres-role, 3h, extension)"},
		},
		"many grants are cut after three": {
			grants: []change.Summary{alices(), alices(), alices(), alices(), alices()},
			want: header{"completed", "success", "5 grants valid: prod/db/alice-inc-1234 (postgres-role, 2h), prod/db/alice-inc-1234 (postgres-role, 2h), " +
				"prod/db/alice-inc-1234 (postgres-role, 2h), and 2 more"},
		},
		"no grant files": {
			want:    header{"completed", "success", "No grant files changed"},
			summary: []string{"changes no grant file under access/"},
		},
		"problems": {
			problems: []grant.Problem{
				{File: file, Line: 4, Column: 11, Message: "duration 5h exceeds the max_duration of 4h set by policy prod (policies/prod.hcl:4)"},
				{File: file, Message: "a pull request that changes access/ may not also change policies/prod.hcl"},
				{File: "policies/prod.hcl", Line: 2, Message: "unknown block"},
			},
			grants: []change.Summary{alices()},
			want:   header{"completed", "failure", "3 problems in 2 files"},
			summary: []string{
				"- access/prod/db/alice-inc-1234.yaml: a pull request that changes access/ may not also change policies/prod.hcl",
				"- access/prod/db/alice-inc-1234.yaml:4:11: duration 5h exceeds the max_duration of 4h set by policy prod (policies/prod.hcl:4)",
				"- policies/prod.hcl:2: unknown block",
			},
			notes: []Annotation{
				{Path: file, StartLine: 1, EndLine: 1, Level: "failure", Title: "jit/validate: " + file,
					Message: "a pull request that changes access/ may not also change policies/prod.hcl"},
				{Path: file, StartLine: 4, EndLine: 4, StartColumn: 11, EndColumn: 11, Level: "failure", Title: "jit/validate: " + file + ":4:11",
					Message: "duration 5h exceeds the max_duration of 4h set by policy prod (policies/prod.hcl:4)"},
				{Path: "policies/prod.hcl", StartLine: 2, EndLine: 2, Level: "failure", Title: "jit/validate: policies/prod.hcl:2", Message: "unknown block"},
			},
		},
		"a problem without a file is in the summary only": {
			problems: []grant.Problem{{Message: "the pull request targets release, not the default branch main"}},
			want:     header{"completed", "failure", "1 problem"},
			summary:  []string{"- the pull request targets release, not the default branch main"},
		},
		"one file": {
			problems: []grant.Problem{{File: file, Line: 1, Column: 1, Message: "unknown field owner"}},
			want:     header{"completed", "failure", "1 problem in access/prod/db/alice-inc-1234.yaml"},
			notes: []Annotation{{Path: file, StartLine: 1, EndLine: 1, StartColumn: 1, EndColumn: 1, Level: "failure",
				Title: "jit/validate: " + file + ":1:1", Message: "unknown field owner"}},
		},
		"hostile message": {
			problems: []grant.Problem{{File: file, Line: 2, Column: 9, Message: "unknown template \"<img src=x>@bob\x1b[2J\""}},
			want:     header{"completed", "failure", "1 problem in access/prod/db/alice-inc-1234.yaml"},
			summary:  []string{`unknown template "&lt;img src\=x&gt;@&#8203;bob`},
			raw:      true,
			notes: []Annotation{{Path: file, StartLine: 2, EndLine: 2, StartColumn: 9, EndColumn: 9, Level: "failure",
				Title: "jit/validate: " + file + ":2:9", Message: `unknown template "<img src=x>@bob"`}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c := Validate(pull(), tt.problems, tt.grants)
			if c.Name != ValidateName {
				t.Errorf("name %q, want %q", c.Name, ValidateName)
			}
			if diff := cmp.Diff(tt.want, headerOf(c)); diff != "" {
				t.Errorf("check (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.notes, c.Annotations); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
			got := c.Summary
			if !tt.raw {
				got = unmd(got)
			}
			containsAll(t, "summary", got, tt.summary)
		})
	}
}
