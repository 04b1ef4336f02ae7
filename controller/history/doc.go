// Package history reads the access repository's git history: revisions
// resolved as git resolves them, commits, trees of any commit as an fs.FS,
// the changes between two commits, merge bases and ancestry, and walks along
// the first-parent history of a branch (which commit introduced each grant
// file, every grant id that ever existed, every grant file each commit
// changed).
//
// It is the only package that imports go-git, and no go-git type crosses its
// API: commits, trees and blobs are named by full 40-hex hashes (strings),
// and modes by Mode. Functions taking a hash want a full lower-case 40-hex
// commit hash; turn a user's revision into one with Resolve first.
//
// Walks follow first parents: on the default branch those are the commits
// that landed there (merges of pull requests, the controller's own commits),
// not the commits of the branches merged in. Walks take a context and stop,
// returning its error, when it is cancelled.
package history
