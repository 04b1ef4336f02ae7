package ghapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitops/jit/controller/ghapi"
)

func TestNewConfigErrors(t *testing.T) {
	valid := func() ghapi.Config {
		return ghapi.Config{APIURL: "https://ghe.example/api/v3/", AppID: 1, PrivateKeyPEM: []byte("x"), InstallationID: 3, Owner: "acme", Repo: "access"}
	}
	tests := map[string]struct {
		edit func(*ghapi.Config)
		want []string // every fragment must be in the message
	}{
		"no api url":       {func(c *ghapi.Config) { c.APIURL = "" }, []string{"Config.APIURL is empty"}},
		"relative api url": {func(c *ghapi.Config) { c.APIURL = "/api/v3/" }, []string{`Config.APIURL "/api/v3/" is not an absolute http(s) URL`}},
		"ftp api url":      {func(c *ghapi.Config) { c.APIURL = "ftp://h/" }, []string{"Config.APIURL", "not an absolute http(s) URL"}},
		"zero app id":      {func(c *ghapi.Config) { c.AppID = 0 }, []string{"Config.AppID is 0"}},
		"no key":           {func(c *ghapi.Config) { c.PrivateKeyPEM = nil }, []string{"Config.PrivateKeyPEM is empty"}},
		"bad key":          {func(c *ghapi.Config) {}, []string{"Config.PrivateKeyPEM", "RSA private key in PEM"}},
		"negative inst":    {func(c *ghapi.Config) { c.InstallationID = -1 }, []string{"Config.InstallationID is -1"}},
		"no owner":         {func(c *ghapi.Config) { c.Owner = "" }, []string{`Config.Owner ""`}},
		"owner/repo":       {func(c *ghapi.Config) { c.Repo = "acme/access" }, []string{`Config.Repo "acme/access" is not a repository name`}},
		"negative retry":   {func(c *ghapi.Config) { c.Retry.Base = -time.Second }, []string{"Config.Retry", "negative"}},
		"every problem": {func(c *ghapi.Config) { c.AppID, c.Owner = 0, "" },
			[]string{"Config.AppID", "Config.Owner"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := valid()
			tc.edit(&cfg)
			_, err := ghapi.New(context.Background(), cfg)
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestNewLooksUpInstallation(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(cfg *ghapi.Config) { cfg.InstallationID = 0 })
	if got := c.InstallationID(); got != 7 {
		t.Errorf("InstallationID = %d, want 7", got)
	}
	if n := e.count("GET /repos/{owner}/{repo}/installation"); n != 1 {
		t.Errorf("installation looked up %d times, want 1", n)
	}
	tok, err := c.Token(context.Background())
	if err != nil || tok == "" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	again, _ := c.Token(context.Background())
	if again != tok {
		t.Errorf("second Token = %q, want the cached %q", again, tok)
	}
	if got := e.obs.statuses("POST /app/installations/{installation_id}/access_tokens"); !cmp.Equal(got, []int{201}) {
		t.Errorf("token requests observed = %v, want [201]", got)
	}
	if got := e.obs.statuses("GET /repos/{owner}/{repo}/installation"); !cmp.Equal(got, []int{200}) {
		t.Errorf("installation lookups observed = %v, want [200]", got)
	}
}

func TestNewUninstalledRepository(t *testing.T) {
	e := newEnv(t)
	_, err := ghapi.New(context.Background(), func() ghapi.Config {
		cfg := e.config(t)
		cfg.InstallationID, cfg.Repo = 0, "elsewhere"
		return cfg
	}())
	var ge *ghapi.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusNotFound || !strings.Contains(err.Error(), "Config.InstallationID") {
		t.Fatalf("New on a repository without the App = %v, want a 404 naming Config.InstallationID", err)
	}
}

func TestRepositoryAndServerNow(t *testing.T) {
	e := newEnv(t)
	past := time.Now().Add(time.Hour) // a local clock ahead of GitHub's
	c := e.client(t, func(cfg *ghapi.Config) { cfg.Now = func() time.Time { return past } })
	if got := c.ServerNow(); !got.Equal(past.Truncate(time.Second)) {
		t.Errorf("ServerNow before any response = %v, want the local clock %v", got, past.Truncate(time.Second))
	}
	r, err := c.Repository(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := ghapi.Repository{FullName: "acme/access", DefaultBranch: "main", CloneURL: e.srv.URL + "/acme/access.git"}
	if d := cmp.Diff(want, r); d != "" {
		t.Errorf("Repository (-want +got):\n%s", d)
	}
	got := c.ServerNow()
	if !got.Before(past.Add(-50*time.Minute)) || got.Nanosecond() != 0 || time.Since(got) > time.Minute {
		t.Errorf("ServerNow = %v, want GitHub's Date (about now, whole seconds), not the local %v", got, past)
	}
}

func TestRetriesServerErrors(t *testing.T) {
	e := newEnv(t)
	const route = "GET /repos/{owner}/{repo}"
	e.srv.FailNext(route, 2, http.StatusBadGateway)
	if _, err := e.c.Repository(context.Background()); err != nil {
		t.Fatalf("Repository after two 502s: %v", err)
	}
	if got := e.obs.statuses(route); !cmp.Equal(got, []int{502, 502, 200}) {
		t.Errorf("observed %v, want [502 502 200]", got)
	}

	e.srv.FailNext(route, 5, http.StatusServiceUnavailable)
	_, err := e.c.Repository(context.Background())
	var ge *ghapi.Error
	if !errors.As(err, &ge) || ge.Status != 503 || ge.Route != route {
		t.Fatalf("Repository after five 503s = %v, want *Error 503 on %s", err, route)
	}
	if n := len(e.obs.statuses(route)); n != 3+5 {
		t.Errorf("%d attempts observed, want 3 then 5", n)
	}
}

func TestNeverRetriesOtherClientErrors(t *testing.T) {
	e := newEnv(t)
	const route = "GET /repos/{owner}/{repo}/pulls/{pull_number}"
	e.srv.FailNext(route, 1, http.StatusForbidden) // a 403 that is no rate limit
	_, err := e.c.PullRequest(context.Background(), 1)
	if status(err) != http.StatusForbidden {
		t.Fatalf("PullRequest = %v, want the 403", err)
	}
	if got := e.obs.statuses(route); !cmp.Equal(got, []int{403}) {
		t.Errorf("observed %v, want one attempt", got)
	}
}

func TestRetriesRateLimit(t *testing.T) {
	e := newEnv(t)
	const route = "GET /repos/{owner}/{repo}"
	e.srv.RateLimitNext(route, 1)
	start := time.Now()
	if _, err := e.c.Repository(context.Background()); err != nil {
		t.Fatalf("Repository after a rate limit: %v", err)
	}
	if got := e.obs.statuses(route); !cmp.Equal(got, []int{403, 200}) {
		t.Errorf("observed %v, want [403 200]", got)
	}
	if time.Since(start) > 2500*time.Millisecond {
		t.Errorf("waited %v for a reset at most a second away", time.Since(start))
	}
	// A later call is not refused by go-github's own memory of the limit.
	if _, err := e.c.Repository(context.Background()); err != nil {
		t.Errorf("the next call: %v", err)
	}
}

func TestRateLimitBeyondMax(t *testing.T) {
	e := newEnv(t)
	// A local clock an hour behind puts the reset an hour away.
	behind := func() time.Time { return time.Now().Add(-time.Hour) }
	c := e.client(t, func(cfg *ghapi.Config) { cfg.Now = behind })
	const route = "GET /repos/{owner}/{repo}"
	e.srv.RateLimitNext(route, 1)
	start := time.Now()
	_, err := c.Repository(context.Background())
	var rl *ghapi.RateLimitError
	if !errors.As(err, &rl) || rl.Route != route {
		t.Fatalf("Repository = %v, want *RateLimitError on %s", err, route)
	}
	if time.Since(start) > time.Second {
		t.Errorf("slept %v although the reset is beyond Max", time.Since(start))
	}
	if rl.Reset.Before(behind().Add(50*time.Minute)) || !strings.Contains(err.Error(), "rate limit") {
		t.Errorf("RateLimitError = %v (reset %v), want a reset about an hour ahead of the local clock", err, rl.Reset)
	}
	if got := e.obs.statuses(route); !cmp.Equal(got, []int{403}) {
		t.Errorf("observed %v, want one attempt", got)
	}
}

func TestContextCancelStopsWait(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(cfg *ghapi.Config) { cfg.Retry = ghapi.Retry{Base: time.Minute, Max: time.Minute} })
	e.srv.FailNext("GET /repos/{owner}/{repo}", 1, http.StatusBadGateway)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Repository(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Repository = %v, want the context's deadline", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("returned after %v; the wait ignored the context", time.Since(start))
	}
}

func status(err error) int {
	var ge *ghapi.Error
	if errors.As(err, &ge) {
		return ge.Status
	}
	return 0
}

// TestServerNowAdvancesWithTheLocalClock: GitHub's clock is estimated from
// the latest Date header plus the local time since it arrived, so an App
// idle for a while does not count an expiry from a stale Date.
func TestServerNowAdvancesWithTheLocalClock(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	local := time.Now().Add(time.Hour) // ahead of GitHub's clock
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return local }
	c := e.client(t, func(cfg *ghapi.Config) { cfg.Now = now })
	if _, err := c.Repository(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := c.ServerNow()
	mu.Lock()
	local = local.Add(10 * time.Minute)
	mu.Unlock()
	second := c.ServerNow()
	if d := second.Sub(first); d < 10*time.Minute-time.Second || d > 10*time.Minute+time.Second {
		t.Errorf("ServerNow moved by %v after the local clock moved 10m, want 10m", d)
	}
	if !second.Before(now()) {
		t.Errorf("ServerNow %v is not earlier than the local clock %v that runs ahead", second, now())
	}
}
