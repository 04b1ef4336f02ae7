// Package change classifies what a pull request does to the access
// repository, from a plain snapshot of it: which grants it adds, extends,
// shortens or deletes, what the default branch's governing files require of
// each, who owns each, and everything that makes the pull request invalid.
// It is pure (no git, no network, no clock): package validate gathers the
// snapshot from git, and grant.Decide later decides on the grant.Change this
// returns.
//
// Nothing a pull request can change judges it: CODEOWNERS, policies,
// templates, .gitattributes and the ids that ever existed all come from the
// default branch, never from the pull request.
package change
