package ghapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/grant"
)

// TeamMembers lists a team's members' logins (every page); a cached answer younger than maxAge
// is reused (maxAge 0 = always ask). 404 → empty list and no error (an unknown team has no members).
//
// https://docs.github.com/rest/teams/members#list-team-members
func (c *Client) TeamMembers(ctx context.Context, org, slug string, maxAge time.Duration) ([]string, error) {
	key := strings.ToLower(org + "/" + slug)
	c.mu.Lock()
	e, ok := c.teams[key]
	c.mu.Unlock()
	if fresh(e, ok, maxAge, c.now()) {
		return slices.Clone(e.v), nil
	}
	users, err := pages(ctx, "GET /orgs/{org}/teams/{team_slug}/members", func(ctx context.Context, opt github.ListOptions) ([]*github.User, *github.Response, error) {
		return c.gh.Teams.ListTeamMembersBySlug(ctx, org, slug, &github.TeamListTeamMembersOptions{ListOptions: opt})
	})
	if err != nil && status(err) != http.StatusNotFound {
		return nil, fmt.Errorf("listing the members of team %s/%s: %w", org, slug, err)
	}
	logins := []string{}
	for _, u := range users {
		logins = append(logins, u.GetLogin())
	}
	c.mu.Lock()
	c.teams[key] = cached[[]string]{v: logins, at: c.now()}
	c.mu.Unlock()
	return slices.Clone(logins), nil
}

// permissions are the values GitHub's "permission" and "role_name" take.
var permissions = map[string]grant.Permission{
	"none": grant.PermissionNone, "read": grant.PermissionRead, "triage": grant.PermissionTriage,
	"write": grant.PermissionWrite, "maintain": grant.PermissionMaintain, "admin": grant.PermissionAdmin,
}

// Permission is GET /repos/{o}/{r}/collaborators/{login}/permission's "permission"
// (admin/maintain/write/triage/read/none; use role_name when it is more precise for
// maintain/triage), cached like TeamMembers; 404 → grant.PermissionNone.
//
// https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user
func (c *Client) Permission(ctx context.Context, login string, maxAge time.Duration) (grant.Permission, error) {
	key := strings.ToLower(login)
	c.mu.Lock()
	e, ok := c.perms[key]
	c.mu.Unlock()
	if fresh(e, ok, maxAge, c.now()) {
		return grant.Permission(e.v), nil
	}
	const route = "GET /repos/{owner}/{repo}/collaborators/{username}/permission"
	pl, _, err := c.gh.Repositories.GetPermissionLevel(withRoute(ctx, route), c.owner, c.repo, login)
	p := grant.PermissionNone
	switch err := wrap(route, err); {
	case status(err) == http.StatusNotFound:
	case err != nil:
		return "", fmt.Errorf("reading %s's permission on %s/%s: %w", login, c.owner, c.repo, err)
	default:
		name := pl.GetPermission()
		// "permission" folds maintain into write and triage into read;
		// role_name keeps them apart (custom roles keep "permission").
		// Only a refinement is taken, never a different level.
		switch r := pl.GetUser().GetRoleName(); {
		case r == "maintain" && name == "write", r == "triage" && name == "read":
			name = r
		}
		var known bool
		if p, known = permissions[name]; !known {
			return "", fmt.Errorf("%s: GitHub answered permission %q for %s, which is none of admin, maintain, write, triage, read, none", route, name, login)
		}
	}
	c.mu.Lock()
	c.perms[key] = cached[string]{v: string(p), at: c.now()}
	c.mu.Unlock()
	return p, nil
}
