// Package desired is the one desired-state reader: it says which grants
// should exist at a revision of the default branch, and why each other grant
// file there is not applied. jit apply, jit reconcile, jit expire and the App
// all provision from it, so nothing unsigned is ever applied, not even
// locally.
//
// A grant is returned only when the commit that brought its file's current
// content in, along the branch's first-parent history, is a merge whose
// signed Jit-* trailers (package trailer, verified with the key that
// .github/jit-signers held at the merge's first parent) name the grant, whose
// Jit-Head is the merge's second parent, and whose head holds the file with
// the same content. Its expiry is the signed Jit-Expires-At, which must be no
// later than the merge's committer time plus the strictest max_duration of
// the policies at the merge's first parent. A decision is used once: a merge
// whose approved head was already on the branch is a replay, and a merge
// that adds an id the branch had before is a resurrection. Everything else is
// an Anomaly, returned as a value.
//
// The package reads git only through the small Repo interface, which
// controller/history implements.
package desired
