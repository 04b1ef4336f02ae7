// Package template discovers the interface of a grant template (a terraform
// root module under templates/<name>/) by parsing its *.tf and *.tf.json
// files with hcl/v2, once: its inputs, and the resources, module calls and
// outputs the controller needs to know about. It checks a grant's scope
// against the inputs: unknown inputs, missing required inputs, wrong types
// and, where the template's own validation rules can be evaluated without
// terraform, values those rules would reject.
//
// It is pure: it reads only the fs.FS it is given and never runs terraform.
// Terraform remains the final authority at apply time; this package reports
// problems early, at the grant file's line, while the pull request is open.
package template
