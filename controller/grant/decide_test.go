package grant_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/grant"
)

const (
	headSHA  = "1111111111111111111111111111111111111111"
	olderSHA = "2222222222222222222222222222222222222222"
	commit1  = "3333333333333333333333333333333333333333"
	commit2  = "4444444444444444444444444444444444444444"
	quorum1  = "0 of 1 approval from eligible reviewers"
	stale    = "stale: approved 2222222, head is now 1111111"
	readOnly = "read-only access (read); approvals need write, maintain or admin"
	blocking = "requested changes, which blocks the merge until they approve or the review is dismissed"
)

// decideNow is the fixed evaluation time; reviews are minutes before it.
var decideNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// alicesProd is alice's request under access/prod, owned by @acme/dba.
func alicesProd() grant.GrantChange {
	return grant.GrantChange{ID: "prod/db/alice-inc-1", File: "access/prod/db/alice-inc-1.yaml", Kind: grant.Added, Requester: "alice",
		Requirements: grant.Requirements{Policies: []string{"prod"}, MaxDuration: 4 * time.Hour, Approvals: 1}, Owners: []string{"@acme/dba"}}
}

// alicesStaging is alice's request under access/staging, owned by @acme/sre.
func alicesStaging() grant.GrantChange {
	return grant.GrantChange{ID: "staging/alice-1", File: "access/staging/alice-1.yaml", Kind: grant.Added, Requester: "alice",
		Requirements: grant.Requirements{Policies: []string{"staging"}, MaxDuration: 24 * time.Hour, Approvals: 1}, Owners: []string{"@acme/sre"}}
}

// ginasProd is gina's live grant under access/prod, here being deleted.
func ginasProd() grant.GrantChange {
	return grant.GrantChange{ID: "prod/db/gina-2", File: "access/prod/db/gina-2.yaml", Kind: grant.Deleted, Requester: "gina",
		Requirements: grant.Requirements{Policies: []string{"prod"}, MaxDuration: 4 * time.Hour, Approvals: 1}, Owners: []string{"@acme/dba"}}
}

// with returns g changed by edit.
func with(g grant.GrantChange, edit func(*grant.GrantChange)) grant.GrantChange {
	edit(&g)
	return g
}

func changeOf(gs ...grant.GrantChange) grant.Change { return grant.Change{Grants: gs} }

// evidence is alice's pull request at headSHA: one commit of hers made in
// the web editor. @acme/dba is bob and dave, @acme/sre is bob and erin;
// frank is in @acme/dba's team map too but can only read.
func evidence(reviews ...grant.Review) grant.Evidence {
	return grant.Evidence{
		Author: "alice", BaseSHA: olderSHA, HeadSHA: headSHA,
		Commits: []grant.Commit{{SHA: commit1, Author: "alice", Committer: "web-flow"}},
		Reviews: reviews,
		Teams: map[string][]string{
			"@acme/dba": {"bob", "dave", "frank"},
			"@acme/sre": {"bob", "erin"},
		},
		Permissions: map[string]grant.Permission{
			"alice": grant.PermissionWrite, "bob": grant.PermissionWrite, "dave": grant.PermissionAdmin,
			"erin": grant.PermissionMaintain, "frank": grant.PermissionRead, "carol": grant.PermissionWrite,
			"gina": grant.PermissionWrite, "mallory": grant.PermissionWrite,
		},
	}
}

// review is a review by login in state on sha, submitted minute minutes
// past 11:00; its ID grows with the minute.
// edited is evidence(reviews...) changed by edit.
func edited(edit func(*grant.Evidence), reviews ...grant.Review) grant.Evidence {
	ev := evidence(reviews...)
	edit(&ev)
	return ev
}

func review(login string, state grant.ReviewState, sha string, minute int) grant.Review {
	return grant.Review{ID: int64(1000 + minute), Reviewer: login, State: state, CommitSHA: sha,
		SubmittedAt: decideNow.Add(-time.Hour + time.Duration(minute)*time.Minute)}
}

func approve(login string, minute int) grant.Review {
	return review(login, grant.ReviewApproved, headSHA, minute)
}

// outcome is the part of a Decision the table compares: per-review reasons
// by reviewer (nil for a counted approval).
type outcome struct {
	Outcome   grant.Outcome
	Required  int
	Approvals []grant.Approval
	Reviews   map[string][]string
	Reasons   []string
}

func summarize(d grant.Decision) outcome {
	o := outcome{Outcome: d.Outcome, Required: d.Required, Approvals: d.Approvals, Reasons: d.Reasons}
	for _, v := range d.Reviews {
		if o.Reviews == nil {
			o.Reviews = map[string][]string{}
		}
		o.Reviews[v.Reviewer] = v.Reasons
		if v.Counted != (len(v.Reasons) == 0) {
			panic("a verdict is counted exactly when it has no reasons")
		}
	}
	return o
}

func approvedBy(login string, via ...string) grant.Approval {
	return grant.Approval{Login: login, Via: via}
}

func TestDecide(t *testing.T) {
	tests := map[string]struct {
		change grant.Change
		ev     grant.Evidence
		want   outcome
	}{
		// Rule 1: rejections.
		"rejected on problems": {
			grant.Change{Grants: []grant.GrantChange{alicesProd()}, Problems: []grant.Problem{
				{File: "access/prod/db/alice-inc-1.yaml", Line: 3, Column: 11, Message: "duration 5h exceeds the max_duration of 4h set by policy prod (policies/prod.hcl:4)"},
				{File: "access/prod/db/alice-inc-1.yaml", Line: 1, Column: 1, Message: "a pull request that changes access/ may not also change policies/prod.hcl"},
			}},
			evidence(approve("bob", 1)),
			outcome{Outcome: grant.Rejected, Reasons: []string{
				"access/prod/db/alice-inc-1.yaml:1:1: a pull request that changes access/ may not also change policies/prod.hcl",
				"access/prod/db/alice-inc-1.yaml:3:11: duration 5h exceeds the max_duration of 4h set by policy prod (policies/prod.hcl:4)",
			}},
		},
		"rejected on no grants": {
			grant.Change{}, evidence(approve("bob", 1)),
			outcome{Outcome: grant.Rejected, Reasons: []string{"the pull request adds, extends, shortens or deletes no grant"}},
		},
		"rejected on an unknown kind of change": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Kind = "renamed" })), evidence(approve("bob", 1)),
			outcome{Outcome: grant.Rejected, Reasons: []string{`grant prod/db/alice-inc-1 (access/prod/db/alice-inc-1.yaml) has a kind of change jit does not know: "renamed"`}},
		},
		"rejected on a request without requester": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Requester = "" })), evidence(approve("bob", 1)),
			outcome{Outcome: grant.Rejected, Reasons: []string{"grant prod/db/alice-inc-1 (access/prod/db/alice-inc-1.yaml) names no requester"}},
		},

		// Rule 2: which review counts.
		"owner approves through a team": {
			changeOf(alicesProd()), evidence(approve("bob", 1)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")},
				Reviews: map[string][]string{"bob": nil}},
		},
		"no reviews": {
			changeOf(alicesProd()), evidence(),
			outcome{Outcome: grant.Pending, Required: 1, Reasons: []string{quorum1}},
		},
		"stale SHA": {
			changeOf(alicesProd()), evidence(review("bob", grant.ReviewApproved, olderSHA, 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"bob": {stale}}, Reasons: []string{quorum1}},
		},
		"approval without a commit is stale": {
			changeOf(alicesProd()), evidence(review("bob", grant.ReviewApproved, "", 1)),
			outcome{Outcome: grant.Pending, Required: 1,
				Reviews: map[string][]string{"bob": {"stale: approved (unknown commit), head is now 1111111"}}, Reasons: []string{quorum1}},
		},
		"latest review wins: changes requested after approval": {
			changeOf(alicesProd()), evidence(approve("bob", 1), review("bob", grant.ReviewChangesRequested, headSHA, 2)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"bob": {blocking}},
				Reasons: []string{"bob requested changes; the pull request waits until they approve or their review is dismissed", quorum1}},
		},
		"latest review wins: approval after changes requested": {
			changeOf(alicesProd()), evidence(review("bob", grant.ReviewChangesRequested, olderSHA, 1), approve("bob", 2)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")},
				Reviews: map[string][]string{"bob": nil}},
		},
		"latest review wins whatever the input order": {
			changeOf(alicesProd()), evidence(review("bob", grant.ReviewApproved, olderSHA, 3), review("bob", grant.ReviewApproved, headSHA, 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"bob": {stale}}, Reasons: []string{quorum1}},
		},
		"comment after approval keeps it": {
			changeOf(alicesProd()), evidence(approve("bob", 1), review("bob", grant.ReviewCommented, headSHA, 2)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")},
				Reviews: map[string][]string{"bob": nil}},
		},
		"dismissed voids it": {
			changeOf(alicesProd()), evidence(approve("bob", 1), review("bob", grant.ReviewDismissed, headSHA, 2)),
			outcome{Outcome: grant.Pending, Required: 1,
				Reviews: map[string][]string{"bob": {"review dismissed; a dismissed review counts as no opinion"}}, Reasons: []string{quorum1}},
		},
		"dismissed then comment still voids it": {
			changeOf(alicesProd()), evidence(approve("bob", 1), review("bob", grant.ReviewDismissed, headSHA, 2), review("bob", grant.ReviewCommented, headSHA, 3)),
			outcome{Outcome: grant.Pending, Required: 1,
				Reviews: map[string][]string{"bob": {"review dismissed; a dismissed review counts as no opinion"}}, Reasons: []string{quorum1}},
		},
		"approval after dismissal counts": {
			changeOf(alicesProd()), evidence(review("bob", grant.ReviewDismissed, headSHA, 1), approve("bob", 2)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")},
				Reviews: map[string][]string{"bob": nil}},
		},
		"webhook lower-case dismissed still voids": {
			changeOf(alicesProd()), evidence(approve("bob", 1), review("bob", "dismissed", headSHA, 2)),
			outcome{Outcome: grant.Pending, Required: 1,
				Reviews: map[string][]string{"bob": {"review dismissed; a dismissed review counts as no opinion"}}, Reasons: []string{quorum1}},
		},
		"unknown review state supersedes an approval": {
			changeOf(alicesProd()), evidence(approve("bob", 1), review("bob", "WITHDRAWN", headSHA, 2)),
			outcome{Outcome: grant.Pending, Required: 1,
				Reviews: map[string][]string{"bob": {`review state "WITHDRAWN" is not one jit knows; it counts as no opinion`}}, Reasons: []string{quorum1}},
		},
		"only commented": {
			changeOf(alicesProd()), evidence(review("bob", grant.ReviewCommented, headSHA, 1)),
			outcome{Outcome: grant.Pending, Required: 1,
				Reviews: map[string][]string{"bob": {"only commented; comments neither approve nor block"}}, Reasons: []string{quorum1}},
		},
		"pending reviews are ignored": {
			changeOf(alicesProd()), evidence(grant.Review{ID: 9, Reviewer: "bob", State: grant.ReviewPending, CommitSHA: headSHA}),
			outcome{Outcome: grant.Pending, Required: 1, Reasons: []string{quorum1}},
		},
		"pending after approval keeps it": {
			changeOf(alicesProd()), evidence(approve("bob", 1), grant.Review{ID: 9999, Reviewer: "bob", State: grant.ReviewPending, CommitSHA: headSHA}),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")},
				Reviews: map[string][]string{"bob": nil}},
		},
		"same second ordered by id": {
			changeOf(alicesProd()), evidence(
				grant.Review{ID: 8, Reviewer: "bob", State: grant.ReviewDismissed, CommitSHA: headSHA, SubmittedAt: decideNow.Add(-time.Minute)},
				grant.Review{ID: 9, Reviewer: "bob", State: grant.ReviewApproved, CommitSHA: headSHA, SubmittedAt: decideNow.Add(-time.Minute)}),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")},
				Reviews: map[string][]string{"bob": nil}},
		},
		"full tie is taken as the less approving review": {
			changeOf(alicesProd()), evidence(
				grant.Review{ID: 9, Reviewer: "bob", State: grant.ReviewChangesRequested, CommitSHA: headSHA, SubmittedAt: decideNow.Add(-time.Minute)},
				grant.Review{ID: 9, Reviewer: "bob", State: grant.ReviewApproved, CommitSHA: headSHA, SubmittedAt: decideNow.Add(-time.Minute)}),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"bob": {blocking}},
				Reasons: []string{"bob requested changes; the pull request waits until they approve or their review is dismissed", quorum1}},
		},
		"one reviewer approving twice counts once": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Requirements.Approvals = 2 })),
			evidence(approve("bob", 1), approve("Bob", 2)),
			outcome{Outcome: grant.Pending, Required: 2, Approvals: []grant.Approval{approvedBy("Bob", "@acme/dba")},
				Reviews: map[string][]string{"Bob": nil}, Reasons: []string{"1 of 2 approvals from eligible reviewers"}},
		},
		"unknown head SHA": {
			changeOf(alicesProd()), edited(func(ev *grant.Evidence) {
				ev.HeadSHA = ""
			}, review("bob", grant.ReviewApproved, "", 1)),
			outcome{Outcome: grant.Pending, Required: 1,
				Reviews: map[string][]string{"bob": {"approved (unknown commit), but the head commit is unknown"}},
				Reasons: []string{"the pull request's head commit is unknown, so no approval can count", quorum1}},
		},

		// Rule 3: code owners of every grant file.
		"direct owner entry is preferred over a team": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Owners = []string{"@acme/dba", "@Bob"} })), evidence(approve("bob", 1)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@Bob")}, Reviews: map[string][]string{"bob": nil}},
		},
		"first team in written order": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Owners = []string{"@acme/sre", "@acme/dba"} })), evidence(approve("bob", 1)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@acme/sre")}, Reviews: map[string][]string{"bob": nil}},
		},
		"not a code owner": {
			changeOf(alicesProd()), evidence(approve("carol", 1)),
			outcome{Outcome: grant.Pending, Required: 1,
				Reviews: map[string][]string{"carol": {"not a code owner of access/prod/db/alice-inc-1.yaml"}}, Reasons: []string{quorum1}},
		},
		"owner of one file but not the other": {
			changeOf(alicesProd(), alicesStaging()), evidence(approve("dave", 1), approve("erin", 2)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{
				"dave": {"not a code owner of access/staging/alice-1.yaml"},
				"erin": {"not a code owner of access/prod/db/alice-inc-1.yaml"},
			}, Reasons: []string{quorum1}},
		},
		"owner of every file through two teams": {
			changeOf(alicesStaging(), alicesProd()), evidence(approve("bob", 1), approve("dave", 2)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba", "@acme/sre")}, Reviews: map[string][]string{
				"bob": nil, "dave": {"not a code owner of access/staging/alice-1.yaml"},
			}},
		},
		"file without owners": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Owners = nil })), evidence(approve("bob", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"bob": {"not a code owner of access/prod/db/alice-inc-1.yaml"}},
				Reasons: []string{"access/prod/db/alice-inc-1.yaml has no code owner with a GitHub account in the base branch's CODEOWNERS, so nobody can approve it; add one in a pull request of its own", quorum1}},
		},
		"e-mail owners match nobody": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Owners = []string{"bob@acme.test"} })), evidence(approve("bob", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"bob": {"not a code owner of access/prod/db/alice-inc-1.yaml"}},
				Reasons: []string{"access/prod/db/alice-inc-1.yaml has no code owner with a GitHub account in the base branch's CODEOWNERS, so nobody can approve it; add one in a pull request of its own", quorum1}},
		},
		"team with no known members": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Owners = []string{"@acme/ghosts"} })), evidence(approve("bob", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"bob": {"not a code owner of access/prod/db/alice-inc-1.yaml"}}, Reasons: []string{quorum1}},
		},
		"logins and teams case-insensitive": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Owners = []string{"@ACME/DBA"}; g.Requester = "ALICE" })),
			edited(func(ev *grant.Evidence) {
				ev.Teams = map[string][]string{"@Acme/Dba": {"Bob", "alice"}}
				ev.Permissions = map[string]grant.Permission{"bob": grant.PermissionWrite, "ALICE": grant.PermissionAdmin}
			}, approve("BOB", 1), approve("Alice", 2)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("BOB", "@ACME/DBA")}, Reviews: map[string][]string{
				"Alice": {"is the requester of prod/db/alice-inc-1", "is the pull request author", "authored commit 3333333"},
				"BOB":   nil,
			}},
		},

		"two spellings of one team keep only the members both name": {
			changeOf(alicesProd()), edited(func(ev *grant.Evidence) { ev.Teams["@ACME/dba"] = []string{"Dave"} }, approve("bob", 1), approve("dave", 2)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("dave", "@acme/dba")}, Reviews: map[string][]string{
				"bob": {"not a code owner of access/prod/db/alice-inc-1.yaml"}, "dave": nil,
			}},
		},

		// Rule 4: write access.
		"read-only owner": {
			changeOf(alicesProd()), evidence(approve("frank", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"frank": {readOnly}}, Reasons: []string{quorum1}},
		},
		"triage owner": {
			changeOf(alicesProd()), edited(func(ev *grant.Evidence) {
				ev.Permissions["frank"] = grant.PermissionTriage
			}, approve("frank", 1)),
			outcome{Outcome: grant.Pending, Required: 1,
				Reviews: map[string][]string{"frank": {"read-only access (triage); approvals need write, maintain or admin"}}, Reasons: []string{quorum1}},
		},
		"unknown permission": {
			changeOf(alicesProd()), edited(func(ev *grant.Evidence) {
				delete(ev.Permissions, "dave")
			}, approve("dave", 1)),
			outcome{Outcome: grant.Pending, Required: 1,
				Reviews: map[string][]string{"dave": {"no known permission on the repository; approvals need write, maintain or admin"}}, Reasons: []string{quorum1}},
		},
		"unrecognised permission": {
			changeOf(alicesProd()), edited(func(ev *grant.Evidence) {
				ev.Permissions["dave"] = "push"
			}, approve("dave", 1)),
			outcome{Outcome: grant.Pending, Required: 1,
				Reviews: map[string][]string{"dave": {`permission "push" is not one jit knows; approvals need write, maintain or admin`}}, Reasons: []string{quorum1}},
		},
		"two spellings of one login keep the weaker permission": {
			changeOf(alicesProd()), edited(func(ev *grant.Evidence) {
				ev.Permissions["Dave"] = grant.PermissionRead
			}, approve("dave", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"dave": {readOnly}}, Reasons: []string{quorum1}},
		},

		// Rule 5: requesters, authors and committers never count.
		"requester approval": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Requester = "dave" })), evidence(approve("dave", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"dave": {"is the requester of prod/db/alice-inc-1"}}, Reasons: []string{quorum1}},
		},
		"author approval": {
			changeOf(alicesProd()), edited(func(ev *grant.Evidence) { ev.Author = "dave" }, approve("dave", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"dave": {"is the pull request author"}}, Reasons: []string{quorum1}},
		},
		"commit author approval": {
			changeOf(alicesProd()), edited(func(ev *grant.Evidence) {
				ev.Commits = append(ev.Commits, grant.Commit{SHA: commit2, Author: "bob", Committer: "alice"})
			}, approve("bob", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"bob": {"authored commit 4444444"}}, Reasons: []string{quorum1}},
		},
		"committer approval": {
			changeOf(alicesProd()), edited(func(ev *grant.Evidence) {
				ev.Commits[0].Committer = "Bob"
			}, approve("bob", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"bob": {"committed commit 3333333"}}, Reasons: []string{quorum1}},
		},
		"co-author approval": {
			changeOf(alicesProd()), edited(func(ev *grant.Evidence) {
				ev.Commits[0].CoAuthors = []string{"carol", "bob"}
			}, approve("bob", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"bob": {"co-authored commit 3333333"}}, Reasons: []string{quorum1}},
		},
		"every disqualification is listed": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Requester = "bob" })), edited(func(ev *grant.Evidence) {
				ev.Author = "bob"
				ev.Commits = []grant.Commit{{SHA: commit1, Author: "bob", Committer: "bob"}, {SHA: commit2, Author: "alice", Committer: "alice", CoAuthors: []string{"bob"}}}
				ev.Permissions["bob"] = grant.PermissionRead
			}, review("bob", grant.ReviewApproved, olderSHA, 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"bob": {
				stale, "is the requester of prod/db/alice-inc-1", "is the pull request author", "authored commit 3333333",
				"committed commit 3333333", "co-authored commit 4444444", readOnly,
			}}, Reasons: []string{quorum1}},
		},
		"unlinked commit author keeps it pending": {
			changeOf(alicesProd()), edited(func(ev *grant.Evidence) {
				ev.Commits = append(ev.Commits, grant.Commit{SHA: commit2, Author: "", Committer: "", CoAuthors: []string{""}})
			}, approve("bob", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")}, Reviews: map[string][]string{"bob": nil},
				Reasons: []string{"commit 4444444: GitHub cannot link the author and the committer and a co-author to an account, so jit cannot tell whether a reviewer wrote it; recreate the commit with an e-mail address linked to a GitHub account"}},
		},
		"unlinked commit does not matter when no approval is needed": {
			changeOf(with(ginasProd(), func(g *grant.GrantChange) { g.Requester = "alice" })), edited(func(ev *grant.Evidence) {
				ev.Commits[0].Committer = ""
			}),
			outcome{Outcome: grant.Approved},
		},
		"unknown author": {
			changeOf(alicesProd()), edited(func(ev *grant.Evidence) { ev.Author = "" }, approve("bob", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")}, Reviews: map[string][]string{"bob": nil},
				Reasons: []string{"the pull request author is unknown, so no rule about them can be checked"}},
		},

		// Rule 6: policy approvers.
		"policy approver set mismatch": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Requirements.ApproverSets = [][]string{{"@acme/sre", "@zoe"}} })),
			evidence(approve("dave", 1), approve("bob", 2)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")}, Reviews: map[string][]string{
				"bob":  nil,
				"dave": {"not in the approvers of a policy covering access/prod/db/alice-inc-1.yaml: one of @acme/sre, @zoe"},
			}},
		},
		"every approver set must match": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) {
				g.Requirements.ApproverSets = [][]string{{"@acme/sre", "@dave"}, {"@Dave", "@erin"}}
			})),
			evidence(approve("dave", 1), approve("bob", 2)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("dave", "@acme/dba")}, Reviews: map[string][]string{
				"bob":  {"not in the approvers of a policy covering access/prod/db/alice-inc-1.yaml: one of @Dave, @erin"},
				"dave": nil,
			}},
		},

		// Rule 7: quorum.
		"1 of 2": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Requirements.Approvals = 2 })), evidence(approve("bob", 1)),
			outcome{Outcome: grant.Pending, Required: 2, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")},
				Reviews: map[string][]string{"bob": nil}, Reasons: []string{"1 of 2 approvals from eligible reviewers"}},
		},
		"2 of 2": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Requirements.Approvals = 2 })), evidence(approve("dave", 1), approve("bob", 2)),
			outcome{Outcome: grant.Approved, Required: 2, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba"), approvedBy("dave", "@acme/dba")},
				Reviews: map[string][]string{"bob": nil, "dave": nil}},
		},
		"quorum is the largest of the grants": {
			changeOf(alicesStaging(), with(alicesProd(), func(g *grant.GrantChange) { g.Requirements.Approvals = 2 })), evidence(approve("bob", 1)),
			outcome{Outcome: grant.Pending, Required: 2, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba", "@acme/sre")},
				Reviews: map[string][]string{"bob": nil}, Reasons: []string{"1 of 2 approvals from eligible reviewers"}},
		},
		"2 of 2 with a third ineligible approval": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Requirements.Approvals = 2 })), evidence(approve("dave", 1), approve("alice", 2), approve("carol", 3)),
			outcome{Outcome: grant.Pending, Required: 2, Approvals: []grant.Approval{approvedBy("dave", "@acme/dba")}, Reviews: map[string][]string{
				"alice": {"is the requester of prod/db/alice-inc-1", "is the pull request author", "authored commit 3333333", "not a code owner of access/prod/db/alice-inc-1.yaml"},
				"carol": {"not a code owner of access/prod/db/alice-inc-1.yaml"},
				"dave":  nil,
			}, Reasons: []string{"1 of 2 approvals from eligible reviewers"}},
		},

		// Rule 8: changes requested.
		"changes requested by an eligible owner blocks another approval": {
			changeOf(alicesProd()), evidence(approve("dave", 1), review("bob", grant.ReviewChangesRequested, headSHA, 2)),
			outcome{Outcome: grant.Pending, Required: 1, Approvals: []grant.Approval{approvedBy("dave", "@acme/dba")},
				Reviews: map[string][]string{"bob": {blocking}, "dave": nil},
				Reasons: []string{"bob requested changes; the pull request waits until they approve or their review is dismissed"}},
		},
		"changes requested on an older head still blocks": {
			changeOf(alicesProd()), evidence(approve("dave", 1), review("bob", grant.ReviewChangesRequested, olderSHA, 0)),
			outcome{Outcome: grant.Pending, Required: 1, Approvals: []grant.Approval{approvedBy("dave", "@acme/dba")},
				Reviews: map[string][]string{"bob": {blocking}, "dave": nil},
				Reasons: []string{"bob requested changes; the pull request waits until they approve or their review is dismissed"}},
		},
		"changes requested by a non-owner does not block": {
			changeOf(alicesProd()), evidence(approve("dave", 1), review("carol", grant.ReviewChangesRequested, headSHA, 2)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("dave", "@acme/dba")}, Reviews: map[string][]string{
				"carol": {"requested changes, which does not block: they are not eligible", "not a code owner of access/prod/db/alice-inc-1.yaml"},
				"dave":  nil,
			}},
		},
		"changes requested then dismissed does not block": {
			changeOf(alicesProd()), evidence(approve("dave", 1), review("bob", grant.ReviewChangesRequested, headSHA, 2), review("bob", grant.ReviewDismissed, headSHA, 3)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("dave", "@acme/dba")}, Reviews: map[string][]string{
				"bob": {"review dismissed; a dismissed review counts as no opinion"}, "dave": nil,
			}},
		},

		// Rule 9: deletions.
		"deletion by requester": {
			changeOf(ginasProd()), edited(func(ev *grant.Evidence) { ev.Author = "gina" }),
			outcome{Outcome: grant.Approved},
		},
		"deletion by requester, logins differing in case": {
			changeOf(ginasProd()), edited(func(ev *grant.Evidence) { ev.Author = "Gina" }),
			outcome{Outcome: grant.Approved},
		},
		"deletion by team code owner": {
			changeOf(ginasProd()), edited(func(ev *grant.Evidence) { ev.Author = "dave" }),
			outcome{Outcome: grant.Approved},
		},
		"deletion by direct code owner": {
			changeOf(with(ginasProd(), func(g *grant.GrantChange) { g.Owners = []string{"@Carol"} })),
			edited(func(ev *grant.Evidence) { ev.Author = "carol" }),
			outcome{Outcome: grant.Approved},
		},
		"deletion by read-only team code owner needs approval": {
			changeOf(ginasProd()), edited(func(ev *grant.Evidence) { ev.Author = "frank" }),
			outcome{Outcome: grant.Pending, Required: 1, Reasons: []string{
				"deleting prod/db/gina-2 needs approval: the author frank is neither its requester nor a code owner of access/prod/db/gina-2.yaml with write access", quorum1,
			}},
		},
		"deletion by someone outside the owning team needs approval": {
			changeOf(ginasProd()), edited(func(ev *grant.Evidence) { ev.Author = "erin" }),
			outcome{Outcome: grant.Pending, Required: 1, Reasons: []string{
				"deleting prod/db/gina-2 needs approval: the author erin is neither its requester nor a code owner of access/prod/db/gina-2.yaml with write access", quorum1,
			}},
		},
		// Regression: the deletion exemption once passed for any author.
		"anyone can delete anyone's grant with zero approvals": {
			changeOf(ginasProd()), edited(func(ev *grant.Evidence) { ev.Author = "mallory" }),
			outcome{Outcome: grant.Pending, Required: 1, Reasons: []string{
				"deleting prod/db/gina-2 needs approval: the author mallory is neither its requester nor a code owner of access/prod/db/gina-2.yaml with write access", quorum1,
			}},
		},
		"deletion by stranger with an eligible approval": {
			changeOf(ginasProd()), edited(func(ev *grant.Evidence) { ev.Author = "mallory" }, approve("dave", 1)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("dave", "@acme/dba")}, Reviews: map[string][]string{"dave": nil}},
		},
		"deletion by stranger follows the policy quorum": {
			changeOf(with(ginasProd(), func(g *grant.GrantChange) { g.Requirements.Approvals = 2 })),
			edited(func(ev *grant.Evidence) { ev.Author = "mallory" }, approve("dave", 1)),
			outcome{Outcome: grant.Pending, Required: 2, Approvals: []grant.Approval{approvedBy("dave", "@acme/dba")}, Reviews: map[string][]string{"dave": nil},
				Reasons: []string{
					"deleting prod/db/gina-2 needs approval: the author mallory is neither its requester nor a code owner of access/prod/db/gina-2.yaml with write access",
					"1 of 2 approvals from eligible reviewers",
				}},
		},
		"deletion no policy covers any more still needs an approval": {
			changeOf(with(ginasProd(), func(g *grant.GrantChange) { g.Requirements = grant.Requirements{} })),
			edited(func(ev *grant.Evidence) { ev.Author = "mallory" }),
			outcome{Outcome: grant.Pending, Required: 1, Reasons: []string{
				"deleting prod/db/gina-2 needs approval: the author mallory is neither its requester nor a code owner of access/prod/db/gina-2.yaml with write access", quorum1,
			}},
		},
		"deletion approved by its requester does not count": {
			changeOf(ginasProd()), edited(func(ev *grant.Evidence) {
				ev.Author = "mallory"
				ev.Teams["@acme/dba"] = []string{"gina"}
			}, approve("gina", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"gina": {"is the requester of prod/db/gina-2"}}, Reasons: []string{
				"deleting prod/db/gina-2 needs approval: the author mallory is neither its requester nor a code owner of access/prod/db/gina-2.yaml with write access", quorum1,
			}},
		},
		"deleting own grant and another's needs approval for both": {
			changeOf(ginasProd(), with(alicesStaging(), func(g *grant.GrantChange) { g.Kind = grant.Deleted })),
			evidence(approve("dave", 1), approve("erin", 2)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{
				"dave": {"not a code owner of access/staging/alice-1.yaml"},
				"erin": {"not a code owner of access/prod/db/gina-2.yaml"},
			}, Reasons: []string{
				"deleting prod/db/gina-2 needs approval: the author alice is neither its requester nor a code owner of access/prod/db/gina-2.yaml with write access", quorum1,
			}},
		},
		"deleting own grant and an owned one needs nothing": {
			changeOf(ginasProd(), with(alicesStaging(), func(g *grant.GrantChange) { g.Kind = grant.Deleted })),
			edited(func(ev *grant.Evidence) { ev.Teams["@acme/dba"] = []string{"alice"} }),
			outcome{Outcome: grant.Approved},
		},
		"mixed add and own delete needs only the add's approval": {
			changeOf(alicesProd(), with(alicesStaging(), func(g *grant.GrantChange) { g.Kind = grant.Deleted })),
			evidence(approve("erin", 1), approve("bob", 2)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")}, Reviews: map[string][]string{
				"bob": nil, "erin": {"not a code owner of access/prod/db/alice-inc-1.yaml"},
			}},
		},
		"mixed add and another's delete needs an owner of both": {
			changeOf(alicesStaging(), ginasProd()), evidence(approve("erin", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"erin": {"not a code owner of access/prod/db/gina-2.yaml"}}, Reasons: []string{
				"deleting prod/db/gina-2 needs approval: the author alice is neither its requester nor a code owner of access/prod/db/gina-2.yaml with write access", quorum1,
			}},
		},

		// Rule 10: break-glass.
		"break-glass": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.BreakGlass = true; g.Requirements.Approvals = 0 })), evidence(),
			outcome{Outcome: grant.Approved},
		},
		"break-glass approval given anyway is recorded": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.BreakGlass = true; g.Requirements.Approvals = 0 })), evidence(approve("bob", 1)),
			outcome{Outcome: grant.Approved, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")}, Reviews: map[string][]string{"bob": nil}},
		},
		"break-glass is not blocked by changes requested": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.BreakGlass = true; g.Requirements.Approvals = 0 })),
			evidence(review("bob", grant.ReviewChangesRequested, headSHA, 1)),
			outcome{Outcome: grant.Approved, Reviews: map[string][]string{"bob": {"requested changes, which does not block: no grant needs approval"}}},
		},
		"break-glass with a normal grant needs the normal quorum": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.BreakGlass = true; g.Requirements.Approvals = 0 }), alicesStaging()),
			evidence(approve("erin", 1)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("erin", "@acme/sre")}, Reviews: map[string][]string{"erin": nil}},
		},
		"break-glass with a normal grant waits for it": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.BreakGlass = true; g.Requirements.Approvals = 0 }), alicesStaging()),
			evidence(approve("dave", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{"dave": {"not a code owner of access/staging/alice-1.yaml"}}, Reasons: []string{quorum1}},
		},
		"break-glass no policy allows needs approval": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.BreakGlass = true; g.Requirements = grant.Requirements{} })), evidence(),
			outcome{Outcome: grant.Pending, Required: 1, Reasons: []string{quorum1}},
		},
		"break-glass with approvals demanded needs them": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.BreakGlass = true; g.Requirements.Approvals = 2 })), evidence(approve("bob", 1)),
			outcome{Outcome: grant.Pending, Required: 2, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba")}, Reviews: map[string][]string{"bob": nil},
				Reasons: []string{"1 of 2 approvals from eligible reviewers"}},
		},

		// Rule 11: extensions and shortenings.
		"extension needs approval": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Kind = grant.Extended })), evidence(),
			outcome{Outcome: grant.Pending, Required: 1, Reasons: []string{quorum1}},
		},
		"extension approved by an owner": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Kind = grant.Extended; g.Requirements.Approvals = 2 })), evidence(approve("bob", 1), approve("dave", 2)),
			outcome{Outcome: grant.Approved, Required: 2, Approvals: []grant.Approval{approvedBy("bob", "@acme/dba"), approvedBy("dave", "@acme/dba")},
				Reviews: map[string][]string{"bob": nil, "dave": nil}},
		},
		"extension of a break-glass grant needs an approval": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Kind = grant.Extended; g.BreakGlass = true; g.Requirements.Approvals = 0 })), evidence(),
			outcome{Outcome: grant.Pending, Required: 1, Reasons: []string{quorum1}},
		},
		"shortening by its requester needs approval": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Kind = grant.Shortened })), evidence(approve("alice", 1)),
			outcome{Outcome: grant.Pending, Required: 1, Reviews: map[string][]string{
				"alice": {"is the requester of prod/db/alice-inc-1", "is the pull request author", "authored commit 3333333", "not a code owner of access/prod/db/alice-inc-1.yaml"},
			}, Reasons: []string{quorum1}},
		},
		"shortening approved by an owner": {
			changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.Kind = grant.Shortened })), evidence(approve("dave", 1)),
			outcome{Outcome: grant.Approved, Required: 1, Approvals: []grant.Approval{approvedBy("dave", "@acme/dba")}, Reviews: map[string][]string{"dave": nil}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d := grant.Decide(tt.change, tt.ev, decideNow)
			if diff := cmp.Diff(tt.want, summarize(d)); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecideVerdicts checks a whole Decision: verdict order, the deciding
// review's state and commit, and Counted.
func TestDecideVerdicts(t *testing.T) {
	ev := evidence(
		review("erin", grant.ReviewCommented, olderSHA, 1),
		approve("bob", 2),
		review("bob", grant.ReviewCommented, olderSHA, 3),
		review("Carol", grant.ReviewChangesRequested, olderSHA, 4),
		approve("dave", 5),
		review("dave", "dismissed", headSHA, 6),
	)
	got := grant.Decide(changeOf(alicesProd()), ev, decideNow)
	want := grant.Decision{
		Outcome:   grant.Approved,
		Required:  1,
		Approvals: []grant.Approval{{Login: "bob", Via: []string{"@acme/dba"}}},
		Reviews: []grant.ReviewVerdict{
			{Reviewer: "bob", State: grant.ReviewApproved, Commit: headSHA, Counted: true},
			{Reviewer: "Carol", State: grant.ReviewChangesRequested, Commit: olderSHA,
				Reasons: []string{"requested changes, which does not block: they are not eligible", "not a code owner of access/prod/db/alice-inc-1.yaml"}},
			{Reviewer: "dave", State: grant.ReviewDismissed, Commit: headSHA, Reasons: []string{"review dismissed; a dismissed review counts as no opinion"}},
			{Reviewer: "erin", State: grant.ReviewCommented, Commit: olderSHA, Reasons: []string{"only commented; comments neither approve nor block"}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decide (-want +got):\n%s", diff)
	}
}

func TestDecisionTrailers(t *testing.T) {
	prodOrSRE := with(alicesProd(), func(g *grant.GrantChange) { g.Owners = []string{"@Zed", "@acme/dba"}; g.Requirements.Approvals = 2 })
	tests := map[string]struct {
		change   grant.Change
		ev       grant.Evidence
		by       []string
		eligible []grant.Eligible
	}{
		"approved": {
			changeOf(prodOrSRE, alicesStaging()),
			edited(func(ev *grant.Evidence) {
				ev.Teams["@acme/sre"] = append(ev.Teams["@acme/sre"], "zed")
				ev.Permissions["zed"] = grant.PermissionAdmin
			}, approve("zed", 1), approve("bob", 2)),
			[]string{"bob", "zed"},
			[]grant.Eligible{{"bob", "@acme/dba"}, {"bob", "@acme/sre"}, {"zed", "@Zed"}, {"zed", "@acme/sre"}},
		},
		"pending names nobody":       {changeOf(prodOrSRE), evidence(approve("bob", 1)), nil, nil},
		"rejected names nobody":      {grant.Change{Grants: []grant.GrantChange{alicesProd()}, Problems: []grant.Problem{{Message: "bad"}}}, evidence(approve("bob", 1)), nil, nil},
		"break-glass names nobody":   {changeOf(with(alicesProd(), func(g *grant.GrantChange) { g.BreakGlass = true; g.Requirements.Approvals = 0 })), evidence(), nil, nil},
		"self-deletion names nobody": {changeOf(with(ginasProd(), func(g *grant.GrantChange) { g.Requester = "alice" })), evidence(), nil, nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d := grant.Decide(tt.change, tt.ev, decideNow)
			if diff := cmp.Diff(tt.by, d.ApprovedBy()); diff != "" {
				t.Errorf("ApprovedBy (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.eligible, d.EligibleVia()); diff != "" {
				t.Errorf("EligibleVia (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[grant.Outcome]string{grant.Pending: "pending", grant.Approved: "approved", grant.Rejected: "rejected"} {
		if got := o.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", o, got, want)
		}
	}
}

// TestDecideDeterministic shuffles every slice of the evidence and the
// grants, and changes the clock: the decision must not change.
func TestDecideDeterministic(t *testing.T) {
	change := changeOf(alicesStaging(), ginasProd(), with(alicesProd(), func(g *grant.GrantChange) {
		g.Requirements.Approvals = 2
		g.Requirements.ApproverSets = [][]string{{"@acme/dba", "@erin"}}
	}))
	ev := evidence(
		approve("bob", 1), approve("dave", 2), review("erin", grant.ReviewChangesRequested, olderSHA, 3),
		approve("frank", 4), review("carol", grant.ReviewCommented, headSHA, 5), approve("Zed", 6), approve("mallory", 7),
	)
	ev.Teams["@acme/dba"] = append(ev.Teams["@acme/dba"], "Zed", "mallory")
	ev.Teams["@acme/sre"] = append(ev.Teams["@acme/sre"], "zed", "dave")
	ev.Permissions["zed"] = grant.PermissionWrite
	ev.Commits = append(ev.Commits, grant.Commit{SHA: commit2, Author: "alice", Committer: "alice", CoAuthors: []string{"mallory"}})
	want := grant.Decide(change, ev, decideNow)
	if len(want.Approvals) != 3 || len(want.Reviews) != 7 {
		t.Fatalf("fixture: want 3 approvals among 7 reviewers, got %+v", want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 50 {
		c, e := change, ev
		c.Grants = slices.Clone(c.Grants)
		e.Reviews = slices.Clone(e.Reviews)
		rng.Shuffle(len(c.Grants), func(a, b int) { c.Grants[a], c.Grants[b] = c.Grants[b], c.Grants[a] })
		rng.Shuffle(len(e.Reviews), func(a, b int) { e.Reviews[a], e.Reviews[b] = e.Reviews[b], e.Reviews[a] })
		e.Teams = map[string][]string{}
		for k, v := range ev.Teams {
			v = slices.Clone(v)
			rng.Shuffle(len(v), func(a, b int) { v[a], v[b] = v[b], v[a] })
			e.Teams[k] = v
		}
		got := grant.Decide(c, e, decideNow.Add(time.Duration(i)*time.Hour))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("shuffle %d changed the decision (-first +now):\n%s", i, diff)
		}
	}
}

// TestDecideTiedReviews is a regression test: two reviews equal but for the
// case of their state ("approved" from a webhook, "APPROVED" from REST)
// were once ordered by input order, so the verdict's state flipped.
func TestDecideTiedReviews(t *testing.T) {
	a := grant.Review{ID: 7, Reviewer: "dave", State: "approved", SubmittedAt: decideNow}
	b := a
	b.State = grant.ReviewApproved
	first := grant.Decide(changeOf(alicesProd()), evidence(a, b), decideNow)
	second := grant.Decide(changeOf(alicesProd()), evidence(b, a), decideNow)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("the order of tied reviews changed the decision (-a,b +b,a):\n%s", diff)
	}
	if got := first.Reviews[0].State; got != grant.ReviewApproved {
		t.Errorf("verdict state = %q, want it upper-cased to %q", got, grant.ReviewApproved)
	}
}
