package grant

import "time"

// Request is one parsed grant file: who asks for what, for how long and why.
// A Request is only produced by a parser that checked every field, so its
// values are well formed (but not yet checked against policy or template).
type Request struct {
	// ID is the grant's identity, unique forever: the file's path below
	// access/ without the .yaml extension, e.g. "prod/db/alice-inc-1234".
	ID string
	// File is the repository-relative path, e.g. "access/prod/db/alice-inc-1234.yaml".
	File string
	// Template names the directory under templates/ that provisions the grant.
	Template string
	// Requester is the GitHub login the access is for.
	Requester string
	// Duration is how long access lasts, counted from the merge.
	Duration time.Duration
	// Reason is the requester's free-text justification.
	Reason string
	// Ticket is an optional ticket reference; policies may require a pattern.
	Ticket string
	// BreakGlass asks for emergency access without prior approval, within the
	// limits of the matching policies' break_glass blocks.
	BreakGlass bool
	// Target optionally names the target (declared by the operator, allowed
	// by the matching policies) the template is applied to; see
	// ResolveTarget for what an empty one means.
	Target string
	// Scope holds the template's own input values as decoded from YAML:
	// string, int64, float64, bool, []any or map[string]any.
	Scope map[string]any
	// Pos gives the position of each top-level field ("template", "scope",
	// "scope.database", ...) so that problems can point at the right line.
	Pos map[string]Pos
	// Invalid names the fields ("duration", "scope.database", ...) that a
	// lenient parse found missing or wrong, whose values here are zero. It
	// is nil in every complete Request and non-nil (possibly empty) in a
	// partial one: only a Request that already failed validation has it, so that later checks report their own problems
	// without repeating the parser's (CheckPolicies skips what depends on
	// an invalid field).
	Invalid map[string]bool
}

// Bad reports whether field was missing or wrong (see Invalid).
func (r Request) Bad(field string) bool { return r.Invalid[field] }

// Position returns where field was written in the grant file, or the
// beginning of the file when the field is absent.
func (r Request) Position(field string) Pos {
	if p, ok := r.Pos[field]; ok {
		return p
	}
	return Pos{Line: 1, Column: 1}
}

// ReservedInputs are the template input variables the controller itself
// supplies; a grant's scope may not set them.
var ReservedInputs = []string{"grant_id", "requester", "expires_at", "password_verifier"}

// IsReservedInput reports whether name is supplied by the controller.
func IsReservedInput(name string) bool {
	for _, r := range ReservedInputs {
		if r == name {
			return true
		}
	}
	return false
}
