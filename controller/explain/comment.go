package explain

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jitops/jit/controller/change"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/internal/counted"
)

// Comment is the sticky comment for approvers. It starts with
// CommentMarker, then says for each grant who asks, what (template and
// scope), for how long (counted from the merge), why (reason and ticket),
// the kind of change, the covering policies and the approvals required;
// then who may approve: the code owners as CODEOWNERS wrote them, each
// policy's approvers list, and the rules every approver must meet. It
// reads no review and no decision, so it changes only when the grants or
// problems do. With problems it says the pull request is not valid yet and
// points at the jit/validate check. It is at most MaxOutput bytes.
func Comment(pr PullRequest, grants []change.Summary, problems []grant.Problem) string {
	blocks := []block{}
	if len(problems) > 0 {
		blocks = append(blocks, para(line{strong("This pull request is not valid yet:"),
			lit(" " + counted.N(len(problems), "problem", "problems") + "; the jit/validate check lists each one at its line. Fix them and push again before reviewing.")}))
	}
	switch {
	case len(grants) == 0 && len(problems) == 0:
		blocks = append(blocks, para(words("This pull request changes no grant file, so there is nothing to approve here.")))
	case len(grants) > 0:
		blocks = append(blocks, para(line{literal(pr.Author), lit(" opened this pull request. It changes " + counted.N(len(grants), "grant", "grants") +
			"; read each one below, then approve the current head if it is right. The jit/approval check says whether it may merge.")}))
	}
	for _, g := range grants {
		blocks = append(blocks, grantBlocks(pr, g)...)
	}
	if len(grants) > 0 {
		blocks = append(blocks, whoMayApprove(pr, grants)...)
	}
	body := CommentMarker + "\n## jit: the grants in this pull request\n\n" + markdown(blocks)
	return fit(body, MaxOutput, truncated(pr))
}

// grantBlocks describes one grant for approvers.
func grantBlocks(pr PullRequest, g change.Summary) []block {
	how := line{lit(duration(g.DurationSeconds) + ", counted from the merge")}
	if g.Change == string(grant.Deleted) {
		how = line{lit("access ends when this pull request merges (the grant was for " + duration(g.DurationSeconds) + ")")}
	}
	why := line{value(g.Reason)}
	if g.Reason == "" {
		why = line{lit("no reason given")}
	}
	if g.Ticket != "" {
		why = append(why, lit(" (ticket "), value(g.Ticket), lit(")"))
	}
	kind := line{lit(kindName(g.Change))}
	if g.BreakGlass {
		kind = append(kind, lit(", break-glass"))
	}
	policies := line{lit("none: no policy covers it (default deny)")}
	if len(g.Policies) > 0 {
		policies = list(g.Policies)
	}
	rows := [][]line{{words("template"), {literal(g.Template)}}}
	keys := make([]string, 0, len(g.Scope))
	for k := range g.Scope {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		rows = append(rows, []line{{lit("scope "), literal(k)}, {literal(scopeValue(g.Scope[k]))}})
	}
	return []block{
		heading(line{lit(capital(kindName(g.Change)) + ": "), literal(g.ID)}),
		bullets([]line{
			{strong("Who asks:"), lit(" "), literal(g.Requester), lit(" (file "), literal(g.File), lit(")")},
			append(line{strong("How long:"), lit(" ")}, how...),
			append(line{strong("Why:"), lit(" ")}, why...),
			append(line{strong("Change:"), lit(" ")}, kind...),
			append(line{strong("Policies:"), lit(" ")}, policies...),
			append(line{strong("Approvals required:"), lit(" ")}, approvalsRequired(pr, g)...),
		}),
		table([]string{"What", "Value"}, rows),
	}
}

// approvalsRequired says how many approvals g needs, by the rules of
// grant.Decide.
func approvalsRequired(pr PullRequest, g change.Summary) line {
	n := max(g.ApprovalsRequired, 1)
	switch {
	case g.Change == string(grant.Deleted) && grant.SameLogin(pr.Author, g.Requester):
		return line{lit("none: "), literal(pr.Author), lit(" deletes their own grant")}
	case g.Change == string(grant.Deleted):
		return line{lit(fmt.Sprintf("none when the author is a code owner of the file with write access; otherwise %d", n))}
	case g.BreakGlass && g.Change == string(grant.Added) && g.ApprovalsRequired == 0 && len(g.Policies) > 0:
		return line{lit("none before the merge (break-glass); an eligible review is due after it")}
	}
	return line{lit(fmt.Sprint(n))}
}

// whoMayApprove lists each grant's code owners and policy approvers, then
// the rules every approver must meet.
func whoMayApprove(pr PullRequest, grants []change.Summary) []block {
	var owners []line
	for _, g := range grants {
		l := line{literal(g.ID), lit(": a code owner of "), literal(g.File), lit(", one of ")}
		if len(g.EligibleApprovers) == 0 {
			l = line{literal(g.ID), lit(": nobody, CODEOWNERS names no owner of "), literal(g.File)}
		} else {
			l = append(l, list(g.EligibleApprovers)...)
		}
		for _, set := range g.PolicyApprovers {
			l = append(l, lit("; and also one of "))
			l = append(l, list(set)...)
		}
		owners = append(owners, l)
	}
	var requesters []string
	for _, g := range grants {
		if g.Requester != "" && !slices.ContainsFunc(requesters, func(r string) bool { return grant.SameLogin(r, g.Requester) }) {
			requesters = append(requesters, g.Requester)
		}
	}
	notThem := line{lit("is not a requester of a grant in this pull request")}
	if len(requesters) > 0 {
		notThem = append(notThem, lit(" ("))
		notThem = append(notThem, list(requesters)...)
		notThem = append(notThem, lit(")"))
	}
	notThem = append(notThem, lit(" nor its author"))
	if pr.Author != "" {
		notThem = append(notThem, lit(" ("), literal(pr.Author), lit(")"))
	}
	notThem = append(notThem, lit(","))
	return []block{
		heading(words("Who may approve")),
		para(words("Code owners are those of the default branch's CODEOWNERS, teams through their members:")),
		bullets(owners),
		para(words("An approval counts only from a reviewer who:")),
		bullets([]line{
			words("is a code owner of every grant file that needs approval, and matches each policy approvers list above,"),
			notThem,
			words("authored, committed or co-authored no commit of this pull request,"),
			words("has write, maintain or admin access to the repository."),
		}),
		para(words("An approval counts only on the current head: a push voids it, so approve again after each push. Only each reviewer's latest review counts, and changes requested by an eligible reviewer block the merge.")),
	}
}

// scopeValue renders a scope value: a string as written, anything else as
// JSON.
func scopeValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// capital upper-cases the first letter of one of jit's own words.
func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
