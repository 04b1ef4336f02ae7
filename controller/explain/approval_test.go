package explain

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
)

// ginas is gina's live 1h grant, owned by @acme/dba, being deleted.
func ginas() change.Summary {
	return edit(alices(), func(s *change.Summary) {
		s.ID, s.File, s.Requester, s.Change, s.DurationSeconds = "prod/db/gina-7", "access/prod/db/gina-7.yaml", "gina", "deleted", 3600
	})
}

// breakGlass is alice's break-glass request: no approval before the merge.
func breakGlass() change.Summary {
	return edit(alices(), func(s *change.Summary) { s.BreakGlass, s.ApprovalsRequired = true, 0 })
}

func TestApproval(t *testing.T) {
	twoNeeded := edit(alices(), func(s *change.Summary) { s.ApprovalsRequired = 2 })
	draft := pull()
	draft.Draft = true
	byBob := pull()
	byBob.Author = "bob"
	withAuthor := func(ev grant.Evidence, login string) grant.Evidence { ev.Author = login; return ev }
	tests := map[string]struct {
		pr      PullRequest
		grants  []change.Summary
		change  grant.Change // built from grants when empty
		ev      grant.Evidence
		zero    bool // the zero Decision instead of Decide's
		want    header
		summary []string
	}{
		"approved through a team": {
			grants: []change.Summary{alices()}, ev: evidence(approve("bob", 1)),
			want: header{"completed", "success", "Approved by bob via @acme/dba"},
			summary: []string{"| `bob` | approved | `1111111` (current head) | yes | Counts, as a code owner through `@acme/dba`. |",
				"Every approval rule holds: jit merges the pull request at this head."},
		},
		"two approvers": {
			grants: []change.Summary{twoNeeded}, ev: evidence(approve("bob", 1), approve("dave", 2)),
			want: header{"completed", "success", "Approved by bob via @acme/dba; dave via @acme/dba"},
		},
		"one of two": {
			grants: []change.Summary{twoNeeded}, ev: evidence(approve("bob", 1)),
			want:    header{"in_progress", "", "1 of 2 approvals"},
			summary: []string{"### Why it cannot merge yet", "- 1 of 2 approvals from eligible reviewers"},
		},
		"no reviews": {
			grants: []change.Summary{alices()}, ev: evidence(),
			want:    header{"in_progress", "", "Waiting for 1 approval"},
			summary: []string{"No reviews yet.", "- 0 of 1 approval from eligible reviewers"},
		},
		"waiting for two": {
			grants: []change.Summary{twoNeeded}, ev: evidence(),
			want: header{"in_progress", "", "Waiting for 2 approvals"},
		},
		"enough approvals but blocked": {
			grants: []change.Summary{alices()}, ev: evidence(approve("bob", 1), review("dave", grant.ReviewChangesRequested, head, 2)),
			want: header{"in_progress", "", "1 of 1 approval, but not mergeable yet"},
			summary: []string{"| `dave` | changes requested | `1111111` (current head) | no | `dave` requested changes, which blocks the merge until they approve or the review is dismissed. |",
				"- dave requested changes; the pull request waits until they approve or their review is dismissed"},
		},
		"rejected": {
			grants: []change.Summary{alices()},
			change: grant.Change{Grants: changeFor(alices()).Grants, Problems: []grant.Problem{{File: file, Line: 4, Column: 11, Message: "duration 5h exceeds the max_duration of 4h"}}},
			ev:     evidence(approve("bob", 1)),
			want:   header{"completed", "failure", "Not approvable"},
			summary: []string{"cannot be approved as it stands",
				"- access/prod/db/alice-inc-1234.yaml:4:11: duration 5h exceeds the max_duration of 4h"},
		},
		"rejected draft stays failed": {
			pr: draft, change: grant.Change{}, ev: evidence(),
			want:    header{"completed", "failure", "Not approvable"},
			summary: []string{"- the pull request adds, extends, shortens or deletes no grant"},
		},
		"draft pending": {
			pr: draft, grants: []change.Summary{alices()}, ev: evidence(),
			want: header{"in_progress", "", "Waiting for 1 approval (draft: mark it ready to merge)"},
		},
		"draft approved is not success": {
			pr: draft, grants: []change.Summary{alices()}, ev: evidence(approve("bob", 1)),
			want: header{"in_progress", "", "Approved by bob via @acme/dba (draft: mark it ready to merge)"},
		},
		"own deletion": {
			grants: []change.Summary{edit(ginas(), func(s *change.Summary) { s.Requester = "alice" })}, ev: evidence(),
			want: header{"completed", "success", "No approval needed: alice deletes their own grant"},
		},
		"own deletions": {
			grants: []change.Summary{edit(ginas(), func(s *change.Summary) { s.Requester = "Alice" }), edit(ginas(), func(s *change.Summary) { s.ID, s.Requester = "prod/db/gina-8", "alice" })},
			ev:     evidence(),
			want:   header{"completed", "success", "No approval needed: alice deletes their own grants"},
		},
		"code owner deletes someone else's grant": {
			pr: byBob, grants: []change.Summary{ginas()}, ev: withAuthor(evidence(), "bob"),
			want: header{"completed", "success", "No approval needed: bob deletes only grants they requested or own as a code owner"},
		},
		"someone else's deletion needs approval": {
			pr: PullRequest{Number: 12, Author: "carol", HeadSHA: head}, grants: []change.Summary{ginas()}, ev: withAuthor(evidence(), "carol"),
			want:    header{"in_progress", "", "Waiting for 1 approval"},
			summary: []string{"- deleting prod/db/gina-7 needs approval: the author carol is neither its requester nor a code owner of access/prod/db/gina-7.yaml with write access"},
		},
		"break-glass": {
			grants: []change.Summary{breakGlass()}, ev: evidence(),
			want: header{"completed", "success", "Break-glass: merged without prior approval; an eligible review is due within 1h"},
		},
		"break-glass without a review window": {
			grants: []change.Summary{breakGlass()},
			change: grant.Change{Grants: []grant.GrantChange{{ID: id, File: file, Kind: grant.Added, Requester: "alice", BreakGlass: true,
				Requirements: grant.Requirements{Policies: []string{"prod"}}, Owners: []string{"@acme/dba"}}}},
			ev:   evidence(),
			want: header{"completed", "success", "Break-glass: merged without prior approval; an eligible review is due after the merge"},
		},
		"not evaluated": {
			grants: []change.Summary{alices()}, ev: evidence(), zero: true,
			want:    header{"in_progress", "", "Not evaluated yet"},
			summary: []string{"jit has not evaluated the approvals yet."},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			pr := tt.pr
			if pr.Number == 0 {
				pr = pull()
			}
			c := tt.change
			if c.Grants == nil && c.Problems == nil {
				c = changeFor(tt.grants...)
			}
			var d grant.Decision
			if !tt.zero {
				d = grant.Decide(c, tt.ev, now)
			}
			got := Approval(pr, tt.grants, c, d)
			if got.Name != ApprovalName {
				t.Errorf("name %q, want %q", got.Name, ApprovalName)
			}
			if diff := cmp.Diff(tt.want, headerOf(got)); diff != "" {
				t.Errorf("check (-want +got):\n%s", diff)
			}
			containsAll(t, "summary", unmd(got.Summary), tt.summary)
			if len(tt.grants) > 0 {
				containsAll(t, "summary", got.Summary, []string{"### Who may approve", "a push voids it"})
			}
		})
	}
}

// TestApprovalReasons walks every kind of reason Decide gives through
// Approval: each verdict reason and each decision reason must come out in
// the summary, verdict reasons as sentences.
func TestApprovalReasons(t *testing.T) {
	leads := edit(alices(), func(s *change.Summary) { s.PolicyApprovers = [][]string{{"@acme/dba-leads"}} })
	twoNeeded := edit(alices(), func(s *change.Summary) { s.ApprovalsRequired = 2 })
	coAuthored := evidence(approve("mallory", 1), approve("carol", 2))
	coAuthored.Commits = append(coAuthored.Commits, grant.Commit{SHA: c2, Author: "alice", Committer: "mallory", CoAuthors: []string{"carol"}})
	unlinked := evidence()
	unlinked.Commits = append(unlinked.Commits, grant.Commit{SHA: c2, Author: "", Committer: "web-flow"})
	unknownHead := evidence(approve("bob", 1))
	unknownHead.HeadSHA = ""
	tests := map[string]struct {
		grants []change.Summary
		ev     grant.Evidence
		want   []string // sentences in the rendered summary
	}{
		"stale SHA": {[]change.Summary{alices()}, evidence(review("bob", grant.ReviewApproved, older, 1)),
			[]string{"`2222222` (stale: an older head)", "Stale: approved 2222222, head is now 1111111."}},
		"not a code owner": {[]change.Summary{alices()}, evidence(approve("carol", 1)),
			[]string{"Not a code owner of access/prod/db/alice-inc-1234.yaml."}},
		"requester, author and commit author": {[]change.Summary{alices()}, evidence(approve("alice", 1)),
			[]string{"`alice` is the requester of prod/db/alice-inc-1234.", "`alice` is the pull request author.", "`alice` authored commit 3333333."}},
		"committed and co-authored": {[]change.Summary{alices()}, coAuthored,
			[]string{"`mallory` committed commit 4444444.", "`carol` co-authored commit 4444444."}},
		"not in the policy's approvers": {[]change.Summary{leads}, evidence(approve("bob", 1)),
			[]string{"Not in the approvers of a policy covering access/prod/db/alice-inc-1234.yaml: one of @acme/dba-leads."}},
		"read-only access": {[]change.Summary{alices()}, evidence(approve("frank", 1)),
			[]string{"Read-only access (read); approvals need write, maintain or admin."}},
		"no known permission": {[]change.Summary{alices()}, evidence(approve("zed", 1)),
			[]string{"No known permission on the repository; approvals need write, maintain or admin."}},
		"1 of 2": {[]change.Summary{twoNeeded}, evidence(approve("bob", 1)),
			[]string{"- 1 of 2 approvals from eligible reviewers"}},
		"only commented": {[]change.Summary{alices()}, evidence(review("bob", grant.ReviewCommented, head, 1)),
			[]string{"`bob` only commented; comments neither approve nor block."}},
		"dismissed": {[]change.Summary{alices()}, evidence(approve("bob", 1), review("bob", grant.ReviewDismissed, head, 2)),
			[]string{"| `bob` | dismissed |", "Review dismissed; a dismissed review counts as no opinion."}},
		"unknown review state": {[]change.Summary{alices()}, evidence(review("bob", "WITHDRAWN", head, 1)),
			[]string{"| `bob` | unknown state |", `Review state "WITHDRAWN" is not one jit knows; it counts as no opinion.`}},
		"changes requested by someone not eligible": {[]change.Summary{alices()}, evidence(review("carol", grant.ReviewChangesRequested, head, 1)),
			[]string{"`carol` requested changes, which does not block: they are not eligible.", "Not a code owner of access/prod/db/alice-inc-1234.yaml."}},
		"unknown head": {[]change.Summary{alices()}, unknownHead,
			[]string{"(head unknown)", "Evaluated on an unknown head commit.", "`bob` approved 1111111, but the head commit is unknown.", "- the pull request's head commit is unknown, so no approval can count"}},
		"unlinked commit author": {[]change.Summary{alices()}, unlinked,
			[]string{"- commit 4444444: GitHub cannot link the author to an account"}},
		"no code owner": {[]change.Summary{edit(alices(), func(s *change.Summary) { s.EligibleApprovers = nil })}, evidence(),
			[]string{"has no code owner with a GitHub account in the base branch's CODEOWNERS"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c := changeFor(tt.grants...)
			d := grant.Decide(c, tt.ev, now)
			pr := pull()
			pr.HeadSHA = tt.ev.HeadSHA
			got := unmd(Approval(pr, tt.grants, c, d).Summary)
			containsAll(t, "summary", got, tt.want)
			// Whatever Decide says, the summary says too.
			lower := strings.ToLower(got)
			for _, v := range d.Reviews {
				for _, r := range v.Reasons {
					if !strings.Contains(lower, strings.ToLower(r)) {
						t.Errorf("summary lacks %s's reason %q", v.Reviewer, r)
					}
				}
			}
			for _, r := range d.Reasons {
				if !strings.Contains(got, "- "+r) {
					t.Errorf("summary lacks the decision's reason %q", r)
				}
			}
		})
	}
}

func TestApprovalEscapesOutsideValues(t *testing.T) {
	hostile := edit(alices(), func(s *change.Summary) {
		s.ID, s.Requester = "prod/db/<b>x|y", "@acme/everyone"
		s.EligibleApprovers = []string{"@acme/dba", "@x`y"}
	})
	c := changeFor(hostile)
	d := grant.Decide(c, evidence(review("Mallory|<b>", grant.ReviewApproved, head, 1)), now)
	got := Approval(pull(), []change.Summary{hostile}, c, d).Summary
	for _, bad := range []string{"<b>", "x|y", " @acme/everyone", "Mallory|"} {
		if strings.Contains(got, bad) {
			t.Errorf("summary carries %q unescaped:\n%s", bad, got)
		}
	}
	containsAll(t, "summary", got, []string{"@&#8203;x\\`y", "`@acme/dba`", "(`@acme/everyone`)", "Mallory\\|&lt;b&gt;"})
}
