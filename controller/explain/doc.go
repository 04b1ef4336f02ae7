// Package explain holds every word jit shows about a pull request: the
// jit/validate and jit/approval check runs, the sticky comment for
// approvers, and the terminal text of `jit status`. It is pure: values in,
// text out, no clock, no I/O, so that each wording is table-tested.
//
// Everything a grant file or a login carries is attacker-controlled. In
// Markdown it goes through one escaping helper, so that it cannot inject
// HTML, break a table, mention people or teams, or make links; in terminal
// text it loses its control characters and escape sequences.
package explain
