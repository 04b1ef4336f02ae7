package grant

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Policy governs the grants whose files match its paths. Policies come from
// policies/*.hcl on the base branch; see package policy for the syntax.
type Policy struct {
	// Name is unique across all policy files.
	Name string
	// File and Pos locate the policy block.
	File string
	Pos  Pos
	// Paths are globs over repository paths ("access/prod/**"): "*" and "?"
	// match within one path segment, "**" matches any number of segments.
	Paths []string
	// Templates lists the templates this policy allows. A template may only
	// be used under paths of a policy that names it. Empty means the policy
	// adds requirements without restricting templates.
	Templates []string
	// MaxDuration caps a grant's duration.
	MaxDuration time.Duration
	// Approvals is the number of distinct eligible approvals required.
	Approvals int
	// Approvers, when set, further restricts who may approve: an approval
	// counts only from someone who is a code owner of the grant file and
	// matches one of these (@user or @org/team).
	Approvers []string
	// Ticket, when set, requires a ticket matching the whole pattern.
	Ticket *regexp.Regexp
	// BreakGlass sets whether and how grants may skip prior approval.
	BreakGlass BreakGlass
	// Targets lists the named targets (declared by the operator outside
	// git) that grants under this policy may be applied to. Empty means the
	// policy does not restrict targets; see ResolveTarget.
	Targets []string
}

// BreakGlass describes emergency access under a policy.
type BreakGlass struct {
	Allowed bool
	// MaxDuration caps a break-glass grant's duration.
	MaxDuration time.Duration
	// ReviewWindow is how long after activation the post-hoc review may come.
	ReviewWindow time.Duration
}

// Where renders the policy's location, "policies/prod.hcl:1".
func (p Policy) Where() string { return fmt.Sprintf("%s:%d", p.File, p.Pos.Line) }

// Requirements are what every policy matching a grant demands together:
// the strictest value of each limit wins.
type Requirements struct {
	// Policies are the names of the matching policies, sorted.
	Policies []string
	// MaxDuration is the smallest max_duration (of break_glass.max_duration
	// for break-glass grants).
	MaxDuration time.Duration
	// Approvals is the largest approvals count (0 for break-glass grants,
	// which are reviewed after the fact).
	Approvals int
	// ApproverSets holds each matching policy's approvers list that is set;
	// an approver must match one entry of every set.
	ApproverSets [][]string
	// ReviewWindow is the shortest break-glass review window (break-glass only).
	ReviewWindow time.Duration
	// Target is the named target the grant is applied to (ResolveTarget);
	// "" when no matching policy declares targets.
	Target string
}

// Applicable returns the policies with a path glob matching file, in name order.
func Applicable(policies []Policy, file string) []Policy {
	var out []Policy
	for _, p := range policies {
		for _, g := range p.Paths {
			if MatchGlob(g, file) {
				out = append(out, p)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CheckPolicies applies every matching policy to req. It denies by default
// (no matching policy is a problem), requires that some matching policy
// names the grant's template and that no matching policy excludes it, and
// checks duration, ticket and break-glass limits. Problems point into the
// grant file and name the policy that set the limit. What depends on a field
// req marks Invalid is not checked (its problem is already reported).
func CheckPolicies(req Request, policies []Policy) (Requirements, []Problem) {
	var problems []Problem
	add := func(field, format string, args ...any) {
		problems = append(problems, At(req.File, req.Position(field), format, args...))
	}
	matching := Applicable(policies, req.File)
	if len(matching) == 0 {
		add("", "no policy covers %s, so it cannot be granted (default deny); put the grant under a path a policy in policies/ covers", req.File)
		return Requirements{}, problems
	}
	r := Requirements{MaxDuration: -1, ReviewWindow: -1}
	named := false
	for _, p := range matching {
		r.Policies = append(r.Policies, p.Name)
		if len(p.Templates) > 0 && !req.Bad("template") {
			if slices.Contains(p.Templates, req.Template) {
				named = true
			} else {
				add("template", "template %s is not allowed by policy %s (%s), which covers this path and allows only %s",
					req.Template, p.Name, p.Where(), strings.Join(p.Templates, ", "))
			}
		}
		limit := p.MaxDuration
		if req.BreakGlass {
			if !p.BreakGlass.Allowed {
				add("break_glass", "policy %s (%s) does not allow break-glass access; remove break_glass and ask for approval", p.Name, p.Where())
			}
			limit = p.BreakGlass.MaxDuration
			if r.ReviewWindow < 0 || p.BreakGlass.ReviewWindow < r.ReviewWindow {
				r.ReviewWindow = p.BreakGlass.ReviewWindow
			}
		}
		if r.MaxDuration < 0 || limit < r.MaxDuration {
			r.MaxDuration = limit
		}
		if req.Duration > limit && !req.Bad("duration") {
			kind := "max_duration"
			if req.BreakGlass {
				kind = "break_glass max_duration"
			}
			add("duration", "duration %s exceeds the %s of %s set by policy %s (%s)", FormatDuration(req.Duration), kind, FormatDuration(limit), p.Name, p.Where())
		}
		if p.Approvals > r.Approvals {
			r.Approvals = p.Approvals
		}
		if len(p.Approvers) > 0 {
			r.ApproverSets = append(r.ApproverSets, p.Approvers)
		}
		if p.Ticket != nil && !req.Bad("ticket") {
			switch {
			case req.Ticket == "":
				add("", "policy %s (%s) requires a ticket matching %s; add ticket: to the grant", p.Name, p.Where(), p.Ticket)
			case !fullMatch(p.Ticket, req.Ticket):
				add("ticket", "ticket %q does not match %s required by policy %s (%s)", req.Ticket, p.Ticket, p.Name, p.Where())
			}
		}
	}
	if !named && !req.Bad("template") {
		add("template", "template %s may not be used under %s: no policy covering this path names it in its templates", req.Template, req.File)
	}
	if req.BreakGlass {
		r.Approvals = 0
	}
	if !req.Bad("target") {
		target, ps := ResolveTarget(req, matching)
		r.Target = target
		problems = append(problems, ps...)
	}
	if r.ReviewWindow < 0 {
		r.ReviewWindow = 0
	}
	return r, problems
}

func fullMatch(re *regexp.Regexp, s string) bool {
	loc := re.FindStringIndex(s)
	return loc != nil && loc[0] == 0 && loc[1] == len(s)
}
