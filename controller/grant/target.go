package grant

import (
	"slices"
	"strings"
)

// ResolveTarget returns the named target a grant's template is applied to,
// judged by the policies matching its file:
//
//   - when no matching policy declares targets, the grant has no target ("")
//     and is applied with the controller's own environment; a grant naming
//     a target there is refused, since no policy allows one;
//   - otherwise a policy that declares targets allows only those, and a
//     policy that declares none does not restrict the choice. A grant's
//     target: must be allowed by every declaring policy; a grant that names
//     none gets the one target they all allow, and is refused when they
//     allow none in common or several (it must say which).
//
// Problems point at the grant's target: line (or the top of the file when
// it has none) and name the policies involved. The target is "" whenever
// there are problems.
func ResolveTarget(req Request, policies []Policy) (string, []Problem) {
	var declaring []Policy
	for _, p := range Applicable(policies, req.File) {
		if len(p.Targets) > 0 {
			declaring = append(declaring, p)
		}
	}
	at := func(format string, args ...any) (string, []Problem) {
		return "", []Problem{At(req.File, req.Position("target"), format, args...)}
	}
	if len(declaring) == 0 {
		if req.Target != "" {
			return at("target %s is not allowed: no policy covering %s declares targets, so its grants use the controller's own connection settings; remove target:", req.Target, req.File)
		}
		return "", nil
	}
	if req.Target != "" {
		var problems []Problem
		for _, p := range declaring {
			if !slices.Contains(p.Targets, req.Target) {
				problems = append(problems, At(req.File, req.Position("target"), "target %s is not allowed by policy %s (%s), which covers this path and allows only %s",
					req.Target, p.Name, p.Where(), strings.Join(p.Targets, ", ")))
			}
		}
		if len(problems) > 0 {
			return "", problems
		}
		return req.Target, nil
	}
	common := slices.Clone(declaring[0].Targets)
	for _, p := range declaring[1:] {
		common = slices.DeleteFunc(common, func(t string) bool { return !slices.Contains(p.Targets, t) })
	}
	slices.Sort(common)
	common = slices.Compact(common)
	switch len(common) {
	case 1:
		return common[0], nil
	case 0:
		return at("no target is allowed by every policy covering this path (%s); ask for policies that share a target", policyList(declaring))
	default:
		return at("the policies covering this path (%s) allow targets %s; add target: naming one of them", policyList(declaring), strings.Join(common, ", "))
	}
}

func policyList(ps []Policy) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Name + " at " + p.Where()
	}
	return strings.Join(s, ", ")
}
