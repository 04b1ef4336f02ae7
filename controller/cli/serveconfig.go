package cli

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jitops/jit/controller/trailer"
)

// serveConfig is jit serve's validated configuration.
type serveConfig struct {
	GitHub         githubConfig
	WebhookSecret  []byte
	SigningKeyFile string
	Signer         ssh.Signer // trailer.LoadSigner(SigningKeyFile); ed25519
	DataDir        string
	Listen         string
	QueueSize      int
	Workers        int
	Resync         time.Duration
	LogLevel       slog.Level
	// Lifecycle is the default-branch side; its State is empty with
	// --state none.
	Lifecycle        lifecycleConfig
	Reconcile, Drift time.Duration
}

// githubConfig is how jit reaches GitHub as the App; shared by jit serve and jit status.
type githubConfig struct {
	APIURL         string // absolute http(s) URL ending in "/"
	AppID          int64
	PrivateKeyPEM  []byte // an RSA private key, PEM
	InstallationID int64  // 0: look it up from the repository
	Owner, Repo    string
}

// minSecret is the shortest webhook secret accepted: a short one can be guessed.
const minSecret = 16

// setting is one flag backed by an environment variable and a default. A
// flag given on the command line beats the variable, which beats the default.
type setting struct {
	flag, env, def string
	value          string
	set            bool
}

func (s *setting) String() string {
	if s == nil {
		return ""
	}
	return s.value
}

func (s *setting) Set(v string) error { s.value, s.set = v, true; return nil }

// name is how an error names the setting: both ways, so whichever the
// operator used is found.
func (s *setting) name() string { return fmt.Sprintf("--%s (%s)", s.flag, s.env) }

// get returns the setting's value: the flag's, else the variable's, else the default.
func (s *setting) get(getenv func(string) string) string {
	if s.set {
		return s.value
	}
	if v := getenv(s.env); v != "" {
		return v
	}
	return s.def
}

// settings registers settings on a flag set and resolves them.
type settings struct {
	fs *flag.FlagSet
}

// add registers --name backed by env with default def; usage names the
// variable and the default.
func (ss settings) add(name, env, def, usage string) *setting {
	s := &setting{flag: name, env: env, def: def}
	u := fmt.Sprintf("%s (env %s", usage, env)
	if def != "" {
		u += ", default " + def
	}
	ss.fs.Var(s, name, u+")")
	return s
}

// problems collects the configuration's problems, each naming its setting.
type problems []error

func (p *problems) add(s *setting, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", s.name(), fmt.Sprintf(format, args...)))
}

func (p *problems) missing(s *setting, what string) {
	*p = append(*p, fmt.Errorf("%s is required; %s", s.name(), what))
}

// githubFlags are the flags and variables of githubConfig.
type githubFlags struct {
	apiURL, appID, privateKey, installationID, repo *setting
}

// addGitHubFlags registers --api-url --app-id --private-key
// --installation-id --repo on fs.
func addGitHubFlags(fs *flag.FlagSet) *githubFlags {
	ss := settings{fs}
	return &githubFlags{
		apiURL:         ss.add("api-url", "JIT_GITHUB_API_URL", "https://api.github.com/", "GitHub REST API base `URL` (GitHub Enterprise Server: https://HOST/api/v3/)"),
		appID:          ss.add("app-id", "JIT_APP_ID", "", "the GitHub App's numeric `ID`, from its settings page"),
		privateKey:     ss.add("private-key", "JIT_APP_PRIVATE_KEY_FILE", "", "`FILE` holding the App's RSA private key (PEM, as GitHub generates it)"),
		installationID: ss.add("installation-id", "JIT_INSTALLATION_ID", "0", "the App's installation `ID` on the repository; 0 looks it up"),
		repo:           ss.add("repo", "JIT_REPO", "", "the access repository, `OWNER/NAME`"),
	}
}

// resolve validates the GitHub settings, reporting every problem at once.
func (f *githubFlags) resolve(getenv func(string) string) (githubConfig, error) {
	var p problems
	c := f.check(getenv, &p)
	return c, errors.Join(p...)
}

// repoName is OWNER/NAME as GitHub allows them.
var repoName = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100})$`)

func (f *githubFlags) check(getenv func(string) string, p *problems) githubConfig {
	var c githubConfig
	if raw := f.apiURL.get(getenv); raw == "" {
		p.missing(f.apiURL, "give GitHub's REST API URL, such as https://api.github.com/")
	} else if u, err := url.Parse(raw); err == nil && u.User != nil {
		p.add(f.apiURL, "the URL carries credentials; give it without them (jit authenticates as the App)")
	} else if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		shown := "the value given" // url.Parse's error would quote it whole
		if err == nil {
			shown = strconv.Quote(raw)
		}
		p.add(f.apiURL, "%s is not an absolute http(s) URL without query or fragment; give one such as https://api.github.com/", shown)
	} else {
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		c.APIURL = u.String()
	}

	if raw := f.appID.get(getenv); raw == "" {
		p.missing(f.appID, "give the App's numeric id from its settings page")
	} else if id, err := strconv.ParseInt(raw, 10, 64); err != nil {
		p.add(f.appID, "%q is not a number; give the App's numeric id from its settings page", raw)
	} else if id < 1 {
		p.add(f.appID, "%d is not a valid App id; give the App's numeric id from its settings page", id)
	} else {
		c.AppID = id
	}

	if file := f.privateKey.get(getenv); file == "" {
		p.missing(f.privateKey, "give the file of a private key generated on the App's settings page")
	} else if key, err := readRSAKey(file); err != nil {
		p.add(f.privateKey, "%v", err)
	} else {
		c.PrivateKeyPEM = key
	}

	if raw := f.installationID.get(getenv); raw != "" {
		if id, err := strconv.ParseInt(raw, 10, 64); err != nil || id < 0 {
			p.add(f.installationID, "%q is not a number; give the installation's numeric id (in its settings URL), or 0 to look it up", raw)
		} else {
			c.InstallationID = id
		}
	}

	if raw := f.repo.get(getenv); raw == "" {
		p.missing(f.repo, "give the access repository as OWNER/NAME")
	} else if m := repoName.FindStringSubmatch(raw); m == nil || m[2] == "." || m[2] == ".." {
		p.add(f.repo, "%q is not OWNER/NAME; give the access repository as OWNER/NAME, such as acme/access", raw)
	} else {
		c.Owner, c.Repo = m[1], m[2]
	}
	return c
}

// readRSAKey reads file and checks it holds an unencrypted RSA private key
// in PEM (PKCS #1, as GitHub generates it, or PKCS #8). Its errors never
// quote the file's content.
func readRSAKey(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the App's private key: %w; give a private key file generated on the App's settings page", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block; give the .pem file GitHub generated for the App", file)
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, fmt.Errorf("%s is encrypted; jit reads only unencrypted keys (protect the file instead)", file)
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%s holds a PEM %q block, not an RSA private key; give the .pem file GitHub generated for the App", file, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: its private key does not parse (%v); give the .pem file GitHub generated for the App", file, err)
	}
	if _, ok := key.(*rsa.PrivateKey); !ok {
		return nil, fmt.Errorf("%s holds a %T, not an RSA private key; GitHub Apps sign with RSA keys", file, key)
	}
	return b, nil
}

// serveHelp follows the flags in jit serve -h.
const serveHelp = `
Every flag can be set by the environment variable it names; a flag beats
its variable. Secrets are read from files and never printed.
`

// parseServeConfig parses jit serve's flags over the environment getenv,
// validates every setting and reports all problems at once, each naming its
// flag and variable, what is wrong and what to do. flag's own messages
// (an unknown flag) and -h's usage go to stderr; -h returns flag.ErrHelp.
func parseServeConfig(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gh := addGitHubFlags(fs)
	ss := settings{fs}
	secretFile := ss.add("webhook-secret-file", "JIT_WEBHOOK_SECRET_FILE", "", "`FILE` holding the App's webhook secret (at least 16 bytes; a trailing newline is ignored)")
	signingKey := ss.add("signing-key", "JIT_SIGNING_KEY_FILE", "", "`FILE` of the unencrypted ed25519 SSH key that signs decisions")
	dataDir := ss.add("data-dir", "JIT_DATA_DIR", "", "`DIR` for jit's clone and state (created if missing)")
	listen := ss.add("listen", "JIT_LISTEN", ":8080", "`ADDRESS` to serve webhooks and /metrics on, HOST:PORT")
	queueSize := ss.add("queue-size", "JIT_QUEUE_SIZE", "1000", "webhook events waiting at most (`N`); beyond, deliveries are answered 503")
	workers := ss.add("workers", "JIT_WORKERS", "2", "pull requests handled at once (`N`)")
	resync := ss.add("resync", "JIT_RESYNC", "10m", "`INTERVAL` between full re-evaluations of open pull requests (at least 1m)")
	logLevel := ss.add("log-level", "JIT_LOG_LEVEL", "info", "`LEVEL` of logs: debug, info, warn or error")
	lf := addLifecycleFlags(ss, true)
	reconcileEvery := ss.add("reconcile", "JIT_RECONCILE", "2m", "`INTERVAL` between reconcile passes when nothing is due sooner (at least 10s)")
	driftEvery := ss.add("drift", "JIT_DRIFT", "30m", "`INTERVAL` between drift passes that re-assert every live grant (at least 1m)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: jit serve [flags]\n\nRuns the GitHub App: receives webhooks, decides and merges access requests.\n\nflags:\n")
		fs.PrintDefaults()
		fmt.Fprint(stderr, serveHelp)
	}
	if err := fs.Parse(args); err != nil {
		return serveConfig{}, err
	}
	if fs.NArg() > 0 {
		return serveConfig{}, fmt.Errorf("jit serve takes no arguments, got %q; settings are flags or environment variables (jit serve -h)", fs.Arg(0))
	}

	var p problems
	c := serveConfig{GitHub: gh.check(getenv, &p)}

	if file := secretFile.get(getenv); file == "" {
		p.missing(secretFile, "give the file holding the webhook secret set on the App's settings page")
	} else if b, err := os.ReadFile(file); err != nil {
		p.add(secretFile, "reading the webhook secret: %v; give a readable file holding it", err)
	} else if b = bytes.TrimRight(b, "\r\n"); len(b) == 0 {
		p.add(secretFile, "%s is empty; put the App's webhook secret in it", file)
	} else if len(b) < minSecret {
		p.add(secretFile, "the secret in %s is shorter than %d bytes, too weak; set a longer random one (openssl rand -hex 32) on the App and in the file", file, minSecret)
	} else {
		c.WebhookSecret = b
	}

	c.SigningKeyFile, c.Signer = loadSigningKey(signingKey, getenv, &p)

	if dir := dataDir.get(getenv); dir == "" {
		p.missing(dataDir, "give a directory jit may write its clone and state to")
	} else if err := writableDir(dir); err != nil {
		p.add(dataDir, "%v; give a directory jit can create and write to", err)
	} else {
		c.DataDir = dir
	}

	addr := listen.get(getenv)
	if host, port, err := net.SplitHostPort(addr); err != nil || strings.ContainsAny(host, " /") || !validPort(port) {
		p.add(listen, "%q is not HOST:PORT; give an address such as :8080 or 127.0.0.1:8080", addr)
	} else {
		c.Listen = addr
	}

	c.QueueSize = atLeastOne(queueSize, getenv, &p, "give the number of webhook events that may wait, such as 1000")
	c.Workers = atLeastOne(workers, getenv, &p, "give the number of pull requests handled at once, such as 2")

	if raw := resync.get(getenv); raw != "" {
		d, err := time.ParseDuration(raw)
		switch {
		case err != nil:
			p.add(resync, "%q is not a duration; give one such as 10m or 1h", raw)
		case d < time.Minute:
			p.add(resync, "%s is shorter than 1m; a resync lists every open pull request, give 1m or more", d)
		default:
			c.Resync = d
		}
	}

	if raw := logLevel.get(getenv); c.LogLevel.UnmarshalText([]byte(raw)) != nil {
		p.add(logLevel, "%q is not a log level; give debug, info, warn or error", raw)
	}
	c.Lifecycle = lf.check(getenv, c.DataDir, true, &p)
	c.Reconcile = durationAtLeast(reconcileEvery, getenv, &p, 10*time.Second)
	c.Drift = durationAtLeast(driftEvery, getenv, &p, time.Minute)
	if len(p) > 0 {
		return serveConfig{}, errors.Join(p...)
	}
	return c, nil
}

// durationAtLeast parses a duration setting of at least least.
func durationAtLeast(s *setting, getenv func(string) string, p *problems, least time.Duration) time.Duration {
	raw := s.get(getenv)
	d, err := time.ParseDuration(raw)
	switch {
	case err != nil:
		p.add(s, "%q is not a duration; give one such as %s", raw, s.def)
	case d < least:
		p.add(s, "%s is shorter than %s; give %s or more", d, least, least)
	default:
		return d
	}
	return 0
}

// atLeastOne parses a setting that must be a whole number of at least 1.
func atLeastOne(s *setting, getenv func(string) string, p *problems, what string) int {
	raw := s.get(getenv)
	n, err := strconv.Atoi(raw)
	if err != nil {
		p.add(s, "%q is not a number; %s", raw, what)
		return 0
	}
	if n < 1 {
		p.add(s, "%d is less than 1; %s", n, what)
		return 0
	}
	return n
}

func validPort(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

// writableDir creates dir if missing and checks a file can be created in it.
func writableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".jit-write-check-*")
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// loadSigningKey reads and checks the ed25519 key that signs decisions and
// records.
func loadSigningKey(s *setting, getenv func(string) string, p *problems) (string, ssh.Signer) {
	file := s.get(getenv)
	if file == "" {
		p.missing(s, "give the file of the ed25519 key that signs decisions (ssh-keygen -t ed25519 -N '')")
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		p.add(s, "reading the signing key: %v; give a readable ed25519 key file", err)
		return "", nil
	}
	signer, err := trailer.LoadSigner(b)
	if err != nil {
		p.add(s, "%s: %v", file, err)
		return "", nil
	}
	return file, signer
}
