package codeowners

import (
	"fmt"
	"strings"
)

// OwnerKind says which of GitHub's three owner forms an Owner is.
type OwnerKind uint8

// The owner forms GitHub accepts: "@username", "@org/team-name", or an email
// address added to a user's account.
const (
	User OwnerKind = iota + 1
	Team
	Email
)

// String names the kind: "user", "team" or "email".
func (k OwnerKind) String() string {
	switch k {
	case User:
		return "user"
	case Team:
		return "team"
	case Email:
		return "email"
	}
	return fmt.Sprintf("OwnerKind(%d)", uint8(k))
}

// Owner is one owner written on a CODEOWNERS line. Value is the owner without
// the leading "@": "alice", "acme/dba" or "alice@example.com", as written
// (GitHub compares logins and team slugs case-insensitively; callers do too).
type Owner struct {
	Kind  OwnerKind
	Value string
}

// String renders the owner as written in CODEOWNERS: "@alice", "@acme/dba" or
// "alice@example.com".
func (o Owner) String() string {
	if o.Kind == Email {
		return o.Value
	}
	return "@" + o.Value
}

// Org returns the organisation of a Team owner ("acme" for @acme/dba), or ""
// for other kinds.
func (o Owner) Org() string {
	if o.Kind != Team {
		return ""
	}
	org, _, _ := strings.Cut(o.Value, "/")
	return org
}

// Slug returns the team slug of a Team owner ("dba" for @acme/dba), or "" for
// other kinds.
func (o Owner) Slug() string {
	if o.Kind != Team {
		return ""
	}
	_, slug, _ := strings.Cut(o.Value, "/")
	return slug
}

// ownerProblem says what is wrong with an owner token.
type ownerProblem uint8

const (
	badNone ownerProblem = iota
	badForm
	badUser
	badOrg
	badTeam
	badEmail
)

// parseOwner classifies one owner token, or says what is wrong with it.
func parseOwner(tok string) (Owner, ownerProblem) {
	if strings.HasPrefix(tok, "@") {
		name := tok[1:]
		if org, team, ok := strings.Cut(name, "/"); ok {
			if !isLogin(org) {
				return Owner{}, badOrg
			}
			if !isTeamSlug(team) {
				return Owner{}, badTeam
			}
			return Owner{Kind: Team, Value: name}, badNone
		}
		if !isLogin(name) {
			return Owner{}, badUser
		}
		return Owner{Kind: User, Value: name}, badNone
	}
	if strings.Contains(tok, "@") {
		if !isEmail(tok) {
			return Owner{}, badEmail
		}
		return Owner{Kind: Email, Value: tok}, badNone
	}
	return Owner{}, badForm
}

// ownerMessage explains problem bad with owner token tok and suggests a fix.
func ownerMessage(tok string, bad ownerProblem) (msg, suggestion string) {
	name := strings.TrimPrefix(tok, "@")
	org, team, _ := strings.Cut(name, "/")
	const forms = "owners are @username, @org/team-name or an email address"
	switch bad {
	case badUser:
		return fmt.Sprintf("invalid owner %q: %q is not a valid GitHub username", short(tok), short(name)),
			"usernames have only letters, digits and hyphens and do not start with a hyphen"
	case badOrg:
		return fmt.Sprintf("invalid owner %q: %q is not a valid organisation name", short(tok), short(org)), forms
	case badTeam:
		return fmt.Sprintf("invalid owner %q: %q is not a valid team name", short(tok), short(team)),
			"write a team as @org/team-slug"
	case badEmail:
		return fmt.Sprintf("invalid owner %q: not a valid email address", short(tok)), forms
	}
	msg = fmt.Sprintf("invalid owner %q: %s", short(tok), forms)
	if _, bad := parseOwner("@" + tok); bad == badNone {
		return msg, fmt.Sprintf("did you mean @%s?", short(tok))
	}
	return msg, "write each owner as @username, @org/team-name or an email address, or start a comment with #"
}

// isLogin accepts GitHub user and organisation names: letters, digits and
// hyphens, not starting with a hyphen. Underscores are allowed for Enterprise
// Managed Users ("login_shortcode").
func isLogin(s string) bool {
	if s == "" || len(s) > 100 || s[0] == '-' || s[0] == '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// isTeamSlug accepts team slugs and names as CODEOWNERS writes them.
func isTeamSlug(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// isEmail accepts local@domain with an RFC 5322 dot-atom local part and a
// domain of at least two dot-separated labels of letters, digits and hyphens.
func isEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(s) > 254 || strings.Contains(domain, "@") {
		return false
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !isAlnum(c) && !strings.ContainsRune("!#$%&'*+/=?^_`{|}~.-", rune(c)) {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
