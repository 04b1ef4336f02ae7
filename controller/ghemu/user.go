package ghemu

import "net/http"

// GET /user: the account a user token belongs to, as GitHub's
// users/get-authenticated answers it (the public-user fields; GitHub adds
// private ones only for tokens with the user scope). Anonymous callers get
// 401 "Requires authentication", and installation tokens 403, as on
// GitHub, where an installation is no user.
func (s *Server) getAuthenticatedUser(c *call) {
	switch c.id.kind {
	case anonymous:
		c.json(http.StatusUnauthorized, errorBody{Message: "Requires authentication", DocumentationURL: c.docs(), Status: "401"})
		return
	case installation:
		c.fail(http.StatusForbidden, "Resource not accessible by integration")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c.json(http.StatusOK, s.publicUserJSON(c.id.acct))
}

// publicUserJSON is GitHub's public-user object for a: the simple user and
// the profile fields. The caller holds s.mu.
func (s *Server) publicUserJSON(a *account) obj {
	o := s.userJSON(a)
	var name, email any
	if a.name != "" {
		name = a.name
	}
	if a.email != "" {
		email = a.email
	}
	for k, v := range map[string]any{
		"name": name, "company": nil, "blog": "", "location": nil, "email": email, "hireable": nil,
		"bio": nil, "public_repos": 0, "public_gists": 0, "followers": 0, "following": 0,
		"created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
	} {
		o[k] = v
	}
	return o
}
