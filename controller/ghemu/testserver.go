package ghemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/ghemu/hook"
)

// NewServer starts an emulator on a loopback port for the test tb, seeded
// with seed, shaped like httptest.Server: URL, APIURL, Client, and Close
// through tb.Cleanup (after waiting for queued webhooks). Unknown routes
// fail the test with "ghemu: unhandled METHOD PATH".
func NewServer(tb testing.TB, seed Seed) *Server {
	tb.Helper()
	return NewServerConfig(tb, Config{Seed: seed})
}

// NewServerConfig is NewServer with a full Config (for a clock or a short
// InstallationTokenTTL). An empty DataDir becomes tb.TempDir() and a nil
// OnUnhandled fails the test.
func NewServerConfig(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = tb.TempDir()
	}
	if cfg.OnUnhandled == nil {
		cfg.OnUnhandled = func(method, path string) { tb.Errorf("ghemu: unhandled %s %s", method, path) }
	}
	s, err := New(cfg)
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

// Deliver sends payload to h as GitHub would deliver event to a webhook with
// secret: POST with X-GitHub-Event, a fresh X-GitHub-Delivery and both
// signature headers. It returns the recorded response.
func Deliver(tb testing.TB, h http.Handler, secret, event string, payload []byte) *httptest.ResponseRecorder {
	tb.Helper()
	r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(payload))
	// Set canonicalises the keys, as Go's server does for a request that
	// came over the wire spelled "X-GitHub-Event".
	r.Header.Set("User-Agent", hook.UserAgent)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(hook.HeaderEvent, event)
	r.Header.Set(hook.HeaderDelivery, hook.NewGUID())
	if secret != "" {
		r.Header.Set("X-Hub-Signature-256", hook.Sign([]byte(secret), payload))
		r.Header.Set("X-Hub-Signature", hook.SignSHA1([]byte(secret), payload))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
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
