package ghapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/grant"
)

// Log attribute keys.
const (
	logKeyRoute   = "route"
	logKeyStatus  = "status"
	logKeyAttempt = "attempt"
	logKeyWait    = "wait"
	logKeyRepo    = "repo"
	logKeyInst    = "installation_id"
	logKeySHA     = "sha"
	logKeyBranch  = "branch"
	logKeyErr     = "err"
)

// Config configures a Client.
type Config struct {
	// APIURL is the REST base URL: "https://api.github.com/" or a GitHub Enterprise Server
	// (or the emulator) "https://HOST/api/v3/". Required, absolute http(s).
	APIURL        string
	AppID         int64  // required, > 0
	PrivateKeyPEM []byte // the App's RSA private key (PEM); required
	// InstallationID: 0 means look it up once with GET /repos/{owner}/{repo}/installation (App JWT).
	InstallationID int64
	Owner, Repo    string            // the access repository; required
	Transport      http.RoundTripper // nil: http.DefaultTransport
	Retry          Retry
	// Observe, when set, is called once per HTTP attempt with the documented route
	// ("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"), the status (0 when no
	// response arrived) and the time taken. Used for Prometheus metrics.
	Observe func(route string, status int, elapsed time.Duration)
	Logger  *slog.Logger     // nil: discard
	Now     func() time.Time // nil: time.Now
}

// Retry says how often and how patiently a request is retried.
type Retry struct {
	Attempts int           // total attempts per request; 0 → 5
	Base     time.Duration // first backoff; 0 → 250ms (exponential with jitter, capped by Max)
	Max      time.Duration // longest single wait; 0 → 60s. A Retry-After / X-RateLimit-Reset
	// further away than Max is not slept: the call fails with *RateLimitError
}

// Client is the App's GitHub client for one access repository, acting as
// the App's installation. Its methods are safe for concurrent use.
type Client struct {
	owner, repo string
	appID       int64
	instID      int64
	gh          *github.Client // as the installation
	app         *github.Client // as the App (JWT)
	itr         *ghinstallation.Transport
	tr          *transport
	log         *slog.Logger
	now         func() time.Time
	retry       Retry

	mu       sync.Mutex
	botLogin string
	commits  map[commitsKey][]grant.Commit
	teams    map[string]cached[[]string]
	perms    map[string]cached[string]
	checks   map[string]*shaChecks
	stickies map[stickyKey]*sticky
	shaLocks keyedLock[string]
	prLocks  keyedLock[int]
}

// New checks cfg, builds the client and, when cfg.InstallationID is 0,
// looks the installation up once. Every configuration error names the
// setting that is wrong.
func New(ctx context.Context, cfg Config) (*Client, error) {
	base, err := checkConfig(&cfg)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := &transport{base: cfg.Transport, retry: cfg.Retry, observe: cfg.Observe, log: log, now: cfg.Now}
	atr, err := ghinstallation.NewAppsTransport(tr, cfg.AppID, cfg.PrivateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("ghapi: Config.PrivateKeyPEM: %w; give the App's RSA private key in PEM", err)
	}
	atr.BaseURL = strings.TrimSuffix(base.String(), "/")
	c := &Client{
		owner: cfg.Owner, repo: cfg.Repo, appID: cfg.AppID, tr: tr, log: log, now: cfg.Now, retry: cfg.Retry,
		app:     withBase(github.NewClient(&http.Client{Transport: atr}), base),
		commits: map[commitsKey][]grant.Commit{}, teams: map[string]cached[[]string]{},
		perms: map[string]cached[string]{}, checks: map[string]*shaChecks{}, stickies: map[stickyKey]*sticky{},
	}
	c.instID = cfg.InstallationID
	if c.instID == 0 {
		const route = "GET /repos/{owner}/{repo}/installation"
		inst, _, err := c.app.Apps.FindRepositoryInstallation(withRoute(ctx, route), c.owner, c.repo)
		if err != nil {
			return nil, fmt.Errorf("looking up the App's installation on %s/%s (set Config.InstallationID, or install the App on the repository): %w",
				c.owner, c.repo, wrap(route, err))
		}
		c.instID = inst.GetID()
		c.botLogin = botLogin(inst.GetAppSlug())
	}
	c.itr = ghinstallation.NewFromAppsTransport(atr, c.instID)
	c.itr.BaseURL = atr.BaseURL
	tr.tokenPath = base.Path + "app/installations/" + strconv.FormatInt(c.instID, 10) + "/access_tokens"
	c.gh = withBase(github.NewClient(&http.Client{Transport: c.itr}), base)
	log.Debug("GitHub client ready", logKeyRepo, c.owner+"/"+c.repo, logKeyInst, c.instID)
	return c, nil
}

// checkConfig validates cfg, fills its defaults and returns the parsed API
// base URL (with a trailing slash).
func checkConfig(cfg *Config) (*url.URL, error) {
	var errs []error
	base, err := url.Parse(cfg.APIURL)
	switch {
	case cfg.APIURL == "":
		errs = append(errs, errors.New("ghapi: Config.APIURL is empty; give the REST base URL, https://api.github.com/ or https://HOST/api/v3/"))
	case err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" || base.Fragment != "":
		errs = append(errs, fmt.Errorf("ghapi: Config.APIURL %q is not an absolute http(s) URL; give https://api.github.com/ or https://HOST/api/v3/", cfg.APIURL))
	default:
		if !strings.HasSuffix(base.Path, "/") {
			base.Path += "/"
		}
	}
	if cfg.AppID <= 0 {
		errs = append(errs, fmt.Errorf("ghapi: Config.AppID is %d; give the App's numeric id (> 0)", cfg.AppID))
	}
	if len(cfg.PrivateKeyPEM) == 0 {
		errs = append(errs, errors.New("ghapi: Config.PrivateKeyPEM is empty; give the App's RSA private key in PEM"))
	}
	if cfg.InstallationID < 0 {
		errs = append(errs, fmt.Errorf("ghapi: Config.InstallationID is %d; give the installation's id, or 0 to look it up", cfg.InstallationID))
	}
	if cfg.Owner == "" || strings.Contains(cfg.Owner, "/") {
		errs = append(errs, fmt.Errorf("ghapi: Config.Owner %q is not an account login; give the access repository's owner", cfg.Owner))
	}
	if cfg.Repo == "" || strings.Contains(cfg.Repo, "/") {
		errs = append(errs, fmt.Errorf("ghapi: Config.Repo %q is not a repository name; give the access repository's name without its owner", cfg.Repo))
	}
	r := &cfg.Retry
	if r.Attempts < 0 || r.Base < 0 || r.Max < 0 {
		errs = append(errs, fmt.Errorf("ghapi: Config.Retry %+v has a negative value; use 0 for the defaults", *r))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if r.Attempts == 0 {
		r.Attempts = 5
	}
	if r.Base == 0 {
		r.Base = 250 * time.Millisecond
	}
	if r.Max == 0 {
		r.Max = 60 * time.Second
	}
	if r.Base > r.Max {
		r.Base = r.Max
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return base, nil
}

func withBase(c *github.Client, base *url.URL) *github.Client {
	c.BaseURL = base
	c.UploadURL = base
	return c
}

// botLogin is the login an App's installation acts as.
func botLogin(slug string) string { return slug + "[bot]" }

// FullName returns the access repository as OWNER/NAME, as configured
// (GitHub compares names without regard to case).
func (c *Client) FullName() string { return c.owner + "/" + c.repo }

// InstallationID returns the installation the client acts as.
func (c *Client) InstallationID() int64 { return c.instID }

// Token returns a current installation access token (ghinstallation's cached one), for git over HTTPS.
func (c *Client) Token(ctx context.Context) (string, error) {
	tok, err := c.itr.Token(withRoute(ctx, tokenRoute))
	if err != nil {
		return "", fmt.Errorf("getting an installation token for installation %d: %w", c.instID, err)
	}
	return tok, nil
}

// ServerNow returns the earlier of the local clock and GitHub's clock (the
// latest response's Date header plus the local time elapsed since it
// arrived), truncated to the second. Jit-Expires-At is counted from it, so
// that it is never later than the merge commit's committer time plus the
// duration, even when the App's clock runs ahead of GitHub's.
func (c *Client) ServerNow() time.Time {
	now := c.now()
	if d := c.tr.date(now); !d.IsZero() && d.Before(now) {
		now = d
	}
	return now.Truncate(time.Second)
}

// Repository is the access repository as GitHub describes it.
type Repository struct{ FullName, DefaultBranch, CloneURL string }

// Repository returns the access repository's name, default branch and
// clone URL.
//
// https://docs.github.com/rest/repos/repos#get-a-repository
func (c *Client) Repository(ctx context.Context) (Repository, error) {
	const route = "GET /repos/{owner}/{repo}"
	r, _, err := c.gh.Repositories.Get(withRoute(ctx, route), c.owner, c.repo)
	if err != nil {
		return Repository{}, wrap(route, err)
	}
	return Repository{FullName: r.GetFullName(), DefaultBranch: r.GetDefaultBranch(), CloneURL: r.GetCloneURL()}, nil
}

// bot returns the login the App's installation acts as ("<slug>[bot]"),
// asking GET /app once.
//
// https://docs.github.com/rest/apps/apps#get-the-authenticated-app
func (c *Client) bot(ctx context.Context) (string, error) {
	c.mu.Lock()
	b := c.botLogin
	c.mu.Unlock()
	if b != "" {
		return b, nil
	}
	const route = "GET /app"
	a, _, err := c.app.Apps.Get(withRoute(ctx, route), "")
	if err != nil {
		return "", wrap(route, err)
	}
	if a.GetSlug() == "" {
		return "", fmt.Errorf("%s: GitHub answered no slug for App %d", route, c.appID)
	}
	b = botLogin(a.GetSlug())
	c.mu.Lock()
	c.botLogin = b
	c.mu.Unlock()
	return b, nil
}

// pages calls list with page 1, 2, ... (100 per page) until GitHub says
// there is no next page, and returns every item.
func pages[T any](ctx context.Context, route string, list func(ctx context.Context, opt github.ListOptions) ([]T, *github.Response, error)) ([]T, error) {
	ctx = withRoute(ctx, route)
	var all []T
	opt := github.ListOptions{PerPage: 100, Page: 1}
	for {
		items, resp, err := list(ctx, opt)
		if err != nil {
			return nil, wrap(route, err)
		}
		all = append(all, items...)
		if resp == nil || resp.NextPage == 0 || resp.NextPage <= opt.Page {
			return all, nil
		}
		opt.Page = resp.NextPage
	}
}
