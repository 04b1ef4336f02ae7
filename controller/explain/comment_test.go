package explain

import (
	"strings"
	"testing"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
)

func TestComment(t *testing.T) {
	leads := edit(alices(), func(s *change.Summary) { s.PolicyApprovers = [][]string{{"@acme/dba-leads", "@carol"}} })
	tests := map[string]struct {
		grants   []change.Summary
		problems []grant.Problem
		want     []string // in the rendered text
		not      []string
	}{
		"a request": {
			grants: []change.Summary{leads},
			want: []string{
				"### Request: `prod/db/alice-inc-1234`",
				"- **Who asks:** `alice` (file `access/prod/db/alice-inc-1234.yaml`)",
				"- **How long:** 2h, counted from the merge",
				"- **Why:** Investigate stuck orders (ticket INC-1234)",
				"- **Change:** request",
				"- **Policies:** `prod`",
				"- **Approvals required:** 1",
				"| template | `postgres-role` |",
				"| scope `database` | `orders` |",
				"- `prod/db/alice-inc-1234`: a code owner of `access/prod/db/alice-inc-1234.yaml`, one of `@acme/dba`; and also one of `@acme/dba-leads`, `@carol`",
				"- is not a requester of a grant in this pull request (`alice`) nor its author (`alice`),",
				"- authored, committed or co-authored no commit of this pull request,",
				"- has write, maintain or admin access to the repository.",
				"An approval counts only on the current head: a push voids it",
			},
			not: []string{"not valid yet"},
		},
		"an extension": {
			grants: []change.Summary{edit(alices(), func(s *change.Summary) { s.Change, s.DurationSeconds = "extended", 5400 })},
			want:   []string{"### Extension: `prod/db/alice-inc-1234`", "- **How long:** 1h30m, counted from the merge", "- **Change:** extension"},
		},
		"a shortening needs approval too": {
			grants: []change.Summary{edit(alices(), func(s *change.Summary) { s.Change = "shortened"; s.ApprovalsRequired = 0 })},
			want:   []string{"### Shortening: `prod/db/alice-inc-1234`", "- **Approvals required:** 1"},
		},
		"own early revocation": {
			grants: []change.Summary{edit(ginas(), func(s *change.Summary) { s.Requester = "alice" })},
			want: []string{"### Early revocation: `prod/db/gina-7`", "- **How long:** access ends when this pull request merges (the grant was for 1h)",
				"- **Approvals required:** none: `alice` deletes their own grant"},
		},
		"someone else's early revocation": {
			grants: []change.Summary{ginas()},
			want:   []string{"- **Approvals required:** none when the author is a code owner of the file with write access; otherwise 1"},
		},
		"break-glass": {
			grants: []change.Summary{breakGlass()},
			want:   []string{"- **Change:** request, break-glass", "- **Approvals required:** none before the merge (break-glass); an eligible review is due after it"},
		},
		"no policy, no owner, no ticket, no reason": {
			grants: []change.Summary{edit(alices(), func(s *change.Summary) { s.Policies, s.EligibleApprovers, s.Ticket, s.Reason = nil, nil, "", "" })},
			want: []string{"- **Policies:** none: no policy covers it (default deny)", "- **Why:** no reason given",
				"- `prod/db/alice-inc-1234`: nobody, CODEOWNERS names no owner of `access/prod/db/alice-inc-1234.yaml`"},
		},
		"scope values of every type": {
			grants: []change.Summary{edit(alices(), func(s *change.Summary) {
				s.Scope = map[string]any{"port": 5432, "hosts": []any{"a", "b"}, "ro": true}
			})},
			want: []string{"| scope `hosts` | `[\"a\",\"b\"]` |\n| scope `port` | `5432` |\n| scope `ro` | `true` |"},
		},
		"problems": {
			grants:   []change.Summary{alices()},
			problems: []grant.Problem{{File: file, Line: 4, Column: 11, Message: "too long"}, {Message: "x"}},
			want:     []string{"**This pull request is not valid yet:** 2 problems; the jit/validate check lists each one at its line."},
		},
		"problems and no grants": {
			problems: []grant.Problem{{File: file, Message: "not YAML"}},
			want:     []string{"**This pull request is not valid yet:** 1 problem;"},
			not:      []string{"Who may approve", "changes no grant file"},
		},
		"nothing": {
			want: []string{"This pull request changes no grant file, so there is nothing to approve here."},
			not:  []string{"Who may approve"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := Comment(pull(), tt.grants, tt.problems)
			if !strings.HasPrefix(got, CommentMarker+"\n") {
				t.Errorf("comment does not start with the marker:\n%s", got)
			}
			containsAll(t, "comment", unmd(got), tt.want)
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("comment has %q:\n%s", n, got)
				}
			}
		})
	}
}

// TestCommentIgnoresReviews: the comment is a function of the pull
// request's author and grants only, so it is not rewritten on each review
// or push.
func TestCommentIgnoresReviews(t *testing.T) {
	a, b := pull(), pull()
	b.HeadSHA, b.Draft, b.URL = older, true, "https://example.test/other"
	if x, y := Comment(a, []change.Summary{alices()}, nil), Comment(b, []change.Summary{alices()}, nil); x != y {
		t.Errorf("the comment changed with the head or draft state:\n%s\n---\n%s", x, y)
	}
}

func TestCommentEscapes(t *testing.T) {
	hostile := edit(alices(), func(s *change.Summary) {
		s.Reason = "urgent\n\n<script>alert(1)</script> cc @acme/security [login](https://evil.test) | x"
		s.Ticket = "`INC`"
		s.Requester = "mallory`|<b>"
		s.Scope = map[string]any{"db|x": "orders\n| a | b |", "`k`": "@bob"}
	})
	got := Comment(pull(), []change.Summary{hostile}, nil)
	for _, bad := range []string{"<script", "<b>", " @acme/security", "](https", "\n| a | b |", "`INC`"} {
		if strings.Contains(got, bad) {
			t.Errorf("comment carries %q unescaped:\n%s", bad, got)
		}
	}
	containsAll(t, "comment", got, []string{"| scope \\`k\\` | `@bob` |", "| scope db\\|x | orders \\| a \\| b \\| |"})
	containsAll(t, "comment", unmd(got), []string{"urgent  <script>alert(1)</script> cc @acme/security [login](https://evil.test) | x"})
}

func TestCommentIsCutToFit(t *testing.T) {
	var many []change.Summary
	for range 400 {
		many = append(many, edit(alices(), func(s *change.Summary) { s.Reason = strings.Repeat("why ", 200) }))
	}
	got := Comment(pull(), many, nil)
	if len(got) > MaxOutput || !strings.HasPrefix(got, CommentMarker) || !strings.HasSuffix(got, "run `jit status --pr 12` for all of it.*") {
		t.Errorf("comment of %d bytes is not cut to %d with the note; it ends %q", len(got), MaxOutput, got[max(0, len(got)-120):])
	}
}
