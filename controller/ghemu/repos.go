package ghemu

import (
	"fmt"
	"net/http"
	"strings"
)

// GET /repos/{owner}/{repo}
func (s *Server) getRepo(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.repoJSON(c.rp)
	write := c.id.kind == userToken && !c.rp.readers[strings.ToLower(c.id.acct.login)] ||
		c.id.kind == installation && c.id.tok.permissions["contents"] == "write"
	o["permissions"] = obj{"admin": false, "maintain": false, "push": write, "triage": write, "pull": true}
	o["organization"] = nil
	if c.rp.owner.typ == "Organization" {
		o["organization"] = s.userJSON(c.rp.owner)
	}
	c.json(http.StatusOK, o)
}

// GET /repos/{owner}/{repo}/branches/{branch}
func (s *Server) getBranch(c *call) {
	rp := c.rp
	name := c.param("branch")
	sha, ok := rp.git.resolve(c.ctx, "refs/heads/"+name)
	if !ok || strings.HasPrefix(name, "refs/") {
		c.json(http.StatusNotFound, errorBody{Message: "Branch not found", DocumentationURL: c.docs(), Status: "404"})
		return
	}
	commit, err := s.commitWithFiles(c.ctx, rp, sha)
	if err != nil {
		c.fail(http.StatusInternalServerError, "Server Error")
		return
	}
	delete(commit, "files")
	delete(commit, "stats")
	s.mu.Lock()
	defer s.mu.Unlock()
	prot, protected := rp.protection[name]
	u := s.api() + "/repos/" + rp.fullName() + "/branches/" + name
	contexts := append([]string{}, prot.RequiredStatusChecks...)
	checks := []obj{}
	for _, ctxName := range contexts {
		checks = append(checks, obj{"context": ctxName, "app_id": nil})
	}
	level := "off"
	switch {
	case len(contexts) > 0 && prot.EnforceAdmins:
		level = "everyone"
	case len(contexts) > 0:
		level = "non_admins"
	}
	c.json(http.StatusOK, obj{
		"name": name, "commit": commit,
		"_links":    obj{"html": s.URL + "/" + rp.fullName() + "/tree/" + name, "self": u},
		"protected": protected,
		"protection": obj{"enabled": protected, "required_status_checks": obj{
			"enforcement_level": level, "contexts": contexts, "checks": checks,
		}},
		"protection_url": u + "/protection",
	})
}

// GET /repos/{owner}/{repo}/branches/{branch}/protection
func (s *Server) getBranchProtection(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := c.param("branch")
	prot, ok := c.rp.protection[name]
	if !ok {
		c.json(http.StatusNotFound, errorBody{Message: "Branch not protected", DocumentationURL: c.docs(), Status: "404"})
		return
	}
	u := s.api() + "/repos/" + c.rp.fullName() + "/branches/" + name + "/protection"
	contexts := append([]string{}, prot.RequiredStatusChecks...)
	checks := []obj{}
	for _, ctxName := range contexts {
		checks = append(checks, obj{"context": ctxName, "app_id": nil})
	}
	c.json(http.StatusOK, obj{
		"url": u, "enabled": true,
		"required_status_checks": obj{"url": u + "/required_status_checks", "contexts": contexts, "checks": checks,
			"strict": prot.StrictStatusChecks, "contexts_url": u + "/required_status_checks/contexts"},
		"required_pull_request_reviews": s.reviewProtectionJSON(u, prot),
		"enforce_admins":                obj{"url": u + "/enforce_admins", "enabled": prot.EnforceAdmins},
		"allow_force_pushes":            obj{"enabled": prot.AllowForcePushes},
		"allow_deletions":               obj{"enabled": prot.AllowDeletions},
	})
}

// reviewProtectionJSON is a branch's required_pull_request_reviews. The
// caller holds s.mu.
func (s *Server) reviewProtectionJSON(u string, prot SeedProtection) obj {
	o := obj{
		"url": u + "/required_pull_request_reviews", "dismiss_stale_reviews": prot.DismissStaleReviews,
		"require_code_owner_reviews": prot.RequireCodeOwnerReviews, "required_approving_review_count": prot.RequiredApprovingReviewCount,
		"require_last_push_approval": false,
	}
	if b := prot.BypassPullRequestAllowances; len(b.Users)+len(b.Teams)+len(b.Apps) > 0 {
		users, teams, apps := []obj{}, []obj{}, []obj{}
		for _, l := range b.Users {
			users = append(users, s.userJSON(s.st.accounts[strings.ToLower(l)]))
		}
		for _, t := range b.Teams {
			teams = append(teams, s.teamJSON(s.st.teams[strings.ToLower(t)]))
		}
		if len(b.Apps) > 0 {
			apps = append(apps, s.appJSON())
		}
		o["bypass_pull_request_allowances"] = obj{"users": users, "teams": teams, "apps": apps}
	}
	return o
}

// GET /repos/{owner}/{repo}/branches/{branch}/protection/required_pull_request_reviews
func (s *Server) getReviewProtection(c *call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := c.param("branch")
	prot, ok := c.rp.protection[name]
	if !ok {
		c.json(http.StatusNotFound, errorBody{Message: "Branch not protected", DocumentationURL: c.docs(), Status: "404"})
		return
	}
	c.json(http.StatusOK, s.reviewProtectionJSON(s.api()+"/repos/"+c.rp.fullName()+"/branches/"+name+"/protection", prot))
}

// codeownersPaths are where GitHub looks for CODEOWNERS, in order.
var codeownersPaths = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

// GET /repos/{owner}/{repo}/codeowners/errors
func (s *Server) codeownersErrors(c *call) {
	rp := c.rp
	_, sha, ok := c.refQuery()
	if !ok {
		return
	}
	for _, p := range codeownersPaths {
		es, err := rp.git.lsTree(c.ctx, sha, false, p)
		if err != nil || len(es) != 1 || es[0].typ != "blob" {
			continue
		}
		b, err := rp.git.catBlob(c.ctx, es[0].sha)
		if err != nil {
			c.fail(http.StatusInternalServerError, "Server Error")
			return
		}
		s.mu.Lock()
		errs := s.checkCodeowners(p, string(b))
		s.mu.Unlock()
		c.json(http.StatusOK, obj{"errors": errs})
		return
	}
	c.notFound()
}

// checkCodeowners reports CODEOWNERS lines GitHub would skip: owners that
// are not @user, @org/team or an email, unknown users or teams, and pattern
// syntax CODEOWNERS does not support (negation, character ranges).
func (s *Server) checkCodeowners(path, text string) []obj {
	errs := []obj{}
	add := func(line, col int, kind, source, msg string) {
		errs = append(errs, obj{
			"line": line, "column": col, "kind": kind, "source": source, "suggestion": nil,
			"message": fmt.Sprintf("%s on line %d: %s\n\n  %s\n  %s^", kind, line, msg, source, strings.Repeat(" ", col-1)),
			"path":    path,
		})
	}
	for i, src := range strings.Split(text, "\n") {
		line := i + 1
		src = strings.TrimRight(src, "\r")
		body := src
		if j := strings.Index(body, " #"); j >= 0 {
			body = body[:j]
		}
		trimmed := strings.TrimSpace(body)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		fields := strings.Fields(body)
		pattern := fields[0]
		switch {
		case strings.HasPrefix(pattern, "!"):
			add(line, strings.Index(src, pattern)+1, "Invalid pattern", src, "negation is not supported in CODEOWNERS")
			continue
		case pattern == "/":
			add(line, strings.Index(src, pattern)+1, "Invalid pattern", src, "the pattern `/` will never match anything, did you mean `*` instead?")
			continue
		}
		searchFrom := strings.Index(src, pattern) + len(pattern)
		for _, owner := range fields[1:] {
			col := strings.Index(src[searchFrom:], owner) + searchFrom + 1
			searchFrom = col - 1 + len(owner)
			switch {
			case strings.HasPrefix(owner, "@") && strings.Contains(owner, "/"):
				org, slug, _ := strings.Cut(owner[1:], "/")
				if !strings.EqualFold(org, s.st.org.login) || s.st.teams[strings.ToLower(slug)] == nil {
					add(line, col, "Unknown owner", src, "make sure the team "+owner+" exists, is publicly visible, and has write access to the repository")
				}
			case strings.HasPrefix(owner, "@"):
				a := s.st.accounts[strings.ToLower(owner[1:])]
				if a == nil || a.typ != "User" || !loginRE.MatchString(owner[1:]) {
					add(line, col, "Unknown owner", src, "make sure "+owner+" exists and has write access to the repository")
				}
			case strings.Contains(owner, "@") && !strings.HasPrefix(owner, "@"):
				found := false
				for _, u := range s.st.users {
					if strings.EqualFold(u.email, owner) {
						found = true
					}
				}
				if !found {
					add(line, col, "Unknown owner", src, "make sure "+owner+" belongs to a user with write access to the repository")
				}
			default:
				add(line, col, "Invalid owner", src, "owners must be @username, @org/team-name or an email address")
			}
		}
	}
	return errs
}

// GET /repos/{owner}/{repo}/rules/branches/{branch}
//
// The emulator models classic branch protection only, never rulesets, so
// every branch has no ruleset rules (GitHub answers an empty list then).
func (s *Server) branchRules(c *call) {
	c.json(http.StatusOK, paged(c, []obj{}))
}
