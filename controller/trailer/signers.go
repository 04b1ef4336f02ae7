package trailer

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// MaxAllowedSignersSize bounds an allowed_signers file, in bytes.
const MaxAllowedSignersSize = 1 << 20

// AllowedSigner is one line of an allowed_signers file.
type AllowedSigner struct {
	// Line is the line's 1-based number in the file.
	Line int
	// Principals is the line's principals pattern-list, split at commas
	// (quotes removed): patterns with * and ?, ! negates.
	Principals []string
	// Namespaces is the namespaces="..." pattern-list, split at commas; nil
	// when the line has no such option and so allows every namespace.
	Namespaces []string
	// Key is the signer's public key.
	Key ssh.PublicKey
}

// AllowedSigners is a parsed allowed_signers file, in file order.
type AllowedSigners []AllowedSigner

// ParseAllowedSigners reads an OpenSSH allowed_signers file (ssh-keygen(1),
// ALLOWED SIGNERS): one signer per line, "principals [options] keytype
// base64-key [comment]", blank lines and # comments ignored, principals
// optionally in double quotes. The options jit understands are
// namespaces="..." (case-insensitive name, quoted pattern-list value, once per
// line); it refuses, with the reason, the others ssh-keygen knows:
//
//   - cert-authority: jit signatures embed a plain key, never a certificate,
//     so a CA line could never verify one; list the controller's key itself.
//   - valid-after, valid-before: a commit is checked against the file of its
//     first parent, and a commit's date is whatever its writer chose, so a
//     validity window cannot be checked honestly; rotate keys by changing the
//     file instead.
//
// Keys of any type ssh-keygen writes are read (only ssh-ed25519 keys can
// verify a Jit-Signature); certificates are refused. A line ending in "\r\n"
// reads like one ending in "\n". Every problem found is returned, joined, as
// *SyntaxErrors naming file, line and column; no signers are returned then.
func ParseAllowedSigners(file string, data []byte) (AllowedSigners, error) {
	if len(data) > MaxAllowedSignersSize {
		return nil, &SyntaxError{File: file, Line: 1, Msg: fmt.Sprintf("file is %d bytes; at most %d are allowed", len(data), MaxAllowedSignersSize)}
	}
	var signers AllowedSigners
	var errs []error
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		s, col, msg := parseSignerLine(line)
		if msg != "" {
			errs = append(errs, &SyntaxError{File: file, Line: i + 1, Column: column(line, col), Msg: msg})
			continue
		}
		if s != nil {
			s.Line = i + 1
			signers = append(signers, *s)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return signers, nil
}

// parseSignerLine reads one line of an allowed_signers file: nil for a blank
// or comment line, or the byte offset and message of what is wrong.
func parseSignerLine(line string) (s *AllowedSigner, off int, msg string) {
	off = skipSpace(line, 0)
	if off == len(line) || line[off] == '#' {
		return nil, 0, ""
	}
	if strings.ContainsAny(line, "\x00\r") {
		return nil, strings.IndexAny(line, "\x00\r"), "NUL or carriage return inside the line"
	}
	var principals string
	if line[off] == '"' {
		end := strings.IndexByte(line[off+1:], '"')
		if end < 0 {
			return nil, off, "principals open a quote that is never closed"
		}
		principals, off = line[off+1:off+1+end], off+end+2
		if off < len(line) && line[off] != ' ' && line[off] != '\t' {
			return nil, off, "expected a space after the quoted principals"
		}
	} else {
		end := tokenEnd(line, off)
		principals, off = line[off:end], end
	}
	if principals == "" {
		return nil, off, "empty principals; write the principal jit signs as, jit"
	}
	s = &AllowedSigner{Principals: strings.Split(principals, ",")}
	off = skipSpace(line, off)
	if off == len(line) {
		return nil, off, "no key after the principals; write: principals [options] keytype base64-key [comment]"
	}
	if !isKeyType(line[off:tokenEnd(line, off)]) {
		end, unterminated := optionsEnd(line, off)
		if unterminated {
			return nil, off, "options open a quote that is never closed"
		}
		if o, msg := parseSignerOptions(line[off:end], s); msg != "" {
			return nil, off + o, msg
		}
		off = skipSpace(line, end)
		if off == len(line) {
			return nil, off, "no key after the options; write: principals [options] keytype base64-key [comment]"
		}
	}
	typeEnd := tokenEnd(line, off)
	keyType := line[off:typeEnd]
	if strings.HasSuffix(keyType, "-cert-v01@openssh.com") {
		return nil, off, "certificates are not supported; list the controller's plain ssh-ed25519 public key"
	}
	if !isKeyType(keyType) {
		return nil, off, fmt.Sprintf("%q is neither a key type nor a supported option", clip(keyType))
	}
	b64 := skipSpace(line, typeEnd)
	if b64 == len(line) {
		return nil, b64, fmt.Sprintf("no base64 key after %s", keyType)
	}
	raw, err := base64.StdEncoding.DecodeString(line[b64:tokenEnd(line, b64)])
	if err != nil {
		return nil, b64, fmt.Sprintf("key is not base64: %v", err)
	}
	if s.Key, err = ssh.ParsePublicKey(raw); err != nil {
		return nil, b64, fmt.Sprintf("not an SSH public key: %v", err)
	}
	if s.Key.Type() != keyType {
		return nil, off, fmt.Sprintf("key type is written %s but the key is %s", keyType, s.Key.Type())
	}
	return s, 0, ""
}

// keyTypes are the public key types ssh-keygen writes.
var keyTypes = []string{
	ssh.KeyAlgoED25519, ssh.KeyAlgoSKED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384,
	ssh.KeyAlgoECDSA521, ssh.KeyAlgoSKECDSA256, ssh.KeyAlgoRSA, ssh.InsecureKeyAlgoDSA,
}

// isKeyType reports whether s names a public key type or a certificate type.
func isKeyType(s string) bool {
	for _, t := range keyTypes {
		if s == t || s == strings.Replace(t, "@", "-cert-v01@", 1) || s == t+"-cert-v01@openssh.com" {
			return true
		}
	}
	return false
}

// skipSpace returns the offset of the first byte at or after off that is not
// a space or a tab.
func skipSpace(line string, off int) int {
	for off < len(line) && (line[off] == ' ' || line[off] == '\t') {
		off++
	}
	return off
}

// tokenEnd returns the offset of the first space or tab at or after off.
func tokenEnd(line string, off int) int {
	if i := strings.IndexAny(line[off:], " \t"); i >= 0 {
		return off + i
	}
	return len(line)
}

// optionsEnd returns the end of the options starting at off: the first space
// or tab outside double quotes (\" does not close a quote).
func optionsEnd(line string, off int) (end int, unterminated bool) {
	quoted := false
	for i := off; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && quoted && i+1 < len(line) && line[i+1] == '"':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ' ' || c == '\t'):
			return i, false
		}
	}
	return len(line), quoted
}

// parseSignerOptions reads the comma-separated options of a line into s, or
// returns the offset in opts and message of the first it cannot accept.
func parseSignerOptions(opts string, s *AllowedSigner) (off int, msg string) {
	for off <= len(opts) {
		end := off
		for quoted := false; end < len(opts) && (quoted || opts[end] != ','); end++ {
			if opts[end] == '\\' && quoted && end+1 < len(opts) && opts[end+1] == '"' {
				end++
			} else if opts[end] == '"' {
				quoted = !quoted
			}
		}
		name, value, hasValue := strings.Cut(opts[off:end], "=")
		switch strings.ToLower(name) {
		case "namespaces":
			if s.Namespaces != nil {
				return off, "namespaces appears twice; list every namespace in one namespaces=\"...\""
			}
			if !hasValue || len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' {
				return off, "write namespaces=\"jit\" with the value in double quotes"
			}
			s.Namespaces = strings.Split(strings.ReplaceAll(value[1:len(value)-1], `\"`, `"`), ",")
		case "cert-authority":
			return off, "cert-authority is not supported: a Jit-Signature embeds the signing key itself, never a certificate; list the controller's public key"
		case "valid-after", "valid-before":
			return off, fmt.Sprintf("%s is not supported: jit checks each commit against the signers file of its first parent and a commit's date is whatever its writer chose; rotate keys by changing this file instead", strings.ToLower(name))
		case "":
			return off, "empty option; separate options with single commas"
		default:
			return off, fmt.Sprintf("%q is neither a key type nor a supported option (jit understands namespaces=\"...\")", clip(opts[off:end]))
		}
		off = end + 1
	}
	return 0, ""
}

// allow returns nil when key is an allowed signer for Principal in Namespace,
// or an error matching ErrUnknownKey saying why not.
func (as AllowedSigners) allow(key ssh.PublicKey) error {
	want := key.Marshal()
	var lines []int
	for _, s := range as {
		if !matchList(Principal, s.Principals) || !bytes.Equal(s.Key.Marshal(), want) {
			continue
		}
		if s.Namespaces == nil || matchList(Namespace, s.Namespaces) {
			return nil
		}
		lines = append(lines, s.Line)
	}
	fp := ssh.FingerprintSHA256(key)
	if len(lines) > 0 {
		return fmt.Errorf("%w: key %s is listed for principal %s only with namespaces that exclude %q (lines %v)", ErrUnknownKey, fp, Principal, Namespace, lines)
	}
	return fmt.Errorf("%w: key %s is not listed for principal %s", ErrUnknownKey, fp, Principal)
}

// matchList reports whether s matches an OpenSSH pattern-list: some pattern
// matches and no negated (!) pattern does.
func matchList(s string, patterns []string) bool {
	matched := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		if !matchPattern(s, strings.TrimPrefix(p, "!")) {
			continue
		}
		if neg {
			return false
		}
		matched = true
	}
	return matched
}

// matchPattern reports whether s matches p, where * matches any run of
// characters and ? any one, case-sensitively (OpenSSH match_pattern).
func matchPattern(s, p string) bool {
	// Iterative glob with one backtrack point: linear in len(s)*len(p).
	si, pi, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			si, pi = si+1, pi+1
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			si, pi = mark, star+1
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
