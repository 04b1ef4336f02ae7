package render

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

// WorkspacePrefix starts the name of every workspace jit manages; workspaces
// without it are not jit's and are left alone.
const WorkspacePrefix = "jit-"

// UsedMarker is the workspace jit creates in a state backend before the
// first grant workspace, and never deletes, so that a backend whose grants
// were all destroyed can be told from one jit never used. It is not a grant
// workspace: IsWorkspaceName rejects it.
const UsedMarker = "jit-used"

// maxReadable bounds the readable part of a workspace name.
const maxReadable = 64

// hashLen is the length of the hash that ends a workspace name: 128 bits in
// lower-case base32 without padding.
const hashLen = 26

// legacyHashLen is the length of the hash that ended workspace names before
// they carried 128 bits: 40 bits in hex.
const legacyHashLen = 10

var hashEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// WorkspaceName returns the terraform workspace of the grant with id:
//
//	"jit-" + slug + "-" + 26 characters of lower-case base32
//
// where the slug is the id lower-cased, every character other than
// [a-z0-9-] replaced by "_", cut to 64 characters (it is for people only),
// and the base32 part is the first 128 bits of the SHA-256 of the id. The
// name is stable (the same id always gives the same name), distinct for
// distinct ids (two ids sharing a name would be a SHA-256 collision in 128
// bits), uses only [a-z0-9_-], and is at most 95 bytes, so it is valid for
// every backend: "prod/db/alice-inc-1234" becomes
// "jit-prod_db_alice-inc-1234-<26 base32 characters>".
func WorkspaceName(id string) string {
	sum := sha256.Sum256([]byte(id))
	return slug(id) + "-" + hashEncoding.EncodeToString(sum[:16])
}

// LegacyWorkspaceName returns the workspace name jit gave grant id before
// names carried a 128-bit hash: "jit-" + the same slug + "-" + 10 hex digits
// of the SHA-256 of the id. Such workspaces are still listed, applied and
// destroyed (see IsWorkspaceName); new grants never get one.
func LegacyWorkspaceName(id string) string {
	sum := sha256.Sum256([]byte(id))
	return slug(id) + "-" + hex.EncodeToString(sum[:legacyHashLen/2])
}

// IsWorkspaceOf reports whether ws is the workspace of grant id, in the
// current shape or the legacy one.
func IsWorkspaceOf(ws, id string) bool {
	return ws == WorkspaceName(id) || ws == LegacyWorkspaceName(id)
}

func slug(id string) string {
	var b strings.Builder
	b.WriteString(WorkspacePrefix)
	n := 0
	for _, r := range strings.ToLower(id) {
		if n == maxReadable {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		n++
	}
	return b.String()
}

// IsWorkspaceName reports whether name has the shape WorkspaceName produces,
// or the legacy shape LegacyWorkspaceName produces. The two shapes cannot be
// confused: a current name ends in 26 base32 characters after its last "-",
// a legacy one in 10 hex digits.
func IsWorkspaceName(name string) bool {
	if !strings.HasPrefix(name, WorkspacePrefix) {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return hasHash(name, hashLen, isBase32) || hasHash(name, legacyHashLen, isHex)
}

// hasHash reports whether name is the prefix, at most maxReadable slug
// characters, "-" and n characters accepted by ok.
func hasHash(name string, n int, ok func(byte) bool) bool {
	rest := len(name) - len(WorkspacePrefix)
	if rest < n+1 || rest > maxReadable+n+1 {
		return false
	}
	tail := name[len(name)-n-1:]
	if tail[0] != '-' {
		return false
	}
	for i := 1; i < len(tail); i++ {
		if !ok(tail[i]) {
			return false
		}
	}
	return true
}

func isBase32(c byte) bool { return c >= 'a' && c <= 'z' || c >= '2' && c <= '7' }

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }
