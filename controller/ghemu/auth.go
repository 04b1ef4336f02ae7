package ghemu

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type idKind int

const (
	anonymous idKind = iota
	userToken
	installation
	appJWT
)

// identity is who a request acts as, taken from its credentials only.
type identity struct {
	kind idKind
	acct *account           // the user, or the App's bot for installation tokens
	tok  *installationToken // installation tokens only
}

func (id identity) login() string {
	switch id.kind {
	case userToken, installation:
		return id.acct.login
	case appJWT:
		return "app"
	}
	return ""
}

func (id identity) rateSubject() string {
	switch id.kind {
	case installation:
		return "installation"
	case userToken:
		return "user ID " + itoa(id.acct.id)
	}
	return "127.0.0.1"
}

var errBadCredentials = errors.New("Bad credentials")

// credential extracts the token from an Authorization header: "token X",
// "Bearer X" or HTTP basic auth with the token as password.
func credential(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return ""
	}
	scheme, rest, _ := strings.Cut(h, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "token", "bearer":
		return rest
	case "basic":
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "\x00invalid"
		}
		_, pw, _ := strings.Cut(string(b), ":")
		return pw
	}
	return "\x00invalid"
}

// authenticate resolves the request's credentials. No credentials is
// anonymous; wrong or expired ones are an error (401 Bad credentials).
func (s *Server) authenticate(r *http.Request) (identity, error) {
	tok := credential(r)
	if tok == "" {
		return identity{}, nil
	}
	if looksLikeJWT(tok) {
		return s.verifyJWT(tok)
	}
	return s.lookupToken(tok)
}

func (s *Server) lookupToken(tok string) (identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.st.tokens[tok]; a != nil {
		return identity{kind: userToken, acct: a}, nil
	}
	if it := s.st.instTokens[tok]; it != nil && s.st.app != nil {
		if !s.now().Before(it.expires) {
			return identity{}, errBadCredentials
		}
		return identity{kind: installation, acct: s.st.app.botAccount(), tok: it}, nil
	}
	return identity{}, errBadCredentials
}

func looksLikeJWT(tok string) bool {
	return strings.HasPrefix(tok, "eyJ") && strings.Count(tok, ".") == 2
}

// jwtSkew is the clock drift tolerated on iat and exp.
const jwtSkew = 60 * time.Second

// verifyJWT checks an App JWT the way GitHub documents it: RS256 signed by
// the App's key, iss = app id (decimal) or client id, integer iat not in the
// future, exp after now and at most 10 minutes ahead.
func (s *Server) verifyJWT(tok string) (identity, error) {
	s.mu.Lock()
	a := s.st.app
	s.mu.Unlock()
	if a == nil {
		return identity{}, errors.New("A JSON web token could not be decoded")
	}
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return identity{}, errors.New("A JSON web token could not be decoded")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return identity{}, errors.New("A JSON web token could not be decoded")
	}
	for _, c := range []string{"iat", "exp"} {
		if _, err := strconv.ParseInt(string(raw[c]), 10, 64); err != nil {
			return identity{}, fmt.Errorf("'%s' claim must be an Integer representing the time", c)
		}
	}
	claims := jwt.RegisteredClaims{}
	_, err = jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return &a.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(s.now), jwt.WithoutClaimsValidation())
	if err != nil {
		return identity{}, errors.New("A JSON web token could not be decoded")
	}
	if claims.Issuer != strconv.FormatInt(a.id, 10) && claims.Issuer != a.clientID {
		return identity{}, errors.New("'Issuer' claim ('iss') must be an Integer or the client ID of a GitHub App")
	}
	now := s.now()
	if claims.IssuedAt == nil || claims.IssuedAt.After(now.Add(jwtSkew)) {
		return identity{}, errors.New("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
	}
	if claims.ExpiresAt == nil || !claims.ExpiresAt.After(now) {
		return identity{}, errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	}
	if claims.ExpiresAt.After(now.Add(10*time.Minute + jwtSkew)) {
		return identity{}, errors.New("'Expiration time' claim ('exp') is too far in the future")
	}
	if claims.ExpiresAt.Sub(claims.IssuedAt.Time) > 10*time.Minute+jwtSkew {
		return identity{}, errors.New("'Expiration time' claim ('exp') is too far in the future")
	}
	return identity{kind: appJWT}, nil
}

// canRead says whether id may see rp (otherwise GitHub answers 404).
func (s *Server) canRead(id identity, rp *repo) bool {
	switch id.kind {
	case userToken:
		return true // every seeded user belongs to the org
	case installation:
		return s.st.app.installed(rp) && id.tok.covers(rp)
	case appJWT:
		return false
	}
	return !rp.private
}

func (t *installationToken) covers(rp *repo) bool {
	if t.repos == nil {
		return true
	}
	for _, r := range t.repos {
		if r == rp {
			return true
		}
	}
	return false
}

// writeDenied says why id may not write with permission perm (for example
// "contents", "pull_requests") to rp; "" means it may.
func (s *Server) writeDenied(id identity, rp *repo, perm string) string {
	switch id.kind {
	case userToken:
		if rp.readers[strings.ToLower(id.acct.login)] {
			return "Must have push access to repository"
		}
		return ""
	case installation:
		p := id.tok.permissions[perm]
		if p != "write" && p != "admin" {
			return "Resource not accessible by integration"
		}
		return ""
	}
	return "Resource not accessible by integration"
}
