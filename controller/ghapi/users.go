package ghapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

// maxLoginLen is the longest login GitHub gives a user account.
const maxLoginLen = 39

// UserKeys returns the public SSH keys of GitHub user login, every page, each as one
// authorized_keys line ("ssh-ed25519 AAAA…"), in GitHub's order. A user with no keys gives an
// empty list and no error; an unknown user is an error naming the login. Nothing is cached:
// people rotate their keys, and a requester's credentials are encrypted to the keys they have
// now. A login that is not a user account's ("", "app[bot]", "a/b") is refused before any
// request, so it can never reach another endpoint.
//
// https://docs.github.com/rest/users/keys#list-public-keys-for-a-user
func (c *Client) UserKeys(ctx context.Context, login string) ([]string, error) {
	if !validLogin(login) {
		return nil, fmt.Errorf("listing the SSH keys of %q: not a GitHub user login (letters, digits and '-', at most %d, not starting with '-')", login, maxLoginLen)
	}
	const route = "GET /users/{username}/keys"
	ks, err := pages(ctx, route, func(ctx context.Context, opt github.ListOptions) ([]*github.Key, *github.Response, error) {
		return c.gh.Users.ListKeys(ctx, login, &opt)
	})
	if status(err) == http.StatusNotFound {
		return nil, fmt.Errorf("listing the SSH keys of %s: GitHub knows no user %s; check the grant's requester: %w", login, login, err)
	}
	if err != nil {
		return nil, fmt.Errorf("listing the SSH keys of %s: %w", login, err)
	}
	keys := make([]string, 0, len(ks))
	for _, k := range ks {
		line := strings.TrimSpace(k.GetKey())
		if line == "" || strings.ContainsAny(line, "\r\n\x00") {
			return nil, fmt.Errorf("%s: GitHub answered key %d of %s as %q, which is not one authorized_keys line", route, k.GetID(), login, line)
		}
		keys = append(keys, line)
	}
	return keys, nil
}

// validLogin reports whether login can be a GitHub user account's login.
func validLogin(login string) bool {
	if login == "" || len(login) > maxLoginLen || login[0] == '-' {
		return false
	}
	for _, c := range []byte(login) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
