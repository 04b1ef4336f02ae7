package ghemu

import (
	"net/http"
	"slices"
	"sort"
	"strings"
)

// GET /app
func (s *Server) getApp(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.json(http.StatusOK, s.appJSON())
}

// GET /app/installations/{installation_id}
func (s *Server) getInstallation(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.param("installation_id") != itoa(s.st.app.installationID) {
		c.notFound()
		return
	}
	c.json(http.StatusOK, s.installationJSON())
}

// GET /repos/{owner}/{repo}/installation
func (s *Server) getRepoInstallation(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.id.kind != appJWT {
		c.json(http.StatusUnauthorized, errorBody{Message: "A JSON web token could not be decoded", DocumentationURL: c.docs(), Status: "401"})
		return
	}
	if s.st.app == nil || !s.st.app.installed(c.rp) {
		c.notFound()
		return
	}
	c.json(http.StatusOK, s.installationJSON())
}

// POST /app/installations/{installation_id}/access_tokens
func (s *Server) createInstallationToken(c *call) {
	var in struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	if !c.decode(&in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.app
	if c.param("installation_id") != itoa(a.installationID) {
		c.notFound()
		return
	}
	tok := &installationToken{token: randomToken("ghs_"), expires: s.now().Add(s.cfg.InstallationTokenTTL).UTC().Truncate(1e9)}
	pick := func(rp *repo) bool {
		if rp == nil || !a.installed(rp) {
			return false
		}
		for _, x := range tok.repos {
			if x == rp {
				return true
			}
		}
		tok.repos = append(tok.repos, rp)
		return true
	}
	for _, name := range in.Repositories {
		if !pick(s.st.repos[strings.ToLower(a.owner.login+"/"+name)]) {
			c.invalid("Installation", "repositories", "invalid", "There is at least one repository that does not exist or is not accessible to the parent installation.")
			return
		}
	}
	for _, id := range in.RepositoryIDs {
		var found *repo
		for _, rp := range s.st.repoList {
			if rp.id == id {
				found = rp
			}
		}
		if !pick(found) {
			c.invalid("Installation", "repository_ids", "invalid", "There is at least one repository that does not exist or is not accessible to the parent installation.")
			return
		}
	}
	tok.permissions = map[string]string{}
	if len(in.Permissions) == 0 {
		for k, v := range a.permissions {
			tok.permissions[k] = v
		}
	}
	for k, v := range in.Permissions {
		granted := a.permissions[k]
		if granted == "" || (v == "write" && granted == "read") || (v == "admin" && granted != "admin") {
			c.invalid("Installation", "permissions", "invalid", "The permissions requested are not granted to this installation.")
			return
		}
		tok.permissions[k] = v
	}
	s.st.instTokens[tok.token] = tok
	sel := "all"
	if len(a.repos) > 0 || tok.repos != nil {
		sel = "selected"
	}
	out := obj{"token": tok.token, "expires_at": tok.expires.Format("2006-01-02T15:04:05Z"),
		"permissions": tok.permissions, "repository_selection": sel}
	if tok.repos != nil {
		rs := []obj{}
		for _, rp := range tok.repos {
			rs = append(rs, s.repoJSON(rp))
		}
		out["repositories"] = rs
	}
	s.log.Info("issued installation token", logKeyInstallation, a.installationID, "expires_at", tok.expires)
	c.json(http.StatusCreated, out)
}

// ExpireInstallationTokens makes every installation token issued so far
// expired, so the next request with one answers 401 as GitHub does.
func (s *Server) ExpireInstallationTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.st.instTokens {
		t.expires = s.now().Add(-1)
	}
}

// GET /users/{username}
func (s *Server) getUser(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.accounts[strings.ToLower(c.param("username"))]
	if a == nil {
		c.notFound()
		return
	}
	c.json(http.StatusOK, s.publicUserJSON(a))
}

// userParam returns the user named by the path's {username}, or answers
// 404 and returns nil when there is no such user (an organisation or a bot
// is not one). The caller holds s.mu.
func (s *Server) userParam(c *call) *account {
	a := s.st.accounts[strings.ToLower(c.param("username"))]
	if a == nil || a.typ != "User" {
		c.notFound()
		return nil
	}
	return a
}

// GET /users/{username}/keys
func (s *Server) listUserKeys(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.userParam(c)
	if a == nil {
		return
	}
	keys := []obj{}
	for i, k := range a.keys {
		keys = append(keys, obj{"id": a.id*100 + int64(i), "key": k})
	}
	c.json(http.StatusOK, paged(c, keys))
}

// team resolves {org}/{team_slug} for a caller allowed to see teams.
func (s *Server) team(c *call) *team {
	if c.id.kind == anonymous || !strings.EqualFold(c.param("org"), s.st.org.login) {
		c.notFound()
		return nil
	}
	if c.id.kind == installation {
		if p := c.id.tok.permissions["members"]; p != "read" && p != "write" {
			c.fail(http.StatusForbidden, "Resource not accessible by integration")
			return nil
		}
	}
	t := s.st.teams[strings.ToLower(c.param("team_slug"))]
	if t == nil {
		c.notFound()
		return nil
	}
	return t
}

// GET /orgs/{org}/teams/{team_slug}
func (s *Server) getTeam(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.team(c)
	if t == nil {
		return
	}
	org := s.st.org
	o := s.teamJSON(t)
	orgJ := s.orgJSON(org)
	for k, v := range map[string]any{
		"name": org.login, "has_organization_projects": true, "has_repository_projects": true,
		"public_repos": len(s.st.repoList), "public_gists": 0, "followers": 0, "following": 0,
		"html_url": s.URL + "/" + org.login, "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
		"type": "Organization", "archived_at": nil,
	} {
		orgJ[k] = v
	}
	o["members_count"] = len(t.members)
	o["repos_count"] = len(s.st.repoList)
	o["created_at"] = "2020-01-01T00:00:00Z"
	o["updated_at"] = "2020-01-01T00:00:00Z"
	o["organization"] = orgJ
	c.json(http.StatusOK, o)
}

func (s *Server) teamJSON(t *team) obj {
	u := s.api() + "/organizations/" + itoa(s.st.org.id) + "/team/" + itoa(t.id)
	return obj{
		"id": t.id, "node_id": nodeID("Team", t.id), "url": u, "html_url": s.URL + "/orgs/" + s.st.org.login + "/teams/" + t.slug,
		"name": t.name, "slug": t.slug, "description": nil, "privacy": "closed", "notification_setting": "notifications_enabled",
		"permission": "pull", "members_url": u + "/members{/member}", "repositories_url": u + "/repos",
		"type": "organization", "parent": nil,
	}
}

// GET /orgs/{org}/teams/{team_slug}/members
func (s *Server) listTeamMembers(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.team(c)
	if t == nil {
		return
	}
	role := c.r.URL.Query().Get("role")
	members := append([]*account(nil), t.members...)
	sort.Slice(members, func(i, j int) bool { return members[i].id < members[j].id })
	out := []obj{}
	for _, m := range members {
		if role == "" || role == "all" || t.roles[m.login] == role {
			out = append(out, s.userJSON(m))
		}
	}
	c.json(http.StatusOK, paged(c, out))
}

// GET /orgs/{org}/teams/{team_slug}/memberships/{username}
func (s *Server) getTeamMembership(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.team(c)
	if t == nil {
		return
	}
	a := s.st.accounts[strings.ToLower(c.param("username"))]
	if a == nil || t.roles[a.login] == "" {
		c.notFound()
		return
	}
	c.json(http.StatusOK, s.teamMembershipJSON(t, a))
}

// teamMembershipJSON is GitHub's team-membership object; every seeded user
// is an org member, so memberships are always active.
func (s *Server) teamMembershipJSON(t *team, a *account) obj {
	return obj{
		"url":  s.api() + "/organizations/" + itoa(s.st.org.id) + "/team/" + itoa(t.id) + "/memberships/" + a.login,
		"role": t.roles[a.login], "state": "active",
	}
}

// teamWriter resolves the team and the user of a membership change and
// checks the caller may make it. GitHub lets organization owners and the
// team's maintainers change memberships; the emulator has no organization
// owners, so a user must be a maintainer of the team, and an App
// installation needs the members: write organization permission. It
// answers the error itself. The caller holds s.mu.
func (s *Server) teamWriter(c *call) (*team, *account) {
	t := s.team(c)
	if t == nil {
		return nil, nil
	}
	switch c.id.kind {
	case installation:
		if c.id.tok.permissions["members"] != "write" {
			c.fail(http.StatusForbidden, "Resource not accessible by integration")
			return nil, nil
		}
	case userToken:
		if t.roles[c.id.acct.login] != "maintainer" {
			c.fail(http.StatusForbidden, "You must be an organization owner or team maintainer to change team memberships.")
			return nil, nil
		}
	}
	a := s.st.accounts[strings.ToLower(c.param("username"))]
	if a == nil {
		c.notFound()
		return nil, nil
	}
	if a.typ != "User" {
		c.fail(http.StatusUnprocessableEntity, "Unprocessable Entity: only users can be team members")
		return nil, nil
	}
	return t, a
}

// PUT /orgs/{org}/teams/{team_slug}/memberships/{username}
func (s *Server) putTeamMembership(c *call) {
	var in struct {
		Role *string `json:"role"`
	}
	if !c.decode(&in) {
		return
	}
	role := "member"
	if in.Role != nil {
		role = *in.Role
	}
	if role != "member" && role != "maintainer" {
		c.invalid("TeamMembership", "role", "invalid", "role must be member or maintainer")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, a := s.teamWriter(c)
	if t == nil {
		return
	}
	if t.roles[a.login] == "" {
		t.members = append(t.members, a)
	}
	t.roles[a.login] = role
	c.json(http.StatusOK, s.teamMembershipJSON(t, a))
}

// DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}
func (s *Server) deleteTeamMembership(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, a := s.teamWriter(c)
	if t == nil {
		return
	}
	if t.roles[a.login] != "" {
		delete(t.roles, a.login)
		t.members = slices.DeleteFunc(t.members, func(m *account) bool { return m == a })
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// GET /repos/{owner}/{repo}/collaborators/{username}/permission
//
// The emulator's access model: the repository's owner and its seeded admins
// are admin, its readers read, every other seeded user write (they are org members on a
// team with write access); an App's bot reads. Anyone else is 404, as
// GitHub answers for an account that is not a collaborator.
func (s *Server) getCollaboratorPermission(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.userParam(c)
	if a == nil {
		return
	}
	perm, role := "write", "write"
	switch {
	case a == c.rp.owner || c.rp.admins[strings.ToLower(a.login)]:
		perm, role = "admin", "admin"
	case c.rp.readers[strings.ToLower(a.login)]:
		perm, role = "read", "read"
	}
	u := s.userJSON(a)
	u["role_name"] = role
	u["permissions"] = obj{"pull": true, "triage": perm != "read", "push": perm != "read", "maintain": perm == "admin", "admin": perm == "admin"}
	c.json(http.StatusOK, obj{"permission": perm, "role_name": role, "user": u})
}
