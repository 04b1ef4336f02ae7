package ghemu

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Branch protection on ref updates: pushes over smart HTTP and the git/refs
// API. Merges through the API are judged by protectionMessage (merge.go).

// checkSeedProtection validates the protection of branch in a seed: a valid
// branch name and bypass actors that exist.
func checkSeedProtection(st *state, branch string, p SeedProtection) error {
	if !validRefName("refs/heads/"+branch) || strings.ContainsAny(branch, "|\n\t") {
		return fmt.Errorf("branch %q is not a valid branch name", branch)
	}
	b := p.BypassPullRequestAllowances
	for _, l := range b.Users {
		if a := st.accounts[strings.ToLower(l)]; a == nil || a.typ != "User" {
			return fmt.Errorf("%s: bypass_pull_request_allowances.users: %q is not a seeded user", branch, l)
		}
	}
	for _, t := range b.Teams {
		if st.teams[strings.ToLower(t)] == nil {
			return fmt.Errorf("%s: bypass_pull_request_allowances.teams: %q is not a seeded team", branch, t)
		}
	}
	for _, a := range b.Apps {
		if st.app == nil || !strings.EqualFold(a, st.app.slug) {
			return fmt.Errorf("%s: bypass_pull_request_allowances.apps: %q is not the seeded app's slug", branch, a)
		}
	}
	return nil
}

// isRepoAdmin reports whether id has the admin role on rp: a seeded admin or
// the owner of a user-owned repository. Apps never are. The caller holds s.mu.
func (s *Server) isRepoAdmin(rp *repo, id identity) bool {
	return id.kind == userToken && (rp.admins[strings.ToLower(id.acct.login)] || rp.owner == id.acct)
}

// adminBypasses reports whether id may ignore the protection of branch as an
// admin (enforce_admins off). The caller holds s.mu.
func (s *Server) adminBypasses(rp *repo, branch string, id identity) bool {
	prot, ok := rp.protection[branch]
	return ok && !prot.EnforceAdmins && s.isRepoAdmin(rp, id)
}

// mayBypassPullRequests reports whether id is in prot's bypass allowances,
// directly, through a team or as the App. The caller holds s.mu.
func (s *Server) mayBypassPullRequests(prot SeedProtection, id identity) bool {
	b := prot.BypassPullRequestAllowances
	switch id.kind {
	case userToken:
		for _, l := range b.Users {
			if strings.EqualFold(l, id.acct.login) {
				return true
			}
		}
		for _, slug := range b.Teams {
			if tm := s.st.teams[strings.ToLower(slug)]; tm != nil {
				if _, member := tm.roles[id.acct.login]; member {
					return true
				}
			}
		}
	case installation:
		for _, a := range b.Apps {
			if s.st.app != nil && strings.EqualFold(a, s.st.app.slug) {
				return true
			}
		}
	}
	return false
}

// refUpdateRefusal says why id may not move ref from old to new (zeroSHA for
// a creation or a deletion), in GitHub's words, or "" when it may. mustFF
// says the move is allowed only as a fast-forward, which the caller checks
// because it may need objects not yet received. The caller holds s.mu.
func (s *Server) refUpdateRefusal(rp *repo, id identity, ref, old, new string) (reason string, mustFF bool) {
	branch, ok := strings.CutPrefix(ref, "refs/heads/")
	if !ok {
		return "", false
	}
	prot, ok := rp.protection[branch]
	if !ok || old == zeroSHA {
		return "", false
	}
	if new == zeroSHA {
		if prot.AllowDeletions {
			return "", false
		}
		return "Cannot delete this protected branch", false
	}
	if s.adminBypasses(rp, branch, id) {
		return "", !prot.AllowForcePushes
	}
	if !s.mayBypassPullRequests(prot, id) {
		return "Changes must be made through a pull request.", false
	}
	for _, name := range prot.RequiredStatusChecks {
		if s.checkState(rp, new, name) != "success" {
			return "Required status check \"" + name + "\" is expected.", false
		}
	}
	return "", !prot.AllowForcePushes
}

// refusedPushMessage is what `git push` prints (as "remote: error: …") for a
// ref update refused by branch protection.
func refusedPushMessage(ref, reason string) string {
	return "error: GH006: Protected branch update failed for " + ref + ".\nerror: " + reason
}

// forceRefusal is the reason a non-fast-forward update of a protected branch
// is refused.
const forceRefusal = "Cannot force-push to this branch"

// pushCommand is one ref update requested by `git push`.
type pushCommand struct {
	old, new, ref string
}

var errPktLine = errors.New("malformed pkt-line")

// parsePushCommands reads the ref update commands at the start of a
// git-receive-pack request body (protocol v0/v1): pkt-lines
// "OLD NEW REF[\x00CAPS]\n", optionally after "shallow" lines, up to a
// flush packet. A signed push (push-cert) is not parsed and is an error;
// the caller then refuses every protected ref the push touches.
func parsePushCommands(body []byte) ([]pushCommand, error) {
	var cmds []pushCommand
	for {
		if len(body) < 4 {
			return nil, fmt.Errorf("%w: truncated length", errPktLine)
		}
		n, err := strconv.ParseUint(string(body[:4]), 16, 16)
		if err != nil {
			return nil, fmt.Errorf("%w: length %q is not hex", errPktLine, body[:4])
		}
		if n == 0 {
			return cmds, nil
		}
		if n < 4 || int(n) > len(body) {
			return nil, fmt.Errorf("%w: length %d out of range", errPktLine, n)
		}
		line := string(body[4:n])
		body = body[n:]
		line, _, _ = strings.Cut(line, "\x00")
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, "shallow ") && len(cmds) == 0 {
			continue
		}
		f := strings.Split(line, " ")
		if len(f) != 3 || !isHexSHA(f[0]) || !isHexSHA(f[1]) || !strings.HasPrefix(f[2], "refs/") || strings.ContainsAny(f[2], "\n\t\r") {
			return nil, fmt.Errorf("%w: %q is not a ref update command", errPktLine, line)
		}
		cmds = append(cmds, pushCommand{old: f[0], new: f[1], ref: f[2]})
	}
}

func isHexSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// readPushBody reads a receive-pack request body, returning the raw bytes
// (to hand to git unchanged) and the decoded ones (to parse).
func readPushBody(body io.Reader, encoding string) (raw, decoded []byte, err error) {
	raw, err = io.ReadAll(body)
	if err != nil {
		return nil, nil, err
	}
	switch strings.ToLower(encoding) {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return raw, nil, err
		}
		decoded, err = io.ReadAll(zr)
		return raw, decoded, err
	}
	return raw, raw, nil
}

// pushProtectionEnv judges a push's commands against rp's protection and
// returns the environment for the pre-receive hook (preReceiveHook), which
// refuses the push when a command was refused, when a protected ref is
// updated by a command that was not judged (fail closed: the body could
// not be parsed) and when a protected ref must only fast-forward but does
// not. The caller holds s.mu.
func (s *Server) pushProtectionEnv(rp *repo, id identity, cmds []pushCommand) []string {
	protected := " "
	for b := range rp.protection {
		protected += "refs/heads/" + b + " "
	}
	checked, ff := "|", "|"
	var reject []string
	for _, c := range cmds {
		if !strings.Contains(protected, " "+c.ref+" ") {
			continue
		}
		reason, mustFF := s.refUpdateRefusal(rp, id, c.ref, c.old, c.new)
		if reason != "" {
			reject = append(reject, refusedPushMessage(c.ref, reason))
			continue
		}
		line := c.old + " " + c.new + " " + c.ref + "|"
		checked += "|" + line
		if mustFF && c.old != zeroSHA && c.new != zeroSHA {
			ff += "|" + line
		}
	}
	return []string{
		"GHEMU_PROTECTED=" + protected,
		"GHEMU_CHECKED=" + checked,
		"GHEMU_FF=" + ff,
		"GHEMU_REJECT=" + strings.Join(reject, "\n"),
		"GHEMU_FORCE_REFUSAL=" + forceRefusal,
	}
}

// preReceiveHook enforces the verdicts of pushProtectionEnv inside
// git-receive-pack, after the pack arrived (in quarantine) and before any
// ref moves: a refusal fails the whole push and leaves every ref unchanged.
const preReceiveHook = `#!/bin/sh
# Installed by the GitHub emulator (ghemu): branch protection for pushes.
if [ -n "$GHEMU_REJECT" ]; then
	printf '%s\n' "$GHEMU_REJECT" >&2
	exit 1
fi
while read -r old new ref; do
	case "$GHEMU_PROTECTED" in *" $ref "*) ;; *) continue ;; esac
	case "$GHEMU_CHECKED" in
	*"|$old $new $ref|"*) ;;
	*)
		printf 'error: GH006: Protected branch update failed for %s.\nerror: The push could not be checked against branch protection.\n' "$ref" >&2
		exit 1
		;;
	esac
	case "$GHEMU_FF" in
	*"|$old $new $ref|"*)
		if ! git merge-base --is-ancestor "$old" "$new" 2>/dev/null; then
			printf 'error: GH006: Protected branch update failed for %s.\nerror: %s\n' "$ref" "$GHEMU_FORCE_REFUSAL" >&2
			exit 1
		fi
		;;
	esac
done
exit 0
`

var hookWriteMu sync.Mutex

// hooksDir writes the pre-receive hook under dataDir once and returns the
// directory to use as core.hooksPath for pushes.
func hooksDir(dataDir string) (string, error) {
	dir := filepath.Join(dataDir, "hooks")
	path := filepath.Join(dir, "pre-receive")
	hookWriteMu.Lock()
	defer hookWriteMu.Unlock()
	if b, err := os.ReadFile(path); err == nil && string(b) == preReceiveHook {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating the hooks directory: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(preReceiveHook), 0o755); err != nil {
		return "", fmt.Errorf("writing the pre-receive hook: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("installing the pre-receive hook: %w", err)
	}
	return dir, nil
}

// refUpdateAllowed applies branch protection to an API ref update from old
// to new (ff: whether it is a fast-forward) and answers GitHub's 422 itself
// when it is refused.
func (s *Server) refUpdateAllowed(c *call, ref, old, new string, ff bool) bool {
	s.mu.Lock()
	reason, mustFF := s.refUpdateRefusal(c.rp, c.id, ref, old, new)
	s.mu.Unlock()
	if reason == "" && mustFF && !ff {
		reason = forceRefusal
	}
	if reason == "" {
		return true
	}
	c.fail(http.StatusUnprocessableEntity, "Protected branch update failed for "+ref+": "+reason)
	return false
}
