package ghemu

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Seed is the emulator's initial state. The same structure is read from
// JSON by `jit ghemu --seed`. Zero IDs and empty tokens are filled in.
type Seed struct {
	Org     SeedOrg     `json:"org"`
	Users   []SeedUser  `json:"users"`
	Teams   []SeedTeam  `json:"teams"`
	Repos   []SeedRepo  `json:"repos"`
	App     *SeedApp    `json:"app,omitempty"`
	Webhook SeedWebhook `json:"webhook"`
}

// SeedOrg is the organisation owning the seeded repositories.
type SeedOrg struct {
	Login string `json:"login"`
	ID    int64  `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
}

// SeedUser is one user account with a personal access token.
type SeedUser struct {
	Login string `json:"login"`
	ID    int64  `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	// Keys are public SSH keys ("ssh-ed25519 AAAA…"), served by
	// GET /users/{username}/keys.
	Keys []string `json:"keys,omitempty"`
	// Token is the user's personal access token; empty means generated.
	Token string `json:"token,omitempty"`
}

// SeedTeam is an org team.
type SeedTeam struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name,omitempty"`
	ID          int64    `json:"id,omitempty"`
	Members     []string `json:"members,omitempty"`
	Maintainers []string `json:"maintainers,omitempty"`
}

// SeedRepo is one repository. Content seeds the default branch with one
// commit holding the directory tree at that path; Files adds files by path.
type SeedRepo struct {
	// Name is "NAME" (owned by the org) or "OWNER/NAME".
	Name          string            `json:"name"`
	ID            int64             `json:"id,omitempty"`
	DefaultBranch string            `json:"default_branch,omitempty"`
	Private       *bool             `json:"private,omitempty"`
	Content       string            `json:"content,omitempty"`
	Files         map[string]string `json:"files,omitempty"`
	// Readers lists users that may only read; every other seeded user has
	// write access (like org members of a team with write access).
	Readers []string `json:"readers,omitempty"`
	// Admins lists users with the admin role on the repository. Admins
	// bypass branch protection whose EnforceAdmins is false, as on GitHub;
	// the owner of a user-owned repository is always an admin.
	Admins []string `json:"admins,omitempty"`
	// Protection holds classic branch protection per branch name.
	Protection map[string]SeedProtection `json:"protection,omitempty"`
	// AllowAutoMerge is the repository setting "Allow auto-merge"
	// (allow_auto_merge): off, as on GitHub, refuses
	// enablePullRequestAutoMerge.
	AllowAutoMerge bool `json:"allow_auto_merge,omitempty"`
}

// SeedProtection is the subset of classic branch protection the emulator
// enforces. A protected branch always requires a pull request: a push or a
// ref update (PATCH or DELETE of git/refs) that moves it is refused unless
// the actor is in BypassPullRequestAllowances or is a repository admin and
// EnforceAdmins is false. Force pushes and deletions are refused for
// everyone, admins included, unless AllowForcePushes or AllowDeletions say
// otherwise (GitHub's "rules applied to everyone including
// administrators"). Creating a protected branch that does not exist yet is
// allowed (GitHub's block_creations defaults to false).
type SeedProtection struct {
	DismissStaleReviews          bool     `json:"dismiss_stale_reviews,omitempty"`
	RequireCodeOwnerReviews      bool     `json:"require_code_owner_reviews,omitempty"`
	RequiredApprovingReviewCount int      `json:"required_approving_review_count,omitempty"`
	RequiredStatusChecks         []string `json:"required_status_checks,omitempty"`
	// StrictStatusChecks is GitHub's required_status_checks.strict: a pull
	// request merges only when its head contains the base branch tip.
	StrictStatusChecks bool `json:"strict_required_status_checks,omitempty"`
	// EnforceAdmins applies the protection to repository admins too; when
	// false, admins may push, update refs and merge regardless of it (but
	// never force-push or delete unless allowed).
	EnforceAdmins    bool `json:"enforce_admins,omitempty"`
	AllowForcePushes bool `json:"allow_force_pushes,omitempty"`
	AllowDeletions   bool `json:"allow_deletions,omitempty"`
	// BypassPullRequestAllowances lists who may update the branch without a
	// pull request (GitHub's
	// required_pull_request_reviews.bypass_pull_request_allowances). It does
	// not let them merge a pull request that protection blocks.
	BypassPullRequestAllowances SeedBypassAllowances `json:"bypass_pull_request_allowances,omitzero"`
}

// SeedBypassAllowances names the actors allowed to bypass a branch's pull
// request requirement: seeded user logins, seeded team slugs and App slugs
// (only the seeded App exists).
type SeedBypassAllowances struct {
	Users []string `json:"users,omitempty"`
	Teams []string `json:"teams,omitempty"`
	Apps  []string `json:"apps,omitempty"`
}

// SeedApp is the GitHub App and its one installation.
type SeedApp struct {
	ID       int64  `json:"id"`
	Slug     string `json:"slug"`
	Name     string `json:"name,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	// PrivateKeyPEM is the App's RSA key (PKCS#1 or PKCS#8 PEM); empty
	// means a 2048-bit key is generated.
	PrivateKeyPEM  string `json:"private_key_pem,omitempty"`
	InstallationID int64  `json:"installation_id,omitempty"`
	// Repos limits the installation to these repositories ("NAME" or
	// "OWNER/NAME"); empty means all repositories of the org.
	Repos       []string          `json:"repos,omitempty"`
	Permissions map[string]string `json:"permissions,omitempty"`
	Events      []string          `json:"events,omitempty"`
}

// SeedWebhook is where the App's webhooks go.
type SeedWebhook struct {
	URL    string `json:"url,omitempty"`
	Secret string `json:"secret,omitempty"`
	HookID int64  `json:"hook_id,omitempty"`
}

// LoadSeed reads a JSON seed file. Relative repository content paths are
// resolved against the file's directory.
func LoadSeed(path string) (Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, fmt.Errorf("reading seed: %w", err)
	}
	var sd Seed
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sd); err != nil {
		return Seed{}, fmt.Errorf("seed %s: %w; see controller/ghemu/testdata/seed.json for the format", path, err)
	}
	for i, r := range sd.Repos {
		if r.Content != "" && !filepath.IsAbs(r.Content) {
			abs, err := filepath.Abs(filepath.Join(filepath.Dir(path), r.Content))
			if err != nil {
				return Seed{}, fmt.Errorf("seed %s: repos[%d].content: %w", path, i, err)
			}
			sd.Repos[i].Content = abs
		}
	}
	return sd, nil
}

var loginRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

func randomToken(prefix string) string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// seed validates sd, fills defaults and builds the state, creating the bare
// repositories on disk.
func (s *Server) seed(ctx context.Context, sd Seed) (*state, error) {
	st := newState()
	if sd.Org.Login == "" {
		sd.Org.Login = "jitops"
	}
	if !loginRE.MatchString(sd.Org.Login) {
		return nil, fmt.Errorf("seed: org login %q is not a valid GitHub login (letters, digits, hyphens)", sd.Org.Login)
	}
	org := &account{login: sd.Org.Login, id: sd.Org.ID, name: sd.Org.Name, typ: "Organization"}
	if org.id == 0 {
		org.id = 1000
	}
	st.org = org
	st.accounts[strings.ToLower(org.login)] = org
	for i, u := range sd.Users {
		if !loginRE.MatchString(u.Login) {
			return nil, fmt.Errorf("seed: users[%d]: login %q is not a valid GitHub login", i, u.Login)
		}
		if _, dup := st.accounts[strings.ToLower(u.Login)]; dup {
			return nil, fmt.Errorf("seed: users[%d]: login %q is used twice", i, u.Login)
		}
		a := &account{login: u.Login, id: u.ID, name: u.Name, email: u.Email, typ: "User", keys: u.Keys, token: u.Token}
		if a.id == 0 {
			a.id = int64(2000 + i)
		}
		if a.token == "" {
			a.token = randomToken("ghp_")
		}
		if _, dup := st.tokens[a.token]; dup {
			return nil, fmt.Errorf("seed: users[%d]: token of %q is used twice", i, u.Login)
		}
		st.accounts[strings.ToLower(a.login)] = a
		st.tokens[a.token] = a
		st.users = append(st.users, a)
	}
	for i, t := range sd.Teams {
		if t.Slug == "" {
			return nil, fmt.Errorf("seed: teams[%d]: slug is empty", i)
		}
		tm := &team{slug: t.Slug, name: t.Name, id: t.ID, roles: map[string]string{}}
		if tm.name == "" {
			tm.name = t.Slug
		}
		if tm.id == 0 {
			tm.id = int64(3000 + i)
		}
		for _, lists := range []struct {
			logins []string
			role   string
		}{{t.Members, "member"}, {t.Maintainers, "maintainer"}} {
			for _, l := range lists.logins {
				a := st.accounts[strings.ToLower(l)]
				if a == nil || a.typ != "User" {
					return nil, fmt.Errorf("seed: team %q: member %q is not a seeded user", t.Slug, l)
				}
				if _, ok := tm.roles[a.login]; !ok {
					tm.members = append(tm.members, a)
				}
				tm.roles[a.login] = lists.role
			}
		}
		st.teams[strings.ToLower(t.Slug)] = tm
	}
	if sd.App != nil {
		a, err := newApp(*sd.App, org)
		if err != nil {
			return nil, err
		}
		st.app = a
	}
	st.webhook = sd.Webhook
	if st.webhook.Secret == "" {
		st.webhook.Secret = randomToken("whsec_")
	}
	if st.webhook.HookID == 0 {
		st.webhook.HookID = 4000
	}
	for i, sr := range sd.Repos {
		rp, err := s.seedRepo(ctx, st, i, sr)
		if err != nil {
			return nil, err
		}
		st.repos[strings.ToLower(rp.fullName())] = rp
		st.repoList = append(st.repoList, rp)
	}
	if st.app != nil {
		for _, name := range sd.App.Repos {
			full := name
			if !strings.Contains(full, "/") {
				full = org.login + "/" + name
			}
			rp := st.repos[strings.ToLower(full)]
			if rp == nil {
				return nil, fmt.Errorf("seed: app.repos: %q is not a seeded repository", name)
			}
			st.app.repos = append(st.app.repos, rp)
		}
	}
	return st, nil
}

func (s *Server) seedRepo(ctx context.Context, st *state, i int, sr SeedRepo) (*repo, error) {
	owner, name, ok := strings.Cut(sr.Name, "/")
	if !ok {
		owner, name = st.org.login, sr.Name
	}
	if !repoNameRE.MatchString(name) {
		return nil, fmt.Errorf("seed: repos[%d]: name %q is not a valid repository name", i, sr.Name)
	}
	oa := st.accounts[strings.ToLower(owner)]
	if oa == nil {
		return nil, fmt.Errorf("seed: repos[%d]: owner %q is neither the org nor a seeded user", i, owner)
	}
	if _, dup := st.repos[strings.ToLower(oa.login+"/"+name)]; dup {
		return nil, fmt.Errorf("seed: repos[%d]: repository %s/%s is seeded twice", i, oa.login, name)
	}
	rp := &repo{
		id: sr.ID, owner: oa, name: name, defaultBranch: sr.DefaultBranch, private: true,
		readers: map[string]bool{}, admins: map[string]bool{}, protection: map[string]SeedProtection{},
		issues: map[int]*issue{}, statuses: map[string][]*commitStatus{},
		created: s.now().UTC().Truncate(time.Second), allowAutoMerge: sr.AllowAutoMerge,
	}
	if sr.Private != nil {
		rp.private = *sr.Private
	}
	if rp.id == 0 {
		rp.id = int64(5000 + i)
	}
	if rp.defaultBranch == "" {
		rp.defaultBranch = "main"
	}
	for _, l := range sr.Readers {
		rp.readers[strings.ToLower(l)] = true
	}
	for _, l := range sr.Admins {
		a := st.accounts[strings.ToLower(l)]
		if a == nil || a.typ != "User" {
			return nil, fmt.Errorf("seed: repos[%d].admins: %q is not a seeded user", i, l)
		}
		rp.admins[strings.ToLower(l)] = true
	}
	for b, p := range sr.Protection {
		if err := checkSeedProtection(st, b, p); err != nil {
			return nil, fmt.Errorf("seed: repos[%d].protection: %w", i, err)
		}
		rp.protection[b] = p
	}
	rp.pushed = rp.created
	rp.git = &gitRepo{dir: filepath.Join(s.cfg.DataDir, "repos", oa.login, name+".git")}
	if _, err := os.Stat(filepath.Join(rp.git.dir, "HEAD")); err == nil {
		// A restart on the same data directory: the repository and its
		// history are kept, and the seed's content is not committed again.
		return rp, nil
	}
	if err := rp.git.initBare(ctx, rp.defaultBranch); err != nil {
		return nil, fmt.Errorf("seed: repository %s: %w", rp.fullName(), err)
	}
	if sr.Content != "" {
		abs, err := filepath.Abs(sr.Content)
		if err != nil {
			return nil, fmt.Errorf("seed: repos[%d]: content %q: %w", i, sr.Content, err)
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("seed: repos[%d]: content %q is not a directory; give the path of the tree to commit", i, sr.Content)
		}
		sr.Content = abs
	}
	if sr.Content != "" || len(sr.Files) > 0 {
		who := signature{name: "ghemu", email: "ghemu@users.noreply.github.com", when: rp.created}
		if _, err := rp.git.seedCommit(ctx, rp.defaultBranch, sr.Content, sr.Files, "Initial commit", who); err != nil {
			return nil, fmt.Errorf("seed: repository %s: %w", rp.fullName(), err)
		}
	}
	return rp, nil
}

var repoNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func newApp(sa SeedApp, org *account) (*app, error) {
	if sa.ID == 0 || sa.Slug == "" {
		return nil, fmt.Errorf("seed: app needs an id and a slug")
	}
	a := &app{seed: sa, id: sa.ID, slug: sa.Slug, name: sa.Name, clientID: sa.ClientID, installationID: sa.InstallationID, owner: org}
	if a.name == "" {
		a.name = sa.Slug
	}
	if a.clientID == "" {
		a.clientID = fmt.Sprintf("Iv23emu%d", sa.ID)
	}
	if a.installationID == 0 {
		a.installationID = 100 + sa.ID
	}
	a.permissions = sa.Permissions
	if len(a.permissions) == 0 {
		a.permissions = map[string]string{
			"checks": "write", "contents": "write", "issues": "write", "members": "read",
			"metadata": "read", "pull_requests": "write", "statuses": "write",
		}
	}
	a.events = sa.Events
	if len(a.events) == 0 {
		a.events = []string{"check_run", "issue_comment", "pull_request", "pull_request_review", "push"}
	}
	if sa.PrivateKeyPEM == "" {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("seed: generating the app key: %w", err)
		}
		a.key = k
		a.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	} else {
		blk, _ := pem.Decode([]byte(sa.PrivateKeyPEM))
		if blk == nil {
			return nil, fmt.Errorf("seed: app.private_key_pem holds no PEM block; give an RSA private key in PEM")
		}
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			pk, err2 := x509.ParsePKCS8PrivateKey(blk.Bytes)
			rk, ok := pk.(*rsa.PrivateKey)
			if err2 != nil || !ok {
				return nil, fmt.Errorf("seed: app.private_key_pem is not an RSA private key (PKCS#1 or PKCS#8): %w", err)
			}
			k = rk
		}
		a.key = k
		a.keyPEM = []byte(sa.PrivateKeyPEM)
	}
	return a, nil
}
