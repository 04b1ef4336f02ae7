// Package validate is the shell behind `jit validate`: it gathers grant
// files, governing files (policies, templates, CODEOWNERS, .gitattributes)
// and git history, runs the pure checks (package change and those it
// builds on), and returns one Report.
//
// Two modes:
//   - Tree lints every grant in a file tree against that tree's own
//     governing files.
//   - Change validates what a pull request changes between its merge base
//     and its head. Governing files and the grant ids that ever existed are
//     always read from the default branch's tip, never from the pull
//     request or the branch it targets (a pull request cannot loosen the
//     rules that judge it), and a pull request that changes access/ must
//     target the default branch.
package validate
