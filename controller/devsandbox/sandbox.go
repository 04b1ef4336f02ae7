// Package devsandbox builds jit's local sandbox (`jit dev`): the GitHub
// emulator seeded with an organisation acme (users alice, bob and carol,
// each with a generated SSH key; teams dba, developers and security), the
// access repository acme/access holding this repository's access/,
// policies/, templates/, .github/ and grant.schema.json as committed at
// HEAD, the jit App
// installed, a fresh decision signing key trusted by the seeded
// .github/jit-signers, and a throwaway PostgreSQL cluster with the orders
// database when the server binaries are installed.
//
// It builds the parts; the caller runs the App against them (package cli
// wires `jit serve` to the files Sandbox names). Everything it creates lives
// under Config.DataDir or in a temporary directory Close removes; Close
// stops the cluster.
//
// Nothing here is for production: the tokens and keys are throwaway, and
// are printed and written in the clear, so the sandbox listens on loopback
// addresses only (CheckLoopback) and its cluster's superuser logs in with a
// random password only.
package devsandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jitops/jit/controller/ghemu"
)

// Org, Repo and the default branch of the seeded access repository.
const (
	Org           = "acme"
	Repo          = "access"
	DefaultBranch = "main"
	// AppSlug is the seeded App's slug; it acts as jit[bot].
	AppSlug = "jit"
	// Target is the target the seeded sandbox policy binds its grants to
	// when there is no cluster: configured nowhere, so they are never
	// applied.
	Target = "sandbox"
	// Database is the database the cluster is created with, with the
	// group roles orders_read and orders_write templates/postgres-role joins.
	Database = "orders"
	// SandboxPolicyFile is the policy seeded only into the sandbox's
	// repository: short grants under access/sandbox/, one approval by dba.
	SandboxPolicyFile = "policies/sandbox.hcl"
)

// User is one seeded user.
type User struct {
	Login string `json:"login"`
	Team  string `json:"team"`
	Token string `json:"token"`
	// Identity is the file of the user's SSH private key (unencrypted
	// ed25519), for jit credentials --identity.
	Identity string `json:"identity"`
}

// users are the seeded people and their one team each.
var users = []struct{ login, team string }{
	{"alice", "developers"},
	{"bob", "dba"},
	{"carol", "security"},
}

// Config is what Start needs.
type Config struct {
	// DataDir receives the keys, the bare repositories, the App's clone and
	// the terraform state. Required; created when missing.
	DataDir string
	// Source is a directory inside the jit repository whose HEAD commit
	// supplies access/, policies/, templates/ and .github/ (never the
	// working tree: what is seeded is what was committed).
	Source string
	// Addr is the emulator's listen address ("127.0.0.1:0" picks a port);
	// it must pass CheckLoopback.
	Addr string
	// ClockSkew sets the emulated GitHub's clock (its timestamps and its
	// Date header) this far behind the real one. The App counts a grant's
	// expiry from GitHub's clock (the merge's time, from the Date header),
	// and the App, terraform and PostgreSQL run on the real one, so a grant
	// lives ClockSkew less than it asks for; git's timeline then shows each
	// expiry ClockSkew before the grant's expires_at. Keep it below the
	// grant's duration and below a minute (the App's JWTs would otherwise
	// look issued in the emulator's future).
	ClockSkew time.Duration
	// Logger receives the emulator's logs; nil discards them.
	Logger *slog.Logger
}

// Sandbox is a started sandbox. Its fields are fixed once Start returns.
type Sandbox struct {
	Emulator *ghemu.Server
	// Info is what clients need, as written to DataDir/sandbox.json.
	Info Info
	// AppKeyFile, WebhookSecretFile and SigningKeyFile are the App's
	// settings: its RSA key, the webhook secret and the ed25519 key whose
	// public half the seeded .github/jit-signers lists.
	AppKeyFile, WebhookSecretFile, SigningKeyFile string
	// Postgres is the cluster; nil when the server binaries are missing,
	// and then NoPostgres says why.
	Postgres   *Postgres
	NoPostgres error
	// PGPassFile is a pgpass file (mode 0600, under DataDir) holding the
	// cluster's superuser password, for the developer's own psql; "" without
	// a cluster.
	PGPassFile string

	tmp  string
	http *http.Server
}

// skewedDate serves h with the Date header of the emulator's clock (Go's
// server would stamp its own): the App estimates GitHub's clock, and so
// the merge time a grant's expiry counts from, from that header.
func skewedDate(now func() time.Time, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", now().UTC().Format(http.TimeFormat))
		h.ServeHTTP(w, r)
	})
}

// Info is the sandbox as a client sees it (DataDir/sandbox.json).
type Info struct {
	DataDir        string        `json:"data_dir"`
	APIURL         string        `json:"api_url"`
	GitURL         string        `json:"git_url"`
	Repo           string        `json:"repo"`
	AppID          int64         `json:"app_id"`
	InstallationID int64         `json:"installation_id"`
	AppURL         string        `json:"app_url,omitempty"`
	StateDir       string        `json:"state_dir"`
	ClockSkew      time.Duration `json:"clock_skew"`
	Users          []User        `json:"users"`
	// Postgres is "HOST:PORT" of the cluster, "" without one.
	Postgres string `json:"postgres,omitempty"`
}

// InfoFile is the name of the file under the data directory that holds
// Info.
const InfoFile = "sandbox.json"

// User returns the seeded user login; ok is false for anyone else.
func (i Info) User(login string) (User, bool) {
	for _, u := range i.Users {
		if strings.EqualFold(u.Login, login) {
			return u, true
		}
	}
	return User{}, false
}

// ReadInfo reads the Info a running `jit dev` wrote under dataDir.
func ReadInfo(dataDir string) (Info, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, InfoFile))
	if err != nil {
		return Info{}, fmt.Errorf("reading the sandbox's description: %w; is jit dev running with --data %s?", err, dataDir)
	}
	var i Info
	if err := json.Unmarshal(b, &i); err != nil {
		return Info{}, fmt.Errorf("%s: %w; restart jit dev", filepath.Join(dataDir, InfoFile), err)
	}
	return i, nil
}

// WriteInfo writes i to its data directory's InfoFile (mode 0600: it
// holds the users' tokens).
func WriteInfo(i Info) error {
	b, err := json.MarshalIndent(i, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(i.DataDir, InfoFile), append(b, '\n'), 0o600)
}

// Start builds and starts the sandbox. On error everything it started is
// stopped again.
func Start(ctx context.Context, cfg Config) (sb *Sandbox, err error) {
	if cfg.DataDir == "" {
		return nil, errors.New("devsandbox: no data directory; give one")
	}
	if cfg.ClockSkew < 0 {
		return nil, fmt.Errorf("devsandbox: clock skew %s is negative; give 0 or more", cfg.ClockSkew)
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := CheckLoopback(addr); err != nil {
		return nil, fmt.Errorf("devsandbox: the emulator's address %w; the sandbox's tokens and keys are in the clear, so it listens on this machine only", err)
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	sb = &Sandbox{Info: Info{DataDir: dir, Repo: Org + "/" + Repo, StateDir: filepath.Join(dir, "state"), ClockSkew: cfg.ClockSkew}}
	defer func() {
		if err != nil {
			err = errors.Join(err, sb.Close())
			sb = nil
		}
	}()
	tmp, err := os.MkdirTemp("", "jit-dev-")
	if err != nil {
		return sb, fmt.Errorf("creating a temporary directory: %w", err)
	}
	sb.tmp = tmp

	keys := filepath.Join(dir, "keys")
	seedUsers := make([]ghemu.SeedUser, len(users))
	teams := map[string][]string{}
	for i, u := range users {
		pub, err := sshKeygen(ctx, filepath.Join(keys, u.login), u.login+"@jit-dev")
		if err != nil {
			return sb, err
		}
		seedUsers[i] = ghemu.SeedUser{Login: u.login, Email: u.login + "@acme.example", Keys: []string{pub}}
		teams[u.team] = append(teams[u.team], u.login)
	}
	sb.SigningKeyFile = filepath.Join(keys, "jit-signing-key")
	signingPub, err := sshKeygen(ctx, sb.SigningKeyFile, "jit-dev-controller")
	if err != nil {
		return sb, err
	}

	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return sb, err
	}
	sb.WebhookSecretFile = filepath.Join(keys, "webhook-secret")
	if err := os.WriteFile(sb.WebhookSecretFile, []byte(hex.EncodeToString(secret)+"\n"), 0o600); err != nil {
		return sb, fmt.Errorf("writing the webhook secret: %w", err)
	}

	if pg, err := StartPostgres(ctx, filepath.Join(tmp, "postgres")); err != nil {
		if !errors.Is(err, ErrNoPostgres) {
			return sb, err
		}
		sb.NoPostgres = err
	} else {
		sb.Postgres = pg
		sb.Info.Postgres = pg.Addr()
		sb.PGPassFile = filepath.Join(keys, "pgpass")
		if err := os.WriteFile(sb.PGPassFile, []byte(pg.PGPass()), 0o600); err != nil {
			return sb, fmt.Errorf("writing the cluster's pgpass file: %w", err)
		}
	}
	content := filepath.Join(tmp, "content")
	if err := seedContent(ctx, cfg.Source, content, signingPub, sb.Postgres != nil); err != nil {
		return sb, err
	}

	var seedTeams []ghemu.SeedTeam
	for _, name := range []string{"dba", "developers", "security"} {
		seedTeams = append(seedTeams, ghemu.SeedTeam{Slug: name, Members: teams[name]})
	}
	seed := ghemu.Seed{
		Org:   ghemu.SeedOrg{Login: Org, Name: "Acme (jit dev sandbox)"},
		Users: seedUsers,
		Teams: seedTeams,
		Repos: []ghemu.SeedRepo{{Name: Repo, DefaultBranch: DefaultBranch, Content: content, AllowAutoMerge: true,
			Protection: map[string]ghemu.SeedProtection{DefaultBranch: {
				RequiredStatusChecks:        []string{"jit/validate", "jit/approval"},
				BypassPullRequestAllowances: ghemu.SeedBypassAllowances{Apps: []string{AppSlug}},
			}}}},
		App:     &ghemu.SeedApp{ID: 1, Slug: AppSlug, Name: "jit (sandbox)", InstallationID: 1},
		Webhook: ghemu.SeedWebhook{Secret: hex.EncodeToString(secret)},
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return sb, fmt.Errorf("listening on %s: %w", addr, err)
	}
	skew := cfg.ClockSkew
	now := func() time.Time { return time.Now().Add(-skew) }
	srv, err := ghemu.New(ghemu.Config{DataDir: filepath.Join(dir, "github"), URL: "http://" + ln.Addr().String(), Seed: seed,
		Logger: cfg.Logger, Now: now,
		OnUnhandled: func(method, path string) {
			if cfg.Logger != nil {
				cfg.Logger.Warn("the emulator does not implement this route", "method", method, "path", path)
			}
		}})
	if err != nil {
		ln.Close()
		return sb, err
	}
	sb.Emulator = srv
	sb.http = &http.Server{Handler: skewedDate(now, srv.Handler()), ReadHeaderTimeout: 10 * time.Second}
	go sb.http.Serve(ln)
	app, _ := srv.App()
	sb.AppKeyFile = filepath.Join(keys, "app-private-key.pem")
	if err := os.WriteFile(sb.AppKeyFile, app.PrivateKeyPEM, 0o600); err != nil {
		return sb, fmt.Errorf("writing the App's key: %w", err)
	}
	sb.Info.APIURL, sb.Info.GitURL = srv.APIURL, srv.GitURL(Org, Repo)
	sb.Info.AppID, sb.Info.InstallationID = app.ID, app.InstallationID
	tokens := srv.Tokens()
	for _, u := range users {
		sb.Info.Users = append(sb.Info.Users, User{Login: u.login, Team: u.team, Token: tokens[u.login], Identity: filepath.Join(keys, u.login)})
	}
	return sb, nil
}

// CheckLoopback returns nil when addr is HOST:PORT with HOST a loopback IP
// address (127.0.0.0/8 or ::1), so that a listener on it is reachable from
// this machine only. It refuses every other address, an empty host (every
// interface) and host names, localhost included (what a name resolves to
// is not up to the address). Its errors start with the quoted address.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT (%w)", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address (127.0.0.1 or ::1)", addr)
	}
	return nil
}

// SetAppURL points the App's webhooks at url (the App's base URL, without
// /webhook) and records it in Info. Writing Info (WriteInfo) then tells
// clients the sandbox is up.
func (sb *Sandbox) SetAppURL(url string) {
	url = strings.TrimRight(url, "/")
	sb.Emulator.SetWebhookURL(url + "/webhook")
	sb.Info.AppURL = url
}

// Close stops the emulator and the cluster and removes the temporary
// directory (the cluster's and the seed's). The data directory stays; its
// owner removes it. Closing twice does nothing.
func (sb *Sandbox) Close() error {
	var errs []error
	if sb.Emulator != nil {
		sb.Emulator.SetWebhookURL("")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, sb.http.Shutdown(ctx), sb.Emulator.Close())
		cancel()
		sb.Emulator = nil
	}
	if sb.Postgres != nil {
		errs = append(errs, sb.Postgres.Stop())
		sb.Postgres = nil
	}
	if sb.tmp != "" {
		errs = append(errs, os.RemoveAll(sb.tmp))
		sb.tmp = ""
	}
	if sb.Info.DataDir != "" {
		// The description would point at what is gone.
		if err := os.Remove(filepath.Join(sb.Info.DataDir, InfoFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
