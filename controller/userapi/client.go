package userapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// DefaultAPIURL is GitHub's REST API, used when neither --github-url nor
// JIT_GITHUB_URL is given.
const DefaultAPIURL = "https://api.github.com/"

// ErrNoToken reports that neither GITHUB_TOKEN nor GH_TOKEN is set.
var ErrNoToken = errors.New("no GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token of yours that may open pull requests on the access repository")

// TokenFromEnv returns the user's token from GITHUB_TOKEN, else GH_TOKEN,
// or ErrNoToken.
func TokenFromEnv(getenv func(string) string) (string, error) {
	for _, k := range []string{"GITHUB_TOKEN", "GH_TOKEN"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v, nil
		}
	}
	return "", ErrNoToken
}

// Client calls GitHub's REST API as the user, on one repository.
type Client struct {
	gh          *github.Client
	api         *url.URL
	token       string
	Owner, Name string
}

// New returns a client for owner/name at apiURL (a REST base URL such as
// https://api.github.com/, or http://127.0.0.1:PORT/api/v3/ for a local
// emulator) authenticating with token. Plain http is accepted only for a
// loopback host (see Loopback), so that the token never crosses a network
// in clear text. It makes no request.
func New(apiURL, token, owner, name string) (*Client, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("GitHub API URL %q is not an http(s) URL: give one like %s", apiURL, DefaultAPIURL)
	}
	if u.Scheme == "http" && !Loopback(u.Hostname()) {
		return nil, fmt.Errorf("GitHub API URL %q is plain http on %s: use https, since the token would travel in clear text (http is allowed only for 127.0.0.1, ::1 and localhost)", apiURL, u.Hostname())
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if owner == "" || name == "" || strings.Contains(owner, "/") || strings.Contains(name, "/") {
		return nil, fmt.Errorf("repository %q is not OWNER/NAME", owner+"/"+name)
	}
	hc := &http.Client{Timeout: 60 * time.Second}
	gh := github.NewClient(hc).WithAuthToken(token)
	gh.BaseURL = u
	gh.UploadURL = u
	return &Client{gh: gh, api: u, token: token, Owner: owner, Name: name}, nil
}

// Loopback reports whether host (a URL's host name, without port) is this
// machine: "localhost", an address in 127.0.0.0/8, or ::1.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

// APIHost is the host (and port) of the API URL.
func (c *Client) APIHost() string { return c.api.Host }

// Login returns the login of the token's user (GET /user).
func (c *Client) Login(ctx context.Context) (string, error) {
	u, _, err := c.gh.Users.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("asking GitHub who the token belongs to (GET /user): %w", err)
	}
	if u.GetLogin() == "" {
		return "", errors.New("GitHub answered GET /user without a login")
	}
	return u.GetLogin(), nil
}

// DefaultBranch returns the repository's default branch.
func (c *Client) DefaultBranch(ctx context.Context) (string, error) {
	r, _, err := c.gh.Repositories.Get(ctx, c.Owner, c.Name)
	if err != nil {
		return "", fmt.Errorf("reading repository %s/%s: %w", c.Owner, c.Name, err)
	}
	if r.GetDefaultBranch() == "" {
		return "", fmt.Errorf("repository %s/%s has no default branch", c.Owner, c.Name)
	}
	return r.GetDefaultBranch(), nil
}

// PullRequest is a pull request the user opened.
type PullRequest struct {
	Number int
	URL    string
}

// OpenPullRequest opens a pull request from branch head into base.
func (c *Client) OpenPullRequest(ctx context.Context, head, base, title, body string) (PullRequest, error) {
	pr, _, err := c.gh.PullRequests.Create(ctx, c.Owner, c.Name, &github.NewPullRequest{
		Title: github.String(title), Head: github.String(head), Base: github.String(base), Body: github.String(body)})
	if err != nil {
		return PullRequest{}, fmt.Errorf("opening the pull request from %s into %s on %s/%s: %w", head, base, c.Owner, c.Name, err)
	}
	return PullRequest{Number: pr.GetNumber(), URL: pr.GetHTMLURL()}, nil
}

// Comment is one comment on a pull request's conversation.
type Comment struct {
	ID     int64
	Author string
	// Bot is true when the author is a GitHub App (user type "Bot"), which
	// nobody can impersonate with a personal token.
	Bot       bool
	Body      string
	CreatedAt time.Time
}

// Comments lists every comment on pull request number, oldest first.
func (c *Client) Comments(ctx context.Context, number int) ([]Comment, error) {
	var out []Comment
	opt := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := c.gh.Issues.ListComments(ctx, c.Owner, c.Name, number, opt)
		if err != nil {
			return nil, fmt.Errorf("listing the comments of pull request #%d: %w", number, err)
		}
		for _, cm := range page {
			out = append(out, Comment{ID: cm.GetID(), Author: cm.GetUser().GetLogin(), Bot: cm.GetUser().GetType() == "Bot",
				Body: cm.GetBody(), CreatedAt: cm.GetCreatedAt().Time})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}

// Review is one submitted review of a pull request.
type Review struct {
	Author string
	State  string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
	Commit string
}

// Reviews lists the reviews of pull request number, oldest first.
func (c *Client) Reviews(ctx context.Context, number int) ([]Review, error) {
	var out []Review
	opt := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.gh.PullRequests.ListReviews(ctx, c.Owner, c.Name, number, opt)
		if err != nil {
			return nil, fmt.Errorf("listing the reviews of pull request #%d: %w", number, err)
		}
		for _, r := range page {
			out = append(out, Review{Author: r.GetUser().GetLogin(), State: r.GetState(), Commit: r.GetCommitID()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}
