package contract

import (
	"fmt"
	"sort"
	"strings"
)

// sortViolations orders vs by pointer, keeping the validator's order for
// equal pointers, so that messages do not change from run to run.
func sortViolations(vs []Violation) []Violation {
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Pointer < vs[j].Pointer })
	return vs
}

// Violation is one way a document breaks GitHub's schema.
type Violation struct {
	// Pointer is the JSON pointer (RFC 6901) of the offending value in the
	// body, "" for the whole body.
	Pointer string
	// Msg says what is wrong there.
	Msg string
}

// Error reports every schema violation of one response or payload. Subject
// names what was checked, such as "GET /api/v3/repos/o/r/pulls/1 answered 200"
// or "webhook pull_request.opened".
type Error struct {
	Subject    string
	Violations []Violation
}

// Error lists every violation with its JSON pointer.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: does not match GitHub's schema", e.Subject)
	for i, v := range e.Violations {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		ptr := v.Pointer
		if ptr == "" {
			ptr = "/"
		}
		fmt.Fprintf(&b, "%sat %s: %s", sep, ptr, v.Msg)
	}
	return b.String()
}

// pointer builds a JSON pointer from unescaped reference tokens.
func pointer(tokens []string) string {
	if len(tokens) == 0 {
		return ""
	}
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return b.String()
}
