package ghemu

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// Token returns the personal access token of a seeded user ("" if unknown).
func (s *Server) Token(login string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.st.accounts[strings.ToLower(login)]; a != nil && a.typ == "User" {
		return a.token
	}
	return ""
}

// Tokens maps every seeded user's login to their personal access token.
func (s *Server) Tokens() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]string{}
	for _, a := range s.st.users {
		m[a.login] = a.token
	}
	return m
}

// App describes the seeded GitHub App, for building ghinstallation
// transports: its ids and its private key in PEM.
type App struct {
	ID             int64
	ClientID       string
	Slug           string
	InstallationID int64
	PrivateKeyPEM  []byte
}

// App returns the seeded App; ok is false when the seed has none.
func (s *Server) App() (App, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.st.app
	if a == nil {
		return App{}, false
	}
	return App{ID: a.id, ClientID: a.clientID, Slug: a.slug, InstallationID: a.installationID,
		PrivateKeyPEM: append([]byte(nil), a.keyPEM...)}, true
}

// Client returns a go-github client acting as login (authenticated with the
// user's token; "" means anonymous), with BaseURL set to APIURL.
func (s *Server) Client(login string) *github.Client {
	return s.ClientWithTransport(login, nil)
}

// ClientWithTransport is Client sending through base (nil means
// http.DefaultTransport), for example a contract-validating transport.
func (s *Server) ClientWithTransport(login string, base http.RoundTripper) *github.Client {
	hc := &http.Client{Transport: base}
	c := github.NewClient(hc)
	if tok := s.Token(login); tok != "" {
		c = c.WithAuthToken(tok)
	}
	u, _ := url.Parse(s.APIURL)
	c.BaseURL = u
	c.UploadURL = u
	return c
}

// AppClient returns a go-github client authenticated as the seeded App
// (RS256 JWTs from ghinstallation's AppsTransport, unchanged), sending
// through base (nil means http.DefaultTransport).
func (s *Server) AppClient(base http.RoundTripper) (*github.Client, error) {
	app, ok := s.App()
	if !ok {
		return nil, errors.New("ghemu: the seed has no app")
	}
	if base == nil {
		base = http.DefaultTransport
	}
	atr, err := ghinstallation.NewAppsTransport(base, app.ID, app.PrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("ghemu: app transport: %w", err)
	}
	atr.BaseURL = strings.TrimSuffix(s.APIURL, "/")
	return s.withBase(github.NewClient(&http.Client{Transport: atr})), nil
}

// InstallationClient returns a go-github client acting as the App's
// installation (the "<slug>[bot]" identity) through ghinstallation's
// Transport, unchanged, sending through base (nil means
// http.DefaultTransport).
func (s *Server) InstallationClient(base http.RoundTripper) (*github.Client, error) {
	app, ok := s.App()
	if !ok {
		return nil, errors.New("ghemu: the seed has no app")
	}
	if base == nil {
		base = http.DefaultTransport
	}
	itr, err := ghinstallation.New(base, app.ID, app.InstallationID, app.PrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("ghemu: installation transport: %w", err)
	}
	itr.BaseURL = strings.TrimSuffix(s.APIURL, "/")
	return s.withBase(github.NewClient(&http.Client{Transport: itr})), nil
}

func (s *Server) withBase(c *github.Client) *github.Client {
	u, _ := url.Parse(s.APIURL)
	c.BaseURL, c.UploadURL = u, u
	return c
}
