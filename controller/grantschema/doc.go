// Package grantschema generates the JSON Schema of grant files
// (grant.schema.json at the repository root), which editors running
// yaml-language-server use to check a grant file as it is typed: each
// example grant names it in a modeline,
//
//	# yaml-language-server: $schema=../../../grant.schema.json
//
// The schema is JSON Schema draft-07, the newest draft yaml-language-server
// fully supports (its validator, inherited from vscode-json-languageservice,
// implements draft-07; 2019-09 and 2020-12 are partial at best).
//
// It is generated, never written by hand: the top-level fields from
// grant.Request (a field of Request without a schema here fails the
// generation), and the scope of each template from its declared inputs
// (template.Load): name, type, default, description, and the validation
// rules that translate exactly into schema keywords (can(regex(...)),
// contains([...], var.x), comparisons with constants, floor(var.x) ==
// var.x, and conjunctions of these). A rule that does not translate is left
// out, so the schema may accept a file that jit validate rejects, never the
// reverse: it helps people type, jit validate and the App decide.
//
// Run `go generate ./controller/grantschema` after changing a template's
// inputs or the grant format; a test fails while the committed schema
// differs from a fresh generation.
//
// The package is pure: it reads only the fs.FS it is given.
package grantschema
