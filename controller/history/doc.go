// Package history reads the access repository's git history with go-git:
// trees of any revision as an fs.FS, the changes a pull request makes, which
// commit introduced each grant file, and every grant id that ever existed on
// a branch. It is the only package that imports go-git.
//
// Walks follow first parents from the given revision: on the default branch
// those are the commits that landed there (merges of pull requests, the
// controller's own commits), not the commits of the branches merged in.
package history
