package ghemu

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// NewServer starts an emulator on a loopback port for the test tb, seeded
// with seed, shaped like httptest.Server: URL, APIURL, Client, and Close
// through tb.Cleanup (after waiting for queued webhooks). Unknown routes
// fail the test with "ghemu: unhandled METHOD PATH".
func NewServer(tb testing.TB, seed Seed) *Server {
	tb.Helper()
	s, err := New(Config{
		DataDir:     tb.TempDir(),
		Seed:        seed,
		OnUnhandled: func(method, path string) { tb.Errorf("ghemu: unhandled %s %s", method, path) },
	})
	if err != nil {
		tb.Fatalf("ghemu: %v", err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("ghemu: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := s.WaitDeliveries(ctx); err != nil {
			tb.Logf("ghemu: %v", err)
		}
		s.Close()
	})
	return s
}

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
