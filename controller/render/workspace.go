package render

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// WorkspacePrefix starts the name of every workspace jit manages; workspaces
// without it are not jit's and are left alone.
const WorkspacePrefix = "jit-"

// maxReadable bounds the readable part of a workspace name.
const maxReadable = 64

// WorkspaceName returns the terraform workspace of the grant with id. The
// name is stable (the same id always gives the same name), distinct for
// distinct ids (it ends in a hash of the id), and uses only [a-z0-9_-], so
// it is valid for every backend: "prod/db/alice-inc-1234" becomes
// "jit-prod_db_alice-inc-1234-<10 hex digits>".
func WorkspaceName(id string) string {
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
	sum := sha256.Sum256([]byte(id))
	b.WriteByte('-')
	b.WriteString(hex.EncodeToString(sum[:5]))
	return b.String()
}

// IsWorkspaceName reports whether name has the shape WorkspaceName produces.
func IsWorkspaceName(name string) bool {
	if !strings.HasPrefix(name, WorkspacePrefix) || len(name) < len(WorkspacePrefix)+11 || len(name) > len(WorkspacePrefix)+maxReadable+11 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	h := name[len(name)-11:]
	if h[0] != '-' {
		return false
	}
	_, err := hex.DecodeString(h[1:])
	return err == nil
}
