// Package template discovers the inputs of a grant template (a terraform root
// module under templates/<name>/) by parsing its *.tf files with hcl/v2, and
// checks a grant's scope against them: unknown inputs, missing required
// inputs, wrong types and, where the template's own validation rules can be
// evaluated without terraform, values those rules would reject.
//
// It is pure: it reads only the fs.FS it is given and never runs terraform.
// Terraform remains the final authority at apply time; this package reports
// problems early, at the grant file's line, while the pull request is open.
package template
