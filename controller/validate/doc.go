// Package validate is the shell behind `jit validate`: it gathers grant
// files, governing files (policies, templates, CODEOWNERS) and git history,
// runs the pure checks of packages grant, request, policy, template and
// codeowners, and returns one Report.
//
// Two modes:
//   - Tree lints every grant in a file tree against that tree's own
//     governing files.
//   - Change validates what a pull request changes between a base and a head
//     revision, with governing files always read from the base (a pull
//     request cannot loosen the rules that judge it), the change rules of
//     DESIGN.md "Approval rules", and the history of the base branch.
package validate
