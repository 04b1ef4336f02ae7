package grant_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/grant"
)

// fuzzBytes turns fuzz input into choices; past its end every choice is 0.
type fuzzBytes []byte

func (b *fuzzBytes) pick(n int) int {
	if len(*b) == 0 || n <= 0 {
		return 0
	}
	v := int((*b)[0]) % n
	*b = (*b)[1:]
	return v
}

func choose[T any](b *fuzzBytes, from []T) T { return from[b.pick(len(from))] }

var (
	fuzzLogins = []string{"alice", "Alice", "bob", "BOB", "carol", "dave", "erin", "mallory", ""}
	fuzzOwners = []string{"@acme/dba", "@Bob", "@carol", "@alice", "@ACME/DBA", "@acme/sre", "dave@acme.test", "@acme/ghosts"}
	fuzzTeams  = []string{"@acme/dba", "@Acme/Dba", "@acme/sre"}
	fuzzSHAs   = []string{headSHA, olderSHA, ""}
	fuzzStates = []grant.ReviewState{grant.ReviewApproved, grant.ReviewChangesRequested, grant.ReviewCommented, grant.ReviewDismissed, grant.ReviewPending, "approved", "dismissed", "BOGUS"}
	// Write first and twice: most reviewers may approve, so that the
	// fuzzer reaches the rules past the permission check.
	fuzzPerms = []grant.Permission{grant.PermissionWrite, grant.PermissionWrite, grant.PermissionMaintain, grant.PermissionAdmin,
		grant.PermissionNone, grant.PermissionRead, grant.PermissionTriage, "push"}
	fuzzKinds   = []grant.ChangeKind{grant.Added, grant.Added, grant.Extended, grant.Shortened, grant.Deleted, grant.Deleted, "bogus"}
	fuzzFiles   = []string{"access/prod/a.yaml", "access/prod/b.yaml", "access/staging/c.yaml", "access/d.yaml"}
	fuzzEntries = []string{"@acme/sre", "@dave", "@Carol", "@acme/dba"}
)

// fuzzCase builds a pull request from fuzz input.
func fuzzCase(data []byte) (grant.Change, grant.Evidence) {
	b := fuzzBytes(data)
	var c grant.Change
	for i := range b.pick(4) {
		g := grant.GrantChange{ID: "g" + string(rune('0'+i)), File: choose(&b, fuzzFiles), Kind: choose(&b, fuzzKinds),
			Requester: choose(&b, fuzzLogins), BreakGlass: b.pick(3) == 0}
		if b.pick(4) > 0 {
			g.Requirements.Policies = []string{"p"}
		}
		g.Requirements.Approvals = b.pick(4)
		for range b.pick(3) {
			var set []string
			for range 1 + b.pick(2) {
				set = append(set, choose(&b, fuzzEntries))
			}
			g.Requirements.ApproverSets = append(g.Requirements.ApproverSets, set)
		}
		g.Owners = []string{choose(&b, fuzzOwners)}
		for range b.pick(3) {
			g.Owners = append(g.Owners, choose(&b, fuzzOwners))
		}
		c.Grants = append(c.Grants, g)
	}
	if b.pick(8) == 0 {
		c.Problems = []grant.Problem{{File: "access/prod/a.yaml", Line: 1, Column: 1, Message: "bad"}}
	}
	ev := grant.Evidence{Author: choose(&b, fuzzLogins), BaseSHA: olderSHA, HeadSHA: choose(&b, fuzzSHAs),
		Teams:       map[string][]string{"@acme/dba": {"bob", "dave", "carol"}, "@acme/sre": {"bob", "erin"}},
		Permissions: map[string]grant.Permission{}}
	for _, l := range fuzzLogins {
		if b.pick(8) > 0 {
			ev.Permissions[l] = choose(&b, fuzzPerms)
		}
	}
	for i := range b.pick(4) {
		cm := grant.Commit{SHA: choose(&b, fuzzSHAs) + string(rune('a'+i)), Author: choose(&b, fuzzLogins), Committer: choose(&b, fuzzLogins)}
		for range b.pick(2) {
			cm.CoAuthors = append(cm.CoAuthors, choose(&b, fuzzLogins))
		}
		ev.Commits = append(ev.Commits, cm)
	}
	for range 1 + b.pick(8) {
		ev.Reviews = append(ev.Reviews, grant.Review{ID: int64(b.pick(4)), Reviewer: choose(&b, fuzzLogins), State: choose(&b, fuzzStates),
			CommitSHA: choose(&b, fuzzSHAs), SubmittedAt: decideNow.Add(time.Duration(b.pick(4)) * time.Minute)})
	}
	for range b.pick(5) {
		team := choose(&b, fuzzTeams)
		ev.Teams[team] = append(ev.Teams[team], choose(&b, fuzzLogins))
	}
	return c, ev
}

// FuzzDecide checks that Decide never panics, is deterministic, and never
// lets an approval count, or a pull request be approved, against a rule.
// The checks below restate the rules naively, independently of decide.go.
func FuzzDecide(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 3, 0, 0, 0, 1, 2, 1, 0, 1, 0, 1, 5, 2, 0, 0, 0, 1, 2, 3, 4, 0, 0, 2, 3, 2, 2, 4, 2, 1, 0})
	f.Add([]byte{2, 4, 4, 6, 2, 1, 1, 1, 3, 2, 5, 1, 0, 2, 3, 2, 1, 1, 1, 0, 1, 3, 7, 1, 0, 0, 0, 2, 2, 3, 0, 4, 2, 2, 1, 0, 3, 3, 3})
	f.Add([]byte("the quick brown fox jumps over the lazy dog, twice: the quick brown fox jumps over the lazy dog"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, ev := fuzzCase(data)
		d := grant.Decide(c, ev, decideNow)

		reversed := ev
		reversed.Reviews = slices.Clone(ev.Reviews)
		slices.Reverse(reversed.Reviews)
		if diff := cmp.Diff(d, grant.Decide(c, reversed, decideNow)); diff != "" {
			t.Fatalf("the order of reviews changed the decision (-in order +reversed):\n%s", diff)
		}
		if len(c.Problems) > 0 || len(c.Grants) == 0 {
			if d.Outcome != grant.Rejected || len(d.Approvals) > 0 {
				t.Fatalf("a change with problems or no grants must be rejected with no approvals, got %+v", d)
			}
			return
		}
		for _, a := range d.Approvals {
			checkCounted(t, c, ev, a.Login)
		}
		if d.Outcome != grant.Approved {
			if d.ApprovedBy() != nil || d.EligibleVia() != nil {
				t.Fatalf("an undecided pull request names approvers for trailers: %+v", d)
			}
			return
		}
		if ev.Author == "" {
			t.Fatalf("approved with an unknown author: %+v", d)
		}
		if len(d.Approvals) < d.Required {
			t.Fatalf("approved with %d of %d approvals", len(d.Approvals), d.Required)
		}
		for _, g := range c.Grants {
			exempt := g.Kind == grant.Added && g.BreakGlass && g.Requirements.Approvals == 0 && len(g.Requirements.Policies) > 0
			if g.Kind == grant.Deleted {
				exempt = strings.EqualFold(g.Requester, ev.Author) || (owns(ev, g.Owners, ev.Author) && canWrite(ev, ev.Author))
			}
			if exempt {
				continue
			}
			if d.Required < max(1, g.Requirements.Approvals) {
				t.Fatalf("approved needing %d approvals, but %s (%s) needs %d", d.Required, g.ID, g.Kind, max(1, g.Requirements.Approvals))
			}
			for _, a := range d.Approvals {
				if !owns(ev, g.Owners, a.Login) {
					t.Fatalf("approved %s with an approval by %s, who does not own %s", g.ID, a.Login, g.File)
				}
			}
		}
		if d.Required > 0 {
			for _, cm := range ev.Commits {
				if cm.Author == "" || cm.Committer == "" || slices.Contains(cm.CoAuthors, "") {
					t.Fatalf("approved with commit %s whose people GitHub could not link", cm.SHA)
				}
			}
		}
	})
}

// checkCounted fails t unless login's approval may count by the rules.
func checkCounted(t *testing.T, c grant.Change, ev grant.Evidence, login string) {
	t.Helper()
	if ev.HeadSHA == "" {
		t.Fatalf("%s counted with no head SHA", login)
	}
	// The latest opinionated reviews: every one at the latest (time, ID)
	// must be an approval on the head.
	var latest []grant.Review
	for _, r := range ev.Reviews {
		s := strings.ToUpper(string(r.State))
		if !strings.EqualFold(r.Reviewer, login) || s == "COMMENTED" || s == "PENDING" {
			continue
		}
		if len(latest) > 0 {
			if c := r.SubmittedAt.Compare(latest[0].SubmittedAt); c < 0 || (c == 0 && r.ID < latest[0].ID) {
				continue
			} else if c > 0 || r.ID > latest[0].ID {
				latest = nil
			}
		}
		latest = append(latest, r)
	}
	if len(latest) == 0 {
		t.Fatalf("%s counted without an opinionated review", login)
	}
	onHead := false
	for _, r := range latest {
		if !strings.EqualFold(string(r.State), "APPROVED") {
			t.Fatalf("%s counted but their latest review is %s", login, r.State)
		}
		onHead = onHead || r.CommitSHA == ev.HeadSHA
	}
	if !onHead {
		t.Fatalf("%s counted but approved %s, not the head %s", login, latest[0].CommitSHA, ev.HeadSHA)
	}
	people := []string{ev.Author}
	for _, g := range c.Grants {
		people = append(people, g.Requester)
	}
	for _, cm := range ev.Commits {
		people = append(people, cm.Author, cm.Committer)
		people = append(people, cm.CoAuthors...)
	}
	if slices.ContainsFunc(people, func(p string) bool { return strings.EqualFold(p, login) }) {
		t.Fatalf("%s counted but requested, opened or wrote part of the pull request", login)
	}
	if !canWrite(ev, login) {
		t.Fatalf("%s counted without write access (%v)", login, ev.Permissions)
	}
}

// owns reports whether login is named by owners, directly or through a team.
func owns(ev grant.Evidence, owners []string, login string) bool {
	for _, o := range owners {
		if strings.EqualFold(o, "@"+login) {
			return true
		}
		for team, members := range ev.Teams {
			if strings.Contains(o, "/") && strings.EqualFold(team, o) &&
				slices.ContainsFunc(members, func(m string) bool { return strings.EqualFold(m, login) }) {
				return true
			}
		}
	}
	return false
}

// canWrite reports whether every spelling of login in the evidence has at
// least write permission, and there is one.
func canWrite(ev grant.Evidence, login string) bool {
	found := false
	for l, p := range ev.Permissions {
		if !strings.EqualFold(l, login) {
			continue
		}
		if p != grant.PermissionWrite && p != grant.PermissionMaintain && p != grant.PermissionAdmin {
			return false
		}
		found = true
	}
	return found
}
