package explain

import (
	"strings"
	"testing"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
)

func TestStatus(t *testing.T) {
	draft := pull()
	draft.Draft, draft.BaseRef = true, "release"
	tests := map[string]struct {
		pr       PullRequest
		problems []grant.Problem
		grants   []change.Summary
		ev       grant.Evidence
		decide   bool
		want     string
	}{
		"pending": {
			pr: pull(), grants: []change.Summary{alices()}, ev: evidence(review("bob", grant.ReviewApproved, older, 1)), decide: true,
			want: `Pull request #12 by alice: head 1111111, base main
https://github.com/acme/access/pull/12

jit/validate: success: 1 grant valid: prod/db/alice-inc-1234 (postgres-role, 2h)
  Every grant file is valid. The jit comment on the pull request describes each grant for approvers; the jit/approval check says whether it may merge.
    Grant                   Change   Template       Duration  Requester
    prod/db/alice-inc-1234  request  postgres-role  2h        alice

jit/approval: pending: Waiting for 1 approval
  Evaluated on the head commit 1111111.
  Reviews:
    Reviewer  State     Commit                          Counted  Why
    bob       approved  2222222 (stale: an older head)  no       Stale: approved 2222222, head is now 1111111.
  Why it cannot merge yet:
    - 0 of 1 approval from eligible reviewers
  Who may approve:
  Code owners are those of the default branch's CODEOWNERS, teams through their members:
    - prod/db/alice-inc-1234: a code owner of access/prod/db/alice-inc-1234.yaml, one of @acme/dba
  An approval counts only from a reviewer who:
    - is a code owner of every grant file that needs approval, and matches each policy approvers list above,
    - is not a requester of a grant in this pull request (alice) nor its author (alice),
    - authored, committed or co-authored no commit of this pull request,
    - has write, maintain or admin access to the repository.
  An approval counts only on the current head: a push voids it, so approve again after each push. Only each reviewer's latest review counts, and changes requested by an eligible reviewer block the merge.
`,
		},
		"invalid, with the zero decision": {
			pr: draft, grants: []change.Summary{alices()},
			problems: []grant.Problem{{File: file, Line: 4, Column: 11, Message: "duration 5h exceeds the max_duration of 4h"}, {Message: "the pull request targets release, not main"}},
			want: `Pull request #12 by alice: head 1111111, base release (the default branch is main)
https://github.com/acme/access/pull/12
Draft: mark it ready to merge.

jit/validate: failure: 2 problems in access/prod/db/alice-inc-1234.yaml
  The pull request is not valid yet: fix each problem below and push again. Approvals are evaluated once it is valid.
    - the pull request targets release, not main
    - access/prod/db/alice-inc-1234.yaml:4:11: duration 5h exceeds the max_duration of 4h

jit/approval: not evaluated: fix the problems above first
`,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c := changeFor(tt.grants...)
			var d grant.Decision
			if tt.decide {
				d = grant.Decide(c, tt.ev, now)
			}
			if got := Status(tt.pr, tt.problems, tt.grants, c, d); got != tt.want {
				t.Errorf("Status =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestStatusStripsEscapes(t *testing.T) {
	pr := pull()
	pr.Author = "alice\x1b]0;owned\x07"
	hostile := edit(alices(), func(s *change.Summary) { s.ID, s.Requester = "prod/\x1b[2J\x1b[Hx", "al\u202eice" })
	c := changeFor(hostile)
	d := grant.Decide(c, evidence(review("bob\x1b[31m", grant.ReviewApproved, head, 1)), now)
	got := Status(pr, []grant.Problem{{File: "a\x1b[1Ab.yaml", Line: 1, Message: "bad\rvalue"}}, []change.Summary{hostile}, c, d)
	if strings.ContainsAny(got, "\x1b\x07\r\u202e\u009b") {
		t.Errorf("status carries a control character or escape: %q", got)
	}
	containsAll(t, "status", got, []string{"by alice:", "ab.yaml:1: bad value", "prod/x"})
}
