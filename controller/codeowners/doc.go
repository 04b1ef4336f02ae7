// Package codeowners reads GitHub CODEOWNERS files and answers "who owns this
// path", holding to GitHub's documented rules ("About code owners",
// docs.github.com):
//
//   - Location: .github/CODEOWNERS, then CODEOWNERS, then docs/CODEOWNERS; the
//     first one found is used and files are never merged ([Find]).
//   - Size: a file of 3 MB or more is not loaded at all ([MaxSize]).
//   - Syntax: one pattern per line followed by its owners (@user, @org/team or
//     an email address), blank lines and # comments; all owners of a pattern are
//     on one line; the last matching line wins; a line without owners un-owns.
//   - Patterns: gitignore rules, except that ! negation, [ ] ranges and \#
//     escaping do not work; GitHub reports an unescaped [ or ] as an invalid
//     pattern, and \[ \] match brackets literally. Where GitHub is silent and
//     tools disagree (an escaped slash, a path segment of three or more
//     asterisks), the line is an error, so that callers fail closed.
//   - Errors: a line with invalid syntax is skipped and the others still
//     apply. [File.Err] reports every such line so that callers can fail closed.
//
// The package is pure: it imports only the standard library, performs no I/O
// except through the function given to [Find], and reads no clock. A parsed
// [File] is immutable and safe for concurrent use. Matching is indexed so that
// a path is tested against few rules even when the file has many thousands.
//
// It sits beside controller/grant in the decision core: the validate and
// owners commands, and the reconcile shell, read CODEOWNERS bytes from the
// base revision and hand them to [Parse].
package codeowners
