package explain

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
)

// codeSpans matches the single-backtick code spans code writes.
var codeSpans = regexp.MustCompile("`[^`\n]*`")

// FuzzTexts feeds arbitrary strings into every outside value of Comment,
// Approval, Validate and Status: they never panic, the comment starts with
// the marker, the Markdown stays within GitHub's limits and carries no raw
// HTML or mention of what was fed, and the terminal text no escape.
func FuzzTexts(f *testing.F) {
	f.Add("Investigate stuck orders", "INC-1234", "alice", "bob", "orders", "access/prod/db/a.yaml", "@acme/dba")
	f.Add("<script>@x</script>", "`|`", "@acme/all", "b|<o>", "\x1b[2J", "a\nb.yaml", "@x`y")
	f.Add(strings.Repeat("é", 3000), "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, reason, ticket, requester, reviewer, scope, path, owner string) {
		s := change.Summary{ID: "prod/" + requester, File: path, Template: scope, Requester: requester, DurationSeconds: 3600,
			Reason: reason, Ticket: ticket, Scope: map[string]any{scope: reason, "n": 1}, Change: "added", Policies: []string{owner},
			ApprovalsRequired: 1, EligibleApprovers: []string{owner}, PolicyApprovers: [][]string{{owner, reviewer}}}
		grants := []change.Summary{s, edit(s, func(s *change.Summary) { s.Change, s.BreakGlass = "deleted", true })}
		problems := []grant.Problem{{File: path, Line: len(reason) % 5, Column: len(ticket) % 3, Message: reason + ticket}}
		c := changeFor(grants...)
		d := grant.Decide(c, evidence(review(reviewer, grant.ReviewState(ticket), head, 1), approve(requester, 2), approve("bob", 3)), now)
		pr := PullRequest{Number: 7, Author: reviewer, HeadSHA: head, URL: reason, BaseRef: ticket, DefaultBranch: scope}

		comment := Comment(pr, grants, problems)
		if !strings.HasPrefix(comment, CommentMarker+"\n") {
			t.Fatalf("comment does not start with the marker: %q", comment[:min(len(comment), 80)])
		}
		for _, md := range []string{comment, Approval(pr, grants, c, d).Summary, Validate(pr, problems, grants).Summary, Validate(pr, nil, grants).Summary} {
			if len(md) > MaxOutput || !utf8.ValidString(md) {
				t.Fatalf("Markdown of %d bytes, or invalid UTF-8", len(md))
			}
			// Outside code spans: no HTML but jit's own, no mention.
			rest := codeSpans.ReplaceAllString(strings.NewReplacer(CommentMarker, "", "<br>", "", "\\`", "").Replace(md), "")
			if strings.ContainsAny(rest, "<>") || loginAfterAt.MatchString(rest) {
				t.Fatalf("Markdown carries raw HTML or a mention outside code spans:\n%s", md)
			}
		}
		for _, ch := range []Check{Validate(pr, problems, grants), Approval(pr, grants, c, d)} {
			if len(ch.Title) > MaxTitle || strings.ContainsAny(ch.Title, "\n\x1b") {
				t.Fatalf("title %q is too long or not one plain line", ch.Title)
			}
		}
		for _, st := range []string{Status(pr, problems, grants, c, d), Status(pr, problems, grants, c, grant.Decision{})} {
			if strings.ContainsAny(st, "\x1b\r\u009b\u202e") {
				t.Fatalf("status carries an escape: %q", st)
			}
		}
	})
}
