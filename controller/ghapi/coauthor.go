package ghapi

import (
	"regexp"
	"strings"
)

// noreplyDomain is the domain of GitHub's private commit e-mail addresses.
const noreplyDomain = "@users.noreply.github.com"

// noreplyLocal is the local part of a noreply address: "ID+login" or the
// older "login"; an App's bot login ends in "[bot]".
var noreplyLocal = regexp.MustCompile(`^(?:[0-9]+\+)?([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?)$`)

// CoAuthors returns one entry per Co-authored-by trailer line of a commit
// message (the key matched case-insensitively, on any line, so a trailer is
// never missed): the GitHub login when the address is a GitHub noreply
// address ("ID+login@users.noreply.github.com" or
// "login@users.noreply.github.com"), else "" (an address GitHub may link
// to someone we cannot name: unknown, which keeps the change pending).
func CoAuthors(message string) []string {
	var out []string
	for _, line := range strings.Split(message, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(key), "co-authored-by") {
			continue
		}
		out = append(out, noreplyLogin(value))
	}
	return out
}

// noreplyLogin extracts the login from "Name <address>", or "".
func noreplyLogin(value string) string {
	value = strings.TrimSpace(value)
	open := strings.LastIndexByte(value, '<')
	if open < 0 || !strings.HasSuffix(value, ">") {
		return ""
	}
	addr := value[open+1 : len(value)-1]
	at := len(addr) - len(noreplyDomain)
	if at <= 0 || !strings.EqualFold(addr[at:], noreplyDomain) {
		return ""
	}
	m := noreplyLocal.FindStringSubmatch(addr[:at])
	if m == nil {
		return ""
	}
	return m[1]
}
