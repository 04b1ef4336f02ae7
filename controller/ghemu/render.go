package ghemu

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// obj is a JSON object as GitHub renders it. Rendering functions never run
// git: whatever needs git is computed before and stored on the model.
type obj = map[string]any

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ts renders a time the way GitHub does: RFC 3339, UTC, whole seconds.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func strPtr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// nodeID builds a GraphQL-style global id like GitHub's legacy ones.
func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%02d:%s%d", len(kind), kind, id)))
}

func (s *Server) api() string { return s.URL + "/api/v3" }

func (s *Server) userJSON(a *account) obj {
	if a == nil {
		return nil
	}
	login := url.PathEscape(a.login)
	u := s.api() + "/users/" + login
	html := s.URL + "/" + login
	if a.typ == "Bot" {
		html = s.URL + "/apps/" + url.PathEscape(s.st.app.slug)
	}
	return obj{
		"login": a.login, "id": a.id, "node_id": nodeID(a.typ, a.id),
		"avatar_url": s.URL + "/avatars/u/" + itoa(a.id), "gravatar_id": "",
		"url": u, "html_url": html,
		"followers_url": u + "/followers", "following_url": u + "/following{/other_user}",
		"gists_url": u + "/gists{/gist_id}", "starred_url": u + "/starred{/owner}{/repo}",
		"subscriptions_url": u + "/subscriptions", "organizations_url": u + "/orgs",
		"repos_url": u + "/repos", "events_url": u + "/events{/privacy}",
		"received_events_url": u + "/received_events", "type": a.typ, "site_admin": false,
		"user_view_type": "public",
	}
}

func (s *Server) orgJSON(o *account) obj {
	u := s.api() + "/orgs/" + o.login
	return obj{
		"login": o.login, "id": o.id, "node_id": nodeID("Organization", o.id), "url": u,
		"repos_url": u + "/repos", "events_url": u + "/events", "hooks_url": u + "/hooks",
		"issues_url": u + "/issues", "members_url": u + "/members{/member}",
		"public_members_url": u + "/public_members{/member}",
		"avatar_url":         s.URL + "/avatars/u/" + itoa(o.id), "description": nil,
	}
}

// repoJSON renders a repository with every field any of GitHub's repository
// schemas (REST full-repository, webhook repository) requires.
func (s *Server) repoJSON(rp *repo) obj {
	u := s.api() + "/repos/" + rp.fullName()
	html := s.URL + "/" + rp.fullName()
	vis := "private"
	if !rp.private {
		vis = "public"
	}
	open := 0
	for _, is := range rp.issues {
		if is.pr != nil && is.pr.state == "open" {
			open++
		}
	}
	return obj{
		"id": rp.id, "node_id": nodeID("Repository", rp.id), "name": rp.name, "full_name": rp.fullName(),
		"owner": s.userJSON(rp.owner), "private": rp.private, "html_url": html, "description": nil,
		"fork": false, "url": u,
		"archive_url":       u + "/{archive_format}{/ref}",
		"assignees_url":     u + "/assignees{/user}",
		"blobs_url":         u + "/git/blobs{/sha}",
		"branches_url":      u + "/branches{/branch}",
		"collaborators_url": u + "/collaborators{/collaborator}",
		"comments_url":      u + "/comments{/number}",
		"commits_url":       u + "/commits{/sha}",
		"compare_url":       u + "/compare/{base}...{head}",
		"contents_url":      u + "/contents/{+path}",
		"contributors_url":  u + "/contributors",
		"deployments_url":   u + "/deployments",
		"downloads_url":     u + "/downloads",
		"events_url":        u + "/events",
		"forks_url":         u + "/forks",
		"git_commits_url":   u + "/git/commits{/sha}",
		"git_refs_url":      u + "/git/refs{/sha}",
		"git_tags_url":      u + "/git/tags{/sha}",
		"git_url":           "git:" + s.URL[len("http:"):] + "/" + rp.fullName() + ".git",
		"issue_comment_url": u + "/issues/comments{/number}",
		"issue_events_url":  u + "/issues/events{/number}",
		"issues_url":        u + "/issues{/number}",
		"keys_url":          u + "/keys{/key_id}",
		"labels_url":        u + "/labels{/name}",
		"languages_url":     u + "/languages",
		"merges_url":        u + "/merges",
		"milestones_url":    u + "/milestones{/number}",
		"notifications_url": u + "/notifications{?since,all,participating}",
		"pulls_url":         u + "/pulls{/number}",
		"releases_url":      u + "/releases{/id}",
		"ssh_url":           "git@" + hostOf(s.URL) + ":" + rp.fullName() + ".git",
		"stargazers_url":    u + "/stargazers",
		"statuses_url":      u + "/statuses/{sha}",
		"subscribers_url":   u + "/subscribers",
		"subscription_url":  u + "/subscription",
		"tags_url":          u + "/tags",
		"teams_url":         u + "/teams",
		"trees_url":         u + "/git/trees{/sha}",
		"clone_url":         s.GitURL(rp.owner.login, rp.name),
		"mirror_url":        nil,
		"hooks_url":         u + "/hooks",
		"svn_url":           html,
		"homepage":          nil, "language": nil,
		"forks_count": 0, "stargazers_count": 0, "watchers_count": 0, "size": 0,
		"default_branch": rp.defaultBranch, "open_issues_count": open,
		"is_template": false, "topics": []string{},
		"has_issues": true, "has_projects": false, "has_wiki": false, "has_pages": false,
		"has_downloads": false, "has_discussions": false, "archived": false, "disabled": false,
		"visibility": vis, "pushed_at": ts(rp.pushed), "created_at": ts(rp.created), "updated_at": ts(rp.pushed),
		"allow_forking": false, "web_commit_signoff_required": false,
		"subscribers_count": 0, "network_count": 0, "license": nil,
		"forks": 0, "open_issues": open, "watchers": 0,
		"allow_squash_merge": true, "allow_merge_commit": true, "allow_rebase_merge": false,
		"allow_auto_merge": rp.allowAutoMerge, "delete_branch_on_merge": false,
	}
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "localhost"
	}
	return p.Hostname()
}

func (s *Server) labelJSON(rp *repo, l *label) obj {
	return obj{
		"id": l.id, "node_id": nodeID("Label", l.id), "url": s.api() + "/repos/" + rp.fullName() + "/labels/" + url.PathEscape(l.name),
		"name": l.name, "description": nil, "color": l.color, "default": false,
	}
}

func link(href string) obj { return obj{"href": href} }

// pullJSON renders a pull request (REST pull-request and the webhook
// pull_request object).
func (s *Server) pullJSON(rp *repo, p *pull) obj {
	u := s.api() + "/repos/" + rp.fullName()
	self := u + "/pulls/" + strconv.Itoa(p.number)
	html := s.URL + "/" + rp.fullName() + "/pull/" + strconv.Itoa(p.number)
	issue := u + "/issues/" + strconv.Itoa(p.number)
	is := rp.issues[p.number]
	labels := []obj{}
	comments := 0
	if is != nil {
		for _, l := range is.labels {
			labels = append(labels, s.labelJSON(rp, l))
		}
		comments = len(is.comments)
	}
	repoJ := s.repoJSON(rp)
	side := func(ref, sha string) obj {
		return obj{"label": rp.owner.login + ":" + ref, "ref": ref, "sha": sha, "user": s.userJSON(rp.owner), "repo": repoJ}
	}
	var mergeable any
	if p.state == "open" && p.stats.known {
		mergeable = p.stats.mergeable
	}
	mstate := "unknown"
	if p.state == "open" && p.stats.known {
		mstate = "clean"
		switch {
		case !p.stats.mergeable:
			mstate = "dirty"
		case p.draft:
			mstate = "draft"
		case s.protectionMessage(rp, p, p.headSHA) == headBehindMessage:
			mstate = "behind"
		case s.protectionMessage(rp, p, p.headSHA) != "":
			mstate = "blocked"
		}
	}
	var mcs any
	if p.mergeCommitSHA != "" {
		mcs = p.mergeCommitSHA
	} else if p.stats.testMerge != "" {
		mcs = p.stats.testMerge
	}
	return obj{
		"url": self, "id": p.id, "node_id": nodeID("PullRequest", p.id), "html_url": html,
		"diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issue,
		"commits_url": self + "/commits", "review_comments_url": self + "/comments",
		"review_comment_url": u + "/pulls/comments{/number}", "comments_url": issue + "/comments",
		"statuses_url": u + "/statuses/" + p.headSHA,
		"number":       p.number, "state": p.state, "locked": false, "title": p.title,
		"user": s.userJSON(p.user), "body": strPtr(p.body), "labels": labels, "milestone": nil,
		"active_lock_reason": nil,
		"created_at":         ts(p.created), "updated_at": ts(p.updated), "closed_at": tsPtr(p.closedAt),
		"merged_at": tsPtr(p.mergedAt), "merge_commit_sha": mcs, "assignee": nil, "assignees": []obj{},
		"requested_reviewers": []obj{}, "requested_teams": []obj{},
		"head": side(p.headRef, p.headSHA), "base": side(p.baseRef, p.baseSHA),
		"_links": obj{
			"self": link(self), "html": link(html), "issue": link(issue), "comments": link(issue + "/comments"),
			"review_comments": link(self + "/comments"), "review_comment": link(u + "/pulls/comments{/number}"),
			"commits": link(self + "/commits"), "statuses": link(u + "/statuses/" + p.headSHA),
		},
		"author_association": s.association(rp, p.user), "auto_merge": s.autoMergeJSON(rp, p), "draft": p.draft,
		"merged": p.mergedAt != nil, "mergeable": mergeable, "rebaseable": false, "mergeable_state": mstate,
		"merged_by": s.userJSON(p.mergedBy), "comments": comments, "review_comments": 0,
		"maintainer_can_modify": false, "commits": p.stats.commits, "additions": p.stats.additions,
		"deletions": p.stats.deletions, "changed_files": p.stats.changedFiles,
	}
}

// pullSimpleJSON is the list form (pull-request-simple).
func (s *Server) pullSimpleJSON(rp *repo, p *pull) obj {
	o := s.pullJSON(rp, p)
	for _, k := range []string{"merged", "mergeable", "rebaseable", "mergeable_state", "merged_by", "comments",
		"review_comments", "maintainer_can_modify", "commits", "additions", "deletions", "changed_files"} {
		delete(o, k)
	}
	return o
}

func (s *Server) association(rp *repo, a *account) string {
	if a == nil {
		return "NONE"
	}
	switch a.typ {
	case "Bot":
		return "NONE"
	case "User":
		if rp.owner == a {
			return "OWNER"
		}
		if rp.owner.typ == "Organization" {
			return "MEMBER"
		}
		return "COLLABORATOR"
	}
	return "NONE"
}

func (s *Server) reviewJSON(rp *repo, p *pull, rv *review, webhook bool) obj {
	prURL := s.api() + "/repos/" + rp.fullName() + "/pulls/" + strconv.Itoa(p.number)
	html := s.URL + "/" + rp.fullName() + "/pull/" + strconv.Itoa(p.number) + "#pullrequestreview-" + itoa(rv.id)
	state := rv.state
	if webhook {
		state = lower(state)
	}
	o := obj{
		"id": rv.id, "node_id": nodeID("PullRequestReview", rv.id), "user": s.userJSON(rv.user),
		"body": rv.body, "state": state, "html_url": html, "pull_request_url": prURL,
		"_links":    obj{"html": link(html), "pull_request": link(prURL)},
		"commit_id": rv.commitID, "author_association": s.association(rp, rv.user),
	}
	if rv.submittedAt != nil {
		o["submitted_at"] = ts(*rv.submittedAt)
	} else if webhook {
		o["submitted_at"] = nil
	}
	return o
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func (s *Server) commentJSON(rp *repo, number int, c *comment) obj {
	u := s.api() + "/repos/" + rp.fullName() + "/issues/comments/" + itoa(c.id)
	o := obj{
		"id": c.id, "node_id": nodeID("IssueComment", c.id), "url": u,
		"html_url":   s.URL + "/" + rp.fullName() + "/pull/" + strconv.Itoa(number) + "#issuecomment-" + itoa(c.id),
		"body":       c.body,
		"user":       s.userJSON(c.user),
		"issue_url":  s.api() + "/repos/" + rp.fullName() + "/issues/" + strconv.Itoa(number),
		"created_at": ts(c.created), "updated_at": ts(c.updated),
		"author_association":       s.association(rp, c.user),
		"performed_via_github_app": nil,
		"reactions": obj{"url": u + "/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
			"confused": 0, "heart": 0, "hooray": 0, "eyes": 0, "rocket": 0},
	}
	if c.viaApp && s.st.app != nil {
		o["performed_via_github_app"] = s.appJSON()
	}
	return o
}

// appJSON is the App as GitHub renders it ("integration").
func (s *Server) appJSON() obj {
	a := s.st.app
	return obj{
		"id": a.id, "slug": a.slug, "node_id": nodeID("App", a.id), "client_id": a.clientID,
		"owner": s.userJSON(a.owner), "name": a.name, "description": "",
		"external_url": s.URL, "html_url": s.URL + "/apps/" + a.slug,
		"created_at": ts(time.Unix(1700000000, 0)), "updated_at": ts(time.Unix(1700000000, 0)),
		"permissions": a.permissions, "events": a.events, "installations_count": 1,
	}
}

func (s *Server) installationJSON() obj {
	a := s.st.app
	sel := "all"
	if len(a.repos) > 0 {
		sel = "selected"
	}
	return obj{
		"id": a.installationID, "account": s.userJSON(a.owner), "repository_selection": sel,
		"access_tokens_url": s.api() + "/app/installations/" + itoa(a.installationID) + "/access_tokens",
		"repositories_url":  s.api() + "/installation/repositories",
		"html_url":          s.URL + "/organizations/" + a.owner.login + "/settings/installations/" + itoa(a.installationID),
		"app_id":            a.id, "app_slug": a.slug, "client_id": a.clientID, "target_id": a.owner.id, "target_type": a.owner.typ,
		"permissions": a.permissions, "events": a.events,
		"created_at": ts(time.Unix(1700000000, 0)), "updated_at": ts(time.Unix(1700000000, 0)),
		"single_file_name": nil, "has_multiple_single_files": false, "single_file_paths": []string{},
		"suspended_by": nil, "suspended_at": nil,
	}
}
