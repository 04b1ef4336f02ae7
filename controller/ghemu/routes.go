package ghemu

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// call is one API request being handled.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context
	id    identity
	route string
	rp    *repo // repository routes only
}

func (c *call) param(name string) string { return c.r.PathValue(name) }

// refQuery returns and resolves the "ref" query parameter (default: the repository's
// default branch) to a commit, answering 404 as GitHub does when it names
// nothing.
func (c *call) refQuery() (ref, sha string, ok bool) {
	ref = c.r.URL.Query().Get("ref")
	if ref == "" {
		ref = c.rp.defaultBranch
	}
	sha, ok = c.rp.git.resolve(c.ctx, ref)
	if !ok {
		c.notFound()
	}
	return ref, sha, ok
}

func (c *call) json(status int, v any) { writeJSON(c.w, status, v) }

// fail answers GitHub's error body for this route.
func (c *call) fail(status int, msg string, errs ...fieldError) {
	b := errorBody{Message: msg, DocumentationURL: c.docs(), Status: strconv.Itoa(status)}
	if len(errs) > 0 {
		b.Errors = errs
	}
	c.json(status, b)
}

// failSimple answers 422 with GitHub's "simple" error list (strings).
func (c *call) failSimple(msgs ...string) {
	c.json(http.StatusUnprocessableEntity, errorBody{Message: "Unprocessable Entity", DocumentationURL: c.docs(), Errors: msgs, Status: "422"})
}

func (c *call) docs() string {
	if d := docsURLs[c.route]; d != "" {
		return d
	}
	return "https://docs.github.com/rest"
}

func (c *call) notFound() {
	c.json(http.StatusNotFound, errorBody{Message: "Not Found", DocumentationURL: c.docs(), Status: "404"})
}

// invalid answers 422 Validation Failed with one field error.
func (c *call) invalid(resource, field, code, msg string) {
	c.fail(http.StatusUnprocessableEntity, "Validation Failed", fieldError{Resource: resource, Field: field, Code: code, Message: msg})
}

// decode reads the JSON body into v, answering 400 like GitHub when it is
// not JSON.
func (c *call) decode(v any) bool {
	if err := readBody(c.r, v); err != nil {
		c.json(http.StatusBadRequest, errorBody{Message: "Problems parsing JSON", DocumentationURL: c.docs(), Status: "400"})
		return false
	}
	return true
}

// canWrite answers 403 (or 401 for anonymous callers) unless the caller may
// write with permission perm.
func (c *call) canWrite(perm string) bool {
	if c.id.kind == anonymous {
		c.json(http.StatusUnauthorized, errorBody{Message: "Requires authentication", DocumentationURL: c.docs(), Status: "401"})
		return false
	}
	c.s.mu.Lock()
	msg := c.s.writeDenied(c.id, c.rp, perm)
	c.s.mu.Unlock()
	if msg != "" {
		c.fail(http.StatusForbidden, msg)
		return false
	}
	return true
}

// handle registers an API route; kind says how it is authorised.
type routeKind int

const (
	publicRoute routeKind = iota // any caller (may be anonymous)
	repoRoute                    // resolves {owner}/{repo}, 404 unless visible
	appRoute                     // App JWT only
)

func (s *Server) handle(pattern string, kind routeKind, h func(*call)) {
	s.routeNames = append(s.routeNames, routeName(pattern))
	s.mux.HandleFunc(strings.Replace(pattern, " /", " /api/v3/", 1), func(w http.ResponseWriter, r *http.Request) {
		ci, _ := r.Context().Value(callKey{}).(*callInfo)
		c := &call{s: s, w: w, r: r, ctx: r.Context(), id: ci.id, route: ci.route}
		switch kind {
		case appRoute:
			if c.id.kind != appJWT {
				c.json(http.StatusUnauthorized, errorBody{
					Message:          "A JSON web token could not be decoded",
					DocumentationURL: c.docs(), Status: "401",
				})
				return
			}
		case repoRoute:
			if c.id.kind == appJWT && c.route != "GET /repos/{owner}/{repo}/installation" {
				c.fail(http.StatusForbidden, "Resource not accessible by integration")
				return
			}
			s.mu.Lock()
			rp := s.st.repos[strings.ToLower(c.param("owner")+"/"+c.param("repo"))]
			ok := rp != nil && (c.id.kind == appJWT || s.canRead(c.id, rp))
			s.mu.Unlock()
			if !ok {
				c.notFound()
				return
			}
			c.rp = rp
		default:
			if c.id.kind == appJWT {
				c.fail(http.StatusForbidden, "Resource not accessible by integration")
				return
			}
		}
		h(c)
		if c.rp != nil && r.Method != http.MethodGet {
			// Whatever the write was, it may have made an auto-merge pull
			// request mergeable.
			s.autoMergeAfterWrite(c.ctx, c.rp)
		}
	})
}

// Routes lists the REST operations the emulator implements, as
// "METHOD /path/{param}" in GitHub's spelling, sorted.
func Routes() []string {
	s := &Server{mux: http.NewServeMux()}
	s.routes()
	sort.Strings(s.routeNames)
	return s.routeNames
}

// routes registers every emulated operation.
func (s *Server) routes() {
	// apps
	s.handle("GET /app", appRoute, s.getApp)
	s.handle("GET /app/installations/{installation_id}", appRoute, s.getInstallation)
	s.handle("POST /app/installations/{installation_id}/access_tokens", appRoute, s.createInstallationToken)
	s.handle("GET /repos/{owner}/{repo}/installation", repoRoute, s.getRepoInstallation)

	// users, teams
	s.handle("GET /user", publicRoute, s.getAuthenticatedUser)
	s.handle("GET /users/{username}", publicRoute, s.getUser)
	s.handle("GET /users/{username}/keys", publicRoute, s.listUserKeys)
	s.handle("GET /orgs/{org}/teams/{team_slug}", publicRoute, s.getTeam)
	s.handle("GET /orgs/{org}/teams/{team_slug}/members", publicRoute, s.listTeamMembers)
	s.handle("GET /orgs/{org}/teams/{team_slug}/memberships/{username}", publicRoute, s.getTeamMembership)
	s.handle("PUT /orgs/{org}/teams/{team_slug}/memberships/{username}", publicRoute, s.putTeamMembership)
	s.handle("DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}", publicRoute, s.deleteTeamMembership)

	// repos
	s.handle("GET /repos/{owner}/{repo}", repoRoute, s.getRepo)
	s.handle("GET /repos/{owner}/{repo}/branches/{branch}", repoRoute, s.getBranch)
	s.handle("GET /repos/{owner}/{repo}/branches/{branch}/protection", repoRoute, s.getBranchProtection)
	s.handle("GET /repos/{owner}/{repo}/branches/{branch}/protection/required_pull_request_reviews", repoRoute, s.getReviewProtection)
	s.handle("GET /repos/{owner}/{repo}/codeowners/errors", repoRoute, s.codeownersErrors)
	s.handle("GET /repos/{owner}/{repo}/rules/branches/{branch}", repoRoute, s.branchRules)
	s.handle("GET /repos/{owner}/{repo}/collaborators/{username}/permission", repoRoute, s.getCollaboratorPermission)

	// pulls
	s.handle("GET /repos/{owner}/{repo}/pulls", repoRoute, s.listPulls)
	s.handle("POST /repos/{owner}/{repo}/pulls", repoRoute, s.createPull)
	s.handle("GET /repos/{owner}/{repo}/pulls/{pull_number}", repoRoute, s.getPull)
	s.handle("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", repoRoute, s.updatePull)
	s.handle("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", repoRoute, s.listPullCommits)
	s.handle("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", repoRoute, s.listPullFiles)
	s.handle("GET /repos/{owner}/{repo}/pulls/{pull_number}/merge", repoRoute, s.checkMerged)
	s.handle("PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge", repoRoute, s.mergePull)
	s.handle("PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch", repoRoute, s.updateBranch)

	// reviews
	s.handle("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", repoRoute, s.listReviews)
	s.handle("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews", repoRoute, s.createReview)
	s.handle("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}", repoRoute, s.getReview)
	s.handle("PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals", repoRoute, s.dismissReview)
	s.handle("POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/events", repoRoute, s.submitReview)

	// checks and statuses
	s.handle("POST /repos/{owner}/{repo}/check-runs", repoRoute, s.createCheckRun)
	s.handle("GET /repos/{owner}/{repo}/check-runs/{check_run_id}", repoRoute, s.getCheckRun)
	s.handle("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", repoRoute, s.updateCheckRun)
	s.handle("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", repoRoute, s.listCheckRuns)
	s.handle("POST /repos/{owner}/{repo}/check-runs/{check_run_id}/rerequest", repoRoute, s.rerequestCheckRun)
	s.handle("POST /repos/{owner}/{repo}/check-suites/{check_suite_id}/rerequest", repoRoute, s.rerequestCheckSuite)
	s.handle("POST /repos/{owner}/{repo}/statuses/{sha}", repoRoute, s.createStatus)
	s.handle("GET /repos/{owner}/{repo}/commits/{ref}/status", repoRoute, s.combinedStatus)
	s.handle("GET /repos/{owner}/{repo}/commits/{ref}/statuses", repoRoute, s.listStatuses)

	// commits
	s.handle("GET /repos/{owner}/{repo}/commits", repoRoute, s.listCommits)
	s.handle("GET /repos/{owner}/{repo}/commits/{ref}", repoRoute, s.getCommit)
	s.handle("GET /repos/{owner}/{repo}/compare/{basehead...}", repoRoute, s.compareCommits)

	// contents
	s.handle("GET /repos/{owner}/{repo}/contents/{path...}", repoRoute, s.getContents)
	s.handle("PUT /repos/{owner}/{repo}/contents/{path...}", repoRoute, s.putContents)
	s.handle("DELETE /repos/{owner}/{repo}/contents/{path...}", repoRoute, s.deleteContents)

	// git data
	s.handle("GET /repos/{owner}/{repo}/git/ref/{ref...}", repoRoute, s.getRef)
	s.handle("GET /repos/{owner}/{repo}/git/matching-refs/{ref...}", repoRoute, s.matchingRefs)
	s.handle("POST /repos/{owner}/{repo}/git/refs", repoRoute, s.createRef)
	s.handle("PATCH /repos/{owner}/{repo}/git/refs/{ref...}", repoRoute, s.updateRef)
	s.handle("DELETE /repos/{owner}/{repo}/git/refs/{ref...}", repoRoute, s.deleteRef)
	s.handle("POST /repos/{owner}/{repo}/git/trees", repoRoute, s.createTree)
	s.handle("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", repoRoute, s.getTree)
	s.handle("POST /repos/{owner}/{repo}/git/commits", repoRoute, s.createGitCommit)
	s.handle("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", repoRoute, s.getGitCommit)
	s.handle("POST /repos/{owner}/{repo}/git/blobs", repoRoute, s.createBlob)
	s.handle("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", repoRoute, s.getBlob)

	// issues: comments and labels (pull requests are issues)
	s.handle("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", repoRoute, s.listComments)
	s.handle("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", repoRoute, s.createComment)
	s.handle("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", repoRoute, s.updateComment)
	s.handle("GET /repos/{owner}/{repo}/issues/{issue_number}/labels", repoRoute, s.listLabels)
	s.handle("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", repoRoute, s.addLabels)
	s.handle("PUT /repos/{owner}/{repo}/issues/{issue_number}/labels", repoRoute, s.setLabels)
	s.handle("DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", repoRoute, s.removeLabel)
}
