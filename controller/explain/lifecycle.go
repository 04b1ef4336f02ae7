package explain

import (
	"fmt"
	"strings"
	"time"
)

// CredentialsMarker starts every credentials comment, followed by the grant
// id: jit credentials finds the comment by it.
const CredentialsMarker = "<!-- jit:credentials "

// Credentials is the comment that delivers a grant's credentials on its
// pull request: the armored age ciphertext, encrypted to the requester's
// SSH keys on GitHub, and how to read it. Only the requester's private key
// decrypts it; the comment holds nothing else secret.
func Credentials(grantID, requester string, expires time.Time, armored string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s -->\n", CredentialsMarker, strings.ReplaceAll(grantID, "--", "- -"))
	fmt.Fprintf(&b, "### Credentials for %s\n\n", code(grantID))
	fmt.Fprintf(&b, "Access is live until **%s**. The credentials below are encrypted to the SSH keys of %s on GitHub; only their private key reads them:\n\n",
		expires.UTC().Format(time.RFC3339), md(requester))
	b.WriteString("```\njit credentials " + plain(grantID) + "\n```\n\n")
	b.WriteString("(or `age --decrypt -i ~/.ssh/id_ed25519`). After the expiry, logging in fails with \"password authentication failed\": ")
	b.WriteString("that is the expiry, not a wrong password. Ask for access again with a new grant.\n\n")
	b.WriteString("```\n" + strings.TrimSpace(armored) + "\n```\n")
	return b.String()
}

// Failure is the comment that tells a grant's pull request that applying
// (activation) or destroying (revocation) failed and when jit tries again.
func Failure(revoking bool, grantID, cause string, retry time.Time) string {
	what, consequence := "Activating", "The access is not live yet."
	if revoking {
		what, consequence = "Revoking", "The grant has expired, and the target still enforces its own expiry; jit keeps destroying until it succeeds."
	}
	return fmt.Sprintf("### %s %s failed\n\n%s\n\n> %s\n\njit retries with backoff (next attempt around %s); the operators are alerted by metrics. Nothing to do for you.\n",
		what, code(grantID), consequence, md(cause), retry.UTC().Format(time.RFC3339))
}

// ExpiryTitle is the title of a grant's expiry pull request.
func ExpiryTitle(grantID string) string { return "Expire " + plain(grantID) }

// Expiry is the body of a grant's expiry pull request: what expired, when,
// and that jit merges it on its own.
func Expiry(grantID, requester string, pullRequest int, expired, destroyed time.Time) string {
	return fmt.Sprintf("%s, requested by %s in #%d, expired at %s. Its resources were destroyed at %s.\n\n"+
		"This pull request deletes the grant file as the record of the expiry; jit merges it automatically once its checks pass. "+
		"Anyone else pushing to this branch stops that.\n",
		code(grantID), md(requester), pullRequest, expired.UTC().Format(time.RFC3339), destroyed.UTC().Format(time.RFC3339))
}
