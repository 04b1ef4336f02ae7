package ghemu

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The emulator has its own small CODEOWNERS reader, written from GitHub's
// documentation ("About code owners", docs.github.com), not the
// product's: it must agree with GitHub, not with our code.

// coRule is one CODEOWNERS line: a pattern and its owners.
type coRule struct {
	line   int
	re     *regexp.Regexp
	owners []string
}

// parseCodeowners reads CODEOWNERS text into rules, in file order. Lines
// whose pattern GitHub cannot use (negation, a bare "/") are left out; owner
// validity is checked when the rules are applied.
func parseCodeowners(text string) []coRule {
	var rules []coRule
	for i, src := range strings.Split(text, "\n") {
		body := strings.TrimRight(src, "\r")
		if j := strings.Index(body, " #"); j >= 0 {
			body = body[:j]
		}
		fields := strings.Fields(body)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		re := codeownersPattern(fields[0])
		if re == nil {
			continue
		}
		rules = append(rules, coRule{line: i + 1, re: re, owners: fields[1:]})
	}
	return rules
}

// codeownersPattern compiles a gitignore-style CODEOWNERS pattern: a slash
// at the start or in the middle anchors it to the root, a trailing slash
// matches directories only, "*" and "?" stay within a segment, "**" crosses
// segments, a trailing "/*" matches direct children only (also "/*" alone:
// the docs' "docs/*" owns docs/getting-started.md "but not further nested
// files"), and a pattern matching a directory owns everything below it.
// Lines GitHub cannot use match nothing (nil): negation, "/" alone, a
// leading "\#" (the docs: escaping a # "does not work"), an unescaped "["
// or "]" (GitHub: "both [ and ] must be escaped with a \", and skips the
// line), and a lone backslash at the end (git's wildmatch never matches it).
func codeownersPattern(p string) *regexp.Regexp {
	if strings.HasPrefix(p, "!") || strings.HasPrefix(p, `\#`) || p == "/" || p == "" {
		return nil
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 == len(p) {
				return nil // a lone trailing backslash: gitignore never matches it
			}
			i++
		case '[', ']':
			return nil
		}
	}
	dirOnly := strings.HasSuffix(p, "/")
	trimmed := strings.TrimSuffix(p, "/")
	childrenOnly := !dirOnly && strings.HasSuffix(trimmed, "/*")
	anchored := strings.Contains(trimmed, "/")
	trimmed = strings.TrimPrefix(trimmed, "/")
	var b strings.Builder
	if anchored {
		b.WriteString("^")
	} else {
		b.WriteString("^(?:.*/)?")
	}
	for i := 0; i < len(trimmed); i++ {
		c := trimmed[i]
		switch {
		case c == '\\' && i+1 < len(trimmed):
			_, n := utf8.DecodeRuneInString(trimmed[i+1:])
			b.WriteString(regexp.QuoteMeta(trimmed[i+1 : i+1+n]))
			i += n
		case c == '*':
			// A run of asterisks is special only as a whole segment (git's
			// wildmatch reads ***, like **, that way); anywhere else it is
			// one ordinary *.
			j := i
			for j < len(trimmed) && trimmed[j] == '*' {
				j++
			}
			whole := j-i >= 2 && (i == 0 || trimmed[i-1] == '/') && (j == len(trimmed) || trimmed[j] == '/')
			switch {
			case whole && j < len(trimmed):
				b.WriteString("(?:.*/)?") // **/: zero or more directories
				i = j
			case whole:
				b.WriteString(".*") // a trailing /**: everything inside
				i = j - 1
			default:
				b.WriteString("[^/]*")
				i = j - 1
			}
		case c == '?':
			b.WriteString("[^/]")
		default:
			// Whole characters: string(c) of one byte of a multi-byte
			// character would be a different character.
			_, n := utf8.DecodeRuneInString(trimmed[i:])
			b.WriteString(regexp.QuoteMeta(trimmed[i : i+n]))
			i += n - 1
		}
	}
	switch {
	case dirOnly:
		b.WriteString("/.*$")
	case childrenOnly:
		b.WriteString("$")
	default:
		b.WriteString("(?:/.*)?$")
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil
	}
	return re
}

// CodeownersPatternOwns reports whether a CODEOWNERS line with this pattern
// (and valid owners) would own path in the emulator. It exists for the
// differential test controller/internal/codeownersdiff, which holds it
// against the product's independent matcher; the emulator itself never
// calls the product's code.
func CodeownersPatternOwns(pattern, path string) bool {
	re := codeownersPattern(pattern)
	return re != nil && re.MatchString(path)
}

// codeownersAt reads the CODEOWNERS file GitHub would use at commit sha
// (.github/, root, docs/, first found; none at 3 MB or more).
func (g *gitRepo) codeownersAt(ctx context.Context, sha string) (path, text string) {
	for _, p := range codeownersPaths {
		es, err := g.lsTree(ctx, sha, false, p)
		if err != nil || len(es) != 1 || es[0].typ != "blob" {
			continue
		}
		if es[0].size >= 3<<20 {
			return p, ""
		}
		b, err := g.catBlob(ctx, es[0].sha)
		if err != nil {
			return p, ""
		}
		return p, string(b)
	}
	return "", ""
}

// ownerValid says whether a CODEOWNERS owner names a known user, team or
// user e-mail; the caller holds s.mu.
func (s *Server) ownerValid(owner string) bool {
	switch {
	case strings.HasPrefix(owner, "@") && strings.Contains(owner, "/"):
		org, slug, _ := strings.Cut(owner[1:], "/")
		return strings.EqualFold(org, s.st.org.login) && s.st.teams[strings.ToLower(slug)] != nil
	case strings.HasPrefix(owner, "@"):
		a := s.st.accounts[strings.ToLower(owner[1:])]
		return a != nil && a.typ == "User"
	case strings.Contains(owner, "@"):
		return s.userByEmail(owner) != nil
	}
	return false
}

func (s *Server) userByEmail(email string) *account {
	for _, u := range s.st.users {
		if u.email != "" && strings.EqualFold(u.email, email) {
			return u
		}
	}
	return nil
}

// ownedBy says whether user a is (or is in) owner; the caller holds s.mu.
func (s *Server) ownedBy(owner string, a *account) bool {
	switch {
	case strings.HasPrefix(owner, "@") && strings.Contains(owner, "/"):
		_, slug, _ := strings.Cut(owner[1:], "/")
		t := s.st.teams[strings.ToLower(slug)]
		return t != nil && t.roles[a.login] != ""
	case strings.HasPrefix(owner, "@"):
		return strings.EqualFold(owner[1:], a.login)
	default:
		return s.userByEmail(owner) == a
	}
}

// missingCodeOwners lists, for the changed files, the owner lines none of
// whose owners approved: GitHub's "Require review from Code Owners". The
// last matching valid line decides a file's owners; lines with an unknown
// or malformed owner are skipped, as GitHub skips invalid lines. The caller
// holds s.mu.
func (s *Server) missingCodeOwners(rules []coRule, files []string, approvers []*account) []string {
	var missing []string
	seen := map[int]bool{}
	for _, f := range files {
		var owners []string
		line := 0
		for _, r := range rules {
			if !r.re.MatchString(f) {
				continue
			}
			valid := true
			for _, o := range r.owners {
				valid = valid && s.ownerValid(o)
			}
			if valid {
				owners, line = r.owners, r.line
			}
		}
		if len(owners) == 0 || seen[line] {
			continue
		}
		ok := false
		for _, o := range owners {
			for _, a := range approvers {
				ok = ok || s.ownedBy(o, a)
			}
		}
		if !ok {
			seen[line] = true
			missing = append(missing, strings.Join(owners, " or "))
		}
	}
	return missing
}
