package contract

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// validateURITemplate reports whether s is a URI Template (RFC 6570, level 4
// syntax, section 2). GitHub's payloads are full of them, such as
// "https://api.github.com/users/octocat/gists{/gist_id}". jsonschema/v6's own
// check splits the string at "/" first and so rejects the "{/var}" form.
func validateURITemplate(s string) error {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return fmt.Errorf("expression at byte %d has no closing brace", i)
			}
			if err := checkExpression(s[i+1 : i+end]); err != nil {
				return fmt.Errorf("expression %q at byte %d: %w", s[i:i+end+1], i, err)
			}
			i += end + 1
		case c == '%':
			if !isPctEncoded(s[i:]) {
				return fmt.Errorf("%% at byte %d does not start a percent-encoded octet", i)
			}
			i += 3
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError {
				return fmt.Errorf("invalid UTF-8 at byte %d", i)
			}
			i += size
		case c <= ' ' || c == 0x7f || strings.IndexByte(`"'<>\^`+"`"+`|}`, c) >= 0:
			return fmt.Errorf("character %q at byte %d is not allowed in a URI template", c, i)
		default:
			i++
		}
	}
	return nil
}

// checkExpression checks the inside of "{...}": an optional operator and a
// comma-separated list of varspecs (varname with an optional ":N" prefix or
// "*" explode modifier).
func checkExpression(e string) error {
	if e != "" && strings.IndexByte("+#./;?&=,!@|", e[0]) >= 0 {
		e = e[1:]
	}
	if e == "" {
		return fmt.Errorf("no variable")
	}
	for spec := range strings.SplitSeq(e, ",") {
		name, mod := spec, ""
		if j := strings.IndexAny(spec, ":*"); j >= 0 {
			name, mod = spec[:j], spec[j:]
		}
		if err := checkVarname(name); err != nil {
			return err
		}
		switch {
		case mod == "" || mod == "*":
		case mod[0] == ':' && len(mod) >= 2 && len(mod) <= 5 && mod[1] != '0' && allDigits(mod[1:]):
		default:
			return fmt.Errorf("modifier %q is neither \"*\" nor \":\" with a length of 1 to 9999", mod)
		}
	}
	return nil
}

func checkVarname(n string) error {
	if n == "" {
		return fmt.Errorf("empty variable name")
	}
	dot := true // a name may not start with "."
	for i := 0; i < len(n); {
		c := n[i]
		switch {
		case c == '.' && !dot:
			dot = true
			i++
			continue
		case c == '%' && isPctEncoded(n[i:]):
			i += 3
		case c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			i++
		default:
			return fmt.Errorf("variable name %q has %q at byte %d", n, c, i)
		}
		dot = false
	}
	if dot {
		return fmt.Errorf("variable name %q ends with \".\"", n)
	}
	return nil
}

func isPctEncoded(s string) bool {
	return len(s) >= 3 && s[0] == '%' && isHex(s[1]) && isHex(s[2])
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
