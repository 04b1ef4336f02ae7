// Package ghemutest starts the GitHub emulator for tests, shaped like
// httptest.Server, and delivers signed webhooks to a handler. It is the only
// part of the emulator that imports testing, so the product binary (which
// links ghemu for jit dev and jit ghemu) never links it.
package ghemutest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jitops/jit/controller/ghemu"
	"github.com/jitops/jit/controller/ghemu/hook"
)

// NewServer starts an emulator on a loopback port for the test tb, seeded
// with seed, shaped like httptest.Server: URL, APIURL, Client, and Close
// through tb.Cleanup (after waiting for queued webhooks). Unknown routes
// fail the test with "ghemu: unhandled METHOD PATH".
func NewServer(tb testing.TB, seed ghemu.Seed) *ghemu.Server {
	tb.Helper()
	return NewServerConfig(tb, ghemu.Config{Seed: seed})
}

// NewServerConfig is NewServer with a full Config (for a clock or a short
// InstallationTokenTTL). An empty DataDir becomes tb.TempDir() and a nil
// OnUnhandled fails the test.
func NewServerConfig(tb testing.TB, cfg ghemu.Config) *ghemu.Server {
	tb.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = tb.TempDir()
	}
	if cfg.OnUnhandled == nil {
		cfg.OnUnhandled = func(method, path string) { tb.Errorf("ghemu: unhandled %s %s", method, path) }
	}
	s, err := ghemu.New(cfg)
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
