// Package audit rebuilds every grant's story from the access repository's
// git history alone: who asked for what, why, approved by whom under which
// policy, when it was activated and revoked, and every gap in that record
// (the audit trail contract). It reads the default branch's first-parent
// history once, oldest commit first, and trusts a Jit-* record only when its
// signature verifies with the .github/jit-signers the branch held at the
// record's first parent; anything else is an Anomaly, never an error.
package audit
