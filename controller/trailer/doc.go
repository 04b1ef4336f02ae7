// Package trailer writes, parses, signs and verifies the Jit-* git trailers
// that make the access repository's history its own audit trail.
//
// Every event of a grant's life is a commit on the default branch whose
// message ends with a block of Jit-* trailers (see the audit trail contract of
// the product design): the App writes them into the merge commits of request,
// extension and expiry pull requests ([Decision], [Event] of kind
// [Expire]) and into its own empty controller commits ([Event]); the
// desired-state reader and `jit audit` read them back. Callers never assemble
// trailers by hand: they fill a [Decision] or an [Event], call Trailers, [Sign]
// the result and append [Format] of it to the message; readers [Parse] the
// message, [Verify] the signature and call [DecisionFrom] or [EventFrom].
//
// The rules, in one place:
//
//   - Trailer block (Parse): git's rule as `git log --format=%(trailers)`
//     applies it, made strict. The block is the final paragraph of the message
//     (the last run of non-blank lines; a blank line holds only spaces, tabs
//     and carriage returns, as git reads it; a "---" line is ordinary text, as
//     it is for git log). It is a Jit block when one of its lines starts with
//     "Jit-" after any indentation, or has a Jit key in another case before a
//     colon ("JIT-GRANT:"); otherwise the message has no Jit trailers (a pull
//     request title such as "jit-signers: rotate the key" is not one). Every
//     line of a Jit block must be exactly "Key: value": a known Jit-* key
//     spelled as jit writes it, one colon, one space, and a value that is
//     valid UTF-8, at most [MaxValueLen] bytes, neither starting nor ending
//     with white space and free of control, formatting and line-separator
//     characters (so no carriage return). Foreign trailers (Signed-off-by),
//     prose and continuation lines inside a Jit block are errors, as is a Jit
//     block that is the message's first paragraph (git takes that for the
//     subject, never for trailers). At most one Jit-Signature, and it is the
//     last line. Errors give the line and column. Jit lines outside the final
//     paragraph are text, as they are for git.
//   - Payload: the trailer lines before Jit-Signature, each "Key: value\n".
//   - Signature: the standard base64 (padded, one line) of an OpenSSH SSHSIG
//     blob (PROTOCOL.sshsig) over the payload, namespace "jit", hash sha512, by
//     an ssh-ed25519 key; [Armor] gives the form `ssh-keygen -Y verify` reads.
//     sha256 is refused even though SSHSIG allows it: jit and ssh-keygen always
//     sign with sha512, so another algorithm is never jit's signature.
//   - Trust (Verify): the embedded key must be listed in allowed_signers
//     ([ParseAllowedSigners]) for principal "jit", in a line whose namespaces
//     (if any) allow "jit".
//   - Records (Trailers, DecisionFrom, EventFrom): values are checked (grant
//     ids, GitHub logins, lower-case 40-hex SHAs, RFC 3339 UTC times to the
//     second, ...) and written in one fixed order, [DecisionOrder] and
//     [EventOrder]; readers accept only that order, so a record accepted by a
//     reader writes back to exactly the trailers it was read from.
//
// The package is pure: it imports the standard library, golang.org/x/crypto/ssh
// and jit's pure grant and request packages (for durations and grant ids); it
// performs no I/O and reads no clock (signing hands crypto/rand to the
// ssh.Signer, and ed25519 signatures do not use it).
package trailer
