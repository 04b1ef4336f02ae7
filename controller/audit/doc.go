// Package audit rebuilds every grant's story from the access repository's
// git history alone: who asked for what, why, approved by whom under which
// policy, when it was activated and revoked, and every gap in that record
// (the audit trail contract). It reads the default branch's first-parent
// history once, oldest commit first, and trusts a Jit-* record only when its
// signature verifies with the .github/jit-signers the branch held at the
// record's first parent; anything else is an Anomaly, never an error.
//
// Signatures are parsed and verified on every core while the history is
// walked, and so are the grant files, what each merge's approved head
// holds and the key of the governing files at its first parent; the
// governing files are parsed once per distinct content, and Options.Cache
// lets a later read skip the signatures it verified before:
// BenchmarkAuditAtScale measures a 20,000-grant history against git log.
package audit
