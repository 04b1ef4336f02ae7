// Package hcldiag converts hcl/v2 diagnostics into grant problems, keeping
// the file, line and column of each, so that policy and template errors point
// where a person must look.
package hcldiag

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/jitops/jit/controller/grant"
)

// Problems returns one problem per error-severity diagnostic. A diagnostic
// without a subject gets file with an unknown (0) position.
func Problems(file string, diags hcl.Diagnostics) []grant.Problem {
	var out []grant.Problem
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		p := grant.Problem{File: file, Message: d.Summary}
		if d.Detail != "" {
			p.Message += ": " + d.Detail
		}
		if d.Subject != nil {
			p.File, p.Line, p.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		out = append(out, p)
	}
	return out
}

// Pos returns the start of r as a grant position.
func Pos(r hcl.Range) grant.Pos { return grant.Pos{Line: r.Start.Line, Column: r.Start.Column} }
