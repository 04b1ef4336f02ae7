package trailer

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Trailer is one "Key: value" line of a commit message's trailer block.
type Trailer struct {
	Key, Value string
}

// String returns the trailer line as written, without its newline.
func (t Trailer) String() string { return t.Key + ": " + t.Value }

// The Jit-* trailer keys, spelled exactly as jit writes them and as Parse
// requires them.
const (
	KeyGrant       = "Jit-Grant"
	KeyRequestedBy = "Jit-Requested-By"
	KeyApprovedBy  = "Jit-Approved-By"
	KeyEligibleVia = "Jit-Eligible-Via"
	KeyPolicy      = "Jit-Policy"
	KeyDuration    = "Jit-Duration"
	KeyExpiresAt   = "Jit-Expires-At"
	KeyPullRequest = "Jit-Pull-Request"
	KeyHead        = "Jit-Head"
	KeyBreakGlass  = "Jit-Break-Glass"
	KeyEvent       = "Jit-Event"
	KeyReason      = "Jit-Reason"
	KeyReviewedBy  = "Jit-Reviewed-By"
	KeyResources   = "Jit-Resources"
	KeyError       = "Jit-Error"
	KeyParent      = "Jit-Parent"
	KeySignature   = "Jit-Signature"
)

// knownKeys are every key Parse accepts.
var knownKeys = []string{
	KeyGrant, KeyRequestedBy, KeyApprovedBy, KeyEligibleVia, KeyPolicy, KeyDuration,
	KeyExpiresAt, KeyPullRequest, KeyHead, KeyBreakGlass, KeyEvent, KeyReason,
	KeyReviewedBy, KeyResources, KeyError, KeyParent, KeySignature,
}

// MaxValueLen bounds a trailer value, in bytes.
const MaxValueLen = 4096

// ErrMalformed is matched (errors.Is) by every error that says trailers or an
// allowed_signers file are not well formed: Parse, DecisionFrom, EventFrom,
// the Trailers methods and ParseAllowedSigners.
var ErrMalformed = errors.New("malformed Jit trailers")

// SyntaxError says what is wrong at one place of a commit message or an
// allowed_signers file. It matches ErrMalformed.
type SyntaxError struct {
	// File is "commit message" for Parse, the file name for
	// ParseAllowedSigners.
	File string
	// Line and Column are 1-based; Column counts characters and is 0 when the
	// whole line is meant.
	Line, Column int
	Msg          string
}

// Error renders the error as "file:line:column: message".
func (e *SyntaxError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Is reports whether target is ErrMalformed.
func (e *SyntaxError) Is(target error) bool { return target == ErrMalformed }

// messageFile names commit messages in SyntaxErrors.
const messageFile = "commit message"

// Parse returns the Jit-* trailers of a commit message, in order, or nil when
// its final paragraph holds none. The rules are in the package documentation;
// anything they reject is a *SyntaxError at the message's line and column.
func Parse(message string) ([]Trailer, error) {
	lines := strings.Split(message, "\n")
	end := len(lines)
	for end > 0 && isBlank(lines[end-1]) {
		end--
	}
	start := end
	for start > 0 && !isBlank(lines[start-1]) {
		start--
	}
	block := lines[start:end]
	if !hasJitLine(block) {
		return nil, nil
	}
	if start == 0 {
		return nil, &SyntaxError{File: messageFile, Line: 1, Msg: "Jit trailers in the message's first paragraph, which git reads as the subject; put a blank line before the trailer block"}
	}
	ts := make([]Trailer, 0, len(block))
	for i, line := range block {
		n := start + i + 1
		t, col, msg := parseLine(line)
		if msg != "" {
			return nil, &SyntaxError{File: messageFile, Line: n, Column: col, Msg: msg}
		}
		if len(ts) > 0 && ts[len(ts)-1].Key == KeySignature {
			msg := fmt.Sprintf("%s after %s; the signature is the last trailer", t.Key, KeySignature)
			if t.Key == KeySignature {
				msg = "a second " + KeySignature + "; a trailer block has one signature"
			}
			return nil, &SyntaxError{File: messageFile, Line: n, Column: 1, Msg: msg}
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// isBlank reports whether git takes line for a paragraph break: nothing but
// spaces, tabs and carriage returns (git's isspace).
func isBlank(line string) bool {
	return strings.Trim(line, " \t\r") == ""
}

// hasJitLine reports whether a line of block, after any indentation, starts
// with "Jit-" or has a Jit key in another case before a colon ("JIT-GRANT:"):
// such a paragraph is held to the Jit rules. Other lines merely starting with
// "jit-" ("jit-signers: rotate the key", a pull request title) are not.
func hasJitLine(block []string) bool {
	for _, line := range block {
		s := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(s, "Jit-") {
			return true
		}
		if key, _, ok := strings.Cut(s, ":"); ok && knownFold(strings.TrimRight(key, " \t")) != "" {
			return true
		}
	}
	return false
}

// knownFold returns the Jit key equal to key but for case, or "".
func knownFold(key string) string {
	for _, k := range knownKeys {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return ""
}

// parseLine reads one line of a Jit trailer block, or returns the column and
// message of the first thing wrong with it.
func parseLine(line string) (t Trailer, col int, msg string) {
	if i := strings.IndexByte(line, '\r'); i >= 0 {
		return t, column(line, i), "carriage return in the Jit trailer block; write the commit message with \\n line endings"
	}
	if strings.TrimLeft(line, " \t") != line {
		return t, 1, "indented line in the Jit trailer block; every Jit trailer is one line starting in column 1 (no continuation lines)"
	}
	if len(line) < 4 || !strings.EqualFold(line[:4], "jit-") {
		return t, 1, fmt.Sprintf("%q is not a Jit trailer; a trailer block with Jit trailers holds nothing else", clip(line))
	}
	colon := strings.IndexByte(line, ':')
	if colon < 0 {
		return t, 1, fmt.Sprintf("%q has no \": \" after its key; write \"Key: value\"", clip(line))
	}
	key := line[:colon]
	if !isKnownKey(key) {
		return t, 1, unknownKey(key)
	}
	rest := line[colon+1:]
	if !strings.HasPrefix(rest, " ") {
		return t, column(line, colon+1), fmt.Sprintf("%s needs one space after the colon; write \"%s: value\"", key, key)
	}
	if off, msg := checkValue(rest[1:]); msg != "" {
		return t, column(line, colon+2+off), fmt.Sprintf("%s: %s", key, msg)
	}
	return Trailer{Key: key, Value: rest[1:]}, 0, ""
}

// isKnownKey reports whether key is a Jit trailer key, spelled as jit writes it.
func isKnownKey(key string) bool {
	for _, k := range knownKeys {
		if k == key {
			return true
		}
	}
	return false
}

// unknownKey explains why key is not accepted.
func unknownKey(key string) string {
	if k := knownFold(key); k != "" {
		return fmt.Sprintf("trailer key %q is spelled %s", clip(key), k)
	}
	return fmt.Sprintf("unknown trailer key %q; Jit keys are %s", clip(key), strings.Join(knownKeys, ", "))
}

// checkValue returns the byte offset in v of the first thing that makes it
// unfit for a trailer value, and what it is; msg is "" when v is fit.
func checkValue(v string) (off int, msg string) {
	switch {
	case v == "":
		return 0, "empty value"
	case len(v) > MaxValueLen:
		return MaxValueLen, fmt.Sprintf("value is %d bytes; at most %d are allowed", len(v), MaxValueLen)
	}
	if printableASCII(v) {
		// What every value jit writes is: the only rule left that such a
		// value can break is a space at either end.
		switch {
		case v[0] == ' ':
			return 0, "value starts with white space"
		case v[len(v)-1] == ' ':
			return len(v) - 1, "value ends with white space"
		}
		return 0, ""
	}
	return checkRunes(v)
}

// checkRunes is checkValue's rule for each character of a non-empty value
// within the length limit.
func checkRunes(v string) (off int, msg string) {
	for i, r := range v {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(v[i:], "\uFFFD"):
			return i, "value is not valid UTF-8"
		case unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
			return i, fmt.Sprintf("control or formatting character %U in the value", r)
		case unicode.IsSpace(r) && i == 0:
			return i, "value starts with white space"
		case unicode.IsSpace(r) && i+utf8.RuneLen(r) == len(v):
			return i, "value ends with white space"
		}
	}
	return 0, ""
}

// printableASCII reports whether v holds only the bytes ' ' to '~': no
// control character (in ASCII those are below ' ' and DEL), no formatting
// or separator character (all beyond ASCII), and no white space but ' '.
func printableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

// column converts a byte offset in line to a 1-based character column.
func column(line string, off int) int {
	return utf8.RuneCountInString(line[:off]) + 1
}

// clip shortens s for quoting in a message.
func clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return s[:max] + "…"
}

// Format returns the trailer lines, each "Key: value\n", in order: the text to
// append to a commit message after a blank line. It writes what it is given;
// trailers from Parse, Sign or a Trailers method are always well formed, and
// Parse of a message ending in "\n\n" + Format(ts) returns them unchanged.
func Format(ts []Trailer) string {
	return string(appendLines(ts))
}

// appendLines returns the lines Format writes, as bytes.
func appendLines(ts []Trailer) []byte {
	n := 0
	for _, t := range ts {
		n += len(t.Key) + 2 + len(t.Value) + 1
	}
	b := make([]byte, 0, n)
	for _, t := range ts {
		b = append(b, t.Key...)
		b = append(b, ": "...)
		b = append(b, t.Value...)
		b = append(b, '\n')
	}
	return b
}

// Payload returns the canonical bytes a Jit-Signature covers: every trailer
// line before the first Jit-Signature (all of them when there is none), in
// order, exactly as written, each followed by one "\n".
func Payload(ts []Trailer) []byte {
	for i, t := range ts {
		if t.Key == KeySignature {
			ts = ts[:i]
			break
		}
	}
	// Format's lines, without copying them again: every record read is
	// verified through here.
	return appendLines(ts)
}

// checkTrailers reports the first trailer of ts that Parse would not accept
// as a line of a trailer block.
func checkTrailers(ts []Trailer) error {
	for i, t := range ts {
		if !isKnownKey(t.Key) {
			return fmt.Errorf("%w: trailer %d: %s", ErrMalformed, i+1, unknownKey(t.Key))
		}
		if _, msg := checkValue(t.Value); msg != "" {
			return fmt.Errorf("%w: trailer %d: %s: %s", ErrMalformed, i+1, t.Key, msg)
		}
	}
	return nil
}
