package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"github.com/jitops/jit/controller/render"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/crypto/ssh"
)

// serveFiles are the key and secret files a jit serve configuration points at.
type serveFiles struct {
	dir                                      string
	appKey, appKeyPKCS8, ecKey, encryptedRSA string
	signingKey, encryptedSigning, rsaSigning string
	secret, shortSecret, emptySecret, notPEM string
	appKeyPEM                                []byte
	signingPub                               ssh.PublicKey
}

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// sshKeygen makes a key with the real ssh-keygen and returns its file.
func sshKeygen(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ssh-keygen is required under CI=true: %v", err)
		}
		t.Skipf("ssh-keygen not installed: %v", err)
	}
	file := filepath.Join(dir, name)
	out, err := exec.Command("ssh-keygen", append([]string{"-q", "-f", file, "-C", "jit-test"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen %v: %v\n%s", args, err, out)
	}
	return file
}

func newServeFiles(t *testing.T) serveFiles {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := serveFiles{dir: dir}
	f.appKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey())})
	f.appKey = write("app.pem", f.appKeyPEM)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(rsaKey())
	if err != nil {
		t.Fatal(err)
	}
	f.appKeyPKCS8 = write("app-pkcs8.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	f.ecKey = write("ec.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	f.encryptedRSA = write("encrypted.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00000000000000000000000000000000"}, Bytes: []byte("x")}))
	f.notPEM = write("not.pem", []byte("this is no key\n"))
	f.signingKey = sshKeygen(t, dir, "signing", "-t", "ed25519", "-N", "")
	f.encryptedSigning = sshKeygen(t, dir, "signing-encrypted", "-t", "ed25519", "-N", "a passphrase")
	f.rsaSigning = sshKeygen(t, dir, "signing-rsa", "-t", "rsa", "-b", "2048", "-N", "")
	pub, err := os.ReadFile(f.signingKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if f.signingPub, _, _, _, err = ssh.ParseAuthorizedKey(pub); err != nil {
		t.Fatal(err)
	}
	f.secret = write("secret", []byte("0123456789abcdef0123456789abcdef\n"))
	f.shortSecret = write("short-secret", []byte("hunter2hunter2\n"))
	f.emptySecret = write("empty-secret", []byte("\n"))
	return f
}

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// validEnv is a complete configuration through the environment.
func (f serveFiles) validEnv() map[string]string {
	return map[string]string{
		"JIT_APP_ID":               "42",
		"JIT_APP_PRIVATE_KEY_FILE": f.appKey,
		"JIT_REPO":                 "acme/access",
		"JIT_WEBHOOK_SECRET_FILE":  f.secret,
		"JIT_SIGNING_KEY_FILE":     f.signingKey,
		"JIT_DATA_DIR":             filepath.Join(f.dir, "data"),
		"JIT_STATE":                "none",
	}
}

// compareConfig compares serve configurations, the signer by its public key.
var compareConfig = cmp.Options{
	cmp.AllowUnexported(),
	cmpopts.IgnoreFields(serveConfig{}, "Signer"),
}

func TestServeConfigFromTheEnvironmentOnly(t *testing.T) {
	f := newServeFiles(t)
	var stderr bytes.Buffer
	got, err := parseServeConfig(nil, env(f.validEnv()), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	want := serveConfig{
		GitHub:         githubConfig{APIURL: "https://api.github.com/", AppID: 42, PrivateKeyPEM: f.appKeyPEM, Owner: "acme", Repo: "access"},
		WebhookSecret:  []byte("0123456789abcdef0123456789abcdef"),
		SigningKeyFile: f.signingKey,
		DataDir:        filepath.Join(f.dir, "data"),
		Listen:         ":8080", QueueSize: 1000, Workers: 2, Resync: 10 * time.Minute, LogLevel: slog.LevelInfo,
		Lifecycle: lifecycleConfig{WorkDir: filepath.Join(f.dir, "data", "work"), Concurrency: 4, Timeout: 10 * time.Minute},
		Reconcile: 2 * time.Minute, Drift: 30 * time.Minute,
	}
	if diff := cmp.Diff(want, got, compareConfig); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if got.Signer == nil || !bytes.Equal(got.Signer.PublicKey().Marshal(), f.signingPub.Marshal()) {
		t.Errorf("Signer is not the signing key's")
	}
	if st, err := os.Stat(got.DataDir); err != nil || !st.IsDir() {
		t.Errorf("data dir not created: %v", err)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q", stderr.String())
	}
}

func TestServeConfigFromFlagsOnlyAndFlagsBeatTheEnvironment(t *testing.T) {
	f := newServeFiles(t)
	args := []string{
		"--api-url", "https://ghe.example.com/api/v3", "--app-id", "7", "--private-key", f.appKeyPKCS8,
		"--installation-id", "99", "--repo", "Acme-Corp/jit.access", "--webhook-secret-file", f.secret,
		"--signing-key", f.signingKey, "--data-dir", filepath.Join(f.dir, "flags"), "--listen", "127.0.0.1:0",
		"--queue-size", "5", "--workers", "3", "--resync", "1m", "--log-level", "debug",
		"--state", "local:" + filepath.Join(f.dir, "state"), "--terraform", "/opt/tf", "--work-dir", filepath.Join(f.dir, "w"),
		"--new-state", "true", "--concurrency", "8", "--terraform-timeout", "2m", "--reconcile", "30s", "--drift", "5m",
	}
	want := serveConfig{
		GitHub:         githubConfig{APIURL: "https://ghe.example.com/api/v3/", AppID: 7, PrivateKeyPEM: mustRead(t, f.appKeyPKCS8), InstallationID: 99, Owner: "Acme-Corp", Repo: "jit.access"},
		WebhookSecret:  []byte("0123456789abcdef0123456789abcdef"),
		SigningKeyFile: f.signingKey,
		DataDir:        filepath.Join(f.dir, "flags"),
		Listen:         "127.0.0.1:0", QueueSize: 5, Workers: 3, Resync: time.Minute, LogLevel: slog.LevelDebug,
		Lifecycle: lifecycleConfig{State: "local:" + filepath.Join(f.dir, "state"), Backend: render.Backend{Kind: "local", Dir: filepath.Join(f.dir, "state")},
			Terraform: "/opt/tf", WorkDir: filepath.Join(f.dir, "w"), NewState: true, Concurrency: 8, Timeout: 2 * time.Minute},
		Reconcile: 30 * time.Second, Drift: 5 * time.Minute,
	}
	badEnv := map[string]string{ // every variable set to a bad value: the flags win
		"JIT_GITHUB_API_URL": "ftp://x", "JIT_APP_ID": "abc", "JIT_APP_PRIVATE_KEY_FILE": f.notPEM, "JIT_INSTALLATION_ID": "x",
		"JIT_REPO": "nope", "JIT_WEBHOOK_SECRET_FILE": f.emptySecret, "JIT_SIGNING_KEY_FILE": f.rsaSigning, "JIT_DATA_DIR": f.secret,
		"JIT_LISTEN": "nope", "JIT_QUEUE_SIZE": "0", "JIT_WORKERS": "0", "JIT_RESYNC": "1s", "JIT_LOG_LEVEL": "loud",
		"JIT_STATE": "pg:", "JIT_TERRAFORM": "/nope", "JIT_WORK_DIR": "/nope", "JIT_NEW_STATE": "maybe", "JIT_CONCURRENCY": "0",
		"JIT_TERRAFORM_TIMEOUT": "-1s", "JIT_RECONCILE": "1s", "JIT_DRIFT": "x",
	}
	for name, getenv := range map[string]func(string) string{"no environment": env(nil), "bad environment": env(badEnv)} {
		t.Run(name, func(t *testing.T) {
			got, err := parseServeConfig(args, getenv, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, compareConfig); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServeConfigErrors(t *testing.T) {
	f := newServeFiles(t)
	blocked := filepath.Join(f.dir, "blocked")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		env  map[string]string // over validEnv; "" unsets
		args []string
		want string
	}{
		"app id not a number": {env: map[string]string{"JIT_APP_ID": "abc"},
			want: `--app-id (JIT_APP_ID): "abc" is not a number; give the App's numeric id from its settings page`},
		"app id zero": {args: []string{"--app-id", "0"},
			want: `--app-id (JIT_APP_ID): 0 is not a valid App id; give the App's numeric id from its settings page`},
		"app id missing": {env: map[string]string{"JIT_APP_ID": ""},
			want: `--app-id (JIT_APP_ID) is required; give the App's numeric id from its settings page`},
		"api url relative": {env: map[string]string{"JIT_GITHUB_API_URL": "api.github.com"},
			want: `--api-url (JIT_GITHUB_API_URL): "api.github.com" is not an absolute http(s) URL without query or fragment; give one such as https://api.github.com/`},
		"api url not http": {args: []string{"--api-url", "ftp://github.com/"},
			want: `--api-url (JIT_GITHUB_API_URL): "ftp://github.com/" is not an absolute http(s) URL without query or fragment; give one such as https://api.github.com/`},
		"api url with a query": {args: []string{"--api-url", "https://github.com/?x=1"},
			want: `--api-url (JIT_GITHUB_API_URL): "https://github.com/?x=1" is not an absolute http(s) URL without query or fragment; give one such as https://api.github.com/`},
		"api url with credentials": {args: []string{"--api-url", "https://ghp_token:pw@github.com/"},
			want: `--api-url (JIT_GITHUB_API_URL): the URL carries credentials; give it without them (jit authenticates as the App)`},
		"api url unparsable": {args: []string{"--api-url", "https://git hub.com/%zz"},
			want: `--api-url (JIT_GITHUB_API_URL): the value given is not an absolute http(s) URL without query or fragment; give one such as https://api.github.com/`},
		"api url empty flag": {args: []string{"--api-url="},
			want: `--api-url (JIT_GITHUB_API_URL) is required; give GitHub's REST API URL, such as https://api.github.com/`},
		"private key missing": {env: map[string]string{"JIT_APP_PRIVATE_KEY_FILE": ""},
			want: `--private-key (JIT_APP_PRIVATE_KEY_FILE) is required; give the file of a private key generated on the App's settings page`},
		"private key unreadable": {env: map[string]string{"JIT_APP_PRIVATE_KEY_FILE": filepath.Join(f.dir, "nope.pem")},
			want: `--private-key (JIT_APP_PRIVATE_KEY_FILE): reading the App's private key: open ` + filepath.Join(f.dir, "nope.pem") + `: no such file or directory; give a private key file generated on the App's settings page`},
		"private key not PEM": {env: map[string]string{"JIT_APP_PRIVATE_KEY_FILE": f.notPEM},
			want: `--private-key (JIT_APP_PRIVATE_KEY_FILE): ` + f.notPEM + ` holds no PEM block; give the .pem file GitHub generated for the App`},
		"private key not RSA": {env: map[string]string{"JIT_APP_PRIVATE_KEY_FILE": f.ecKey},
			want: `--private-key (JIT_APP_PRIVATE_KEY_FILE): ` + f.ecKey + ` holds a *ecdsa.PrivateKey, not an RSA private key; GitHub Apps sign with RSA keys`},
		"private key is an OpenSSH key": {env: map[string]string{"JIT_APP_PRIVATE_KEY_FILE": f.rsaSigning},
			want: `--private-key (JIT_APP_PRIVATE_KEY_FILE): ` + f.rsaSigning + ` holds a PEM "OPENSSH PRIVATE KEY" block, not an RSA private key; give the .pem file GitHub generated for the App`},
		"private key encrypted": {env: map[string]string{"JIT_APP_PRIVATE_KEY_FILE": f.encryptedRSA},
			want: `--private-key (JIT_APP_PRIVATE_KEY_FILE): ` + f.encryptedRSA + ` is encrypted; jit reads only unencrypted keys (protect the file instead)`},
		"installation id not a number": {env: map[string]string{"JIT_INSTALLATION_ID": "-3"},
			want: `--installation-id (JIT_INSTALLATION_ID): "-3" is not a number; give the installation's numeric id (in its settings URL), or 0 to look it up`},
		"repo missing": {env: map[string]string{"JIT_REPO": ""},
			want: `--repo (JIT_REPO) is required; give the access repository as OWNER/NAME`},
		"repo without owner": {args: []string{"--repo", "access"},
			want: `--repo (JIT_REPO): "access" is not OWNER/NAME; give the access repository as OWNER/NAME, such as acme/access`},
		"repo with a path": {args: []string{"--repo", "acme/access/x"},
			want: `--repo (JIT_REPO): "acme/access/x" is not OWNER/NAME; give the access repository as OWNER/NAME, such as acme/access`},
		"repo dot dot": {args: []string{"--repo", "acme/.."},
			want: `--repo (JIT_REPO): "acme/.." is not OWNER/NAME; give the access repository as OWNER/NAME, such as acme/access`},
		"webhook secret missing": {env: map[string]string{"JIT_WEBHOOK_SECRET_FILE": ""},
			want: `--webhook-secret-file (JIT_WEBHOOK_SECRET_FILE) is required; give the file holding the webhook secret set on the App's settings page`},
		"webhook secret unreadable": {args: []string{"--webhook-secret-file", filepath.Join(f.dir, "nope")},
			want: `--webhook-secret-file (JIT_WEBHOOK_SECRET_FILE): reading the webhook secret: open ` + filepath.Join(f.dir, "nope") + `: no such file or directory; give a readable file holding it`},
		"webhook secret empty": {env: map[string]string{"JIT_WEBHOOK_SECRET_FILE": f.emptySecret},
			want: `--webhook-secret-file (JIT_WEBHOOK_SECRET_FILE): ` + f.emptySecret + ` is empty; put the App's webhook secret in it`},
		"webhook secret too short": {env: map[string]string{"JIT_WEBHOOK_SECRET_FILE": f.shortSecret},
			want: `--webhook-secret-file (JIT_WEBHOOK_SECRET_FILE): the secret in ` + f.shortSecret + ` is shorter than 16 bytes, too weak; set a longer random one (openssl rand -hex 32) on the App and in the file`},
		"signing key missing": {env: map[string]string{"JIT_SIGNING_KEY_FILE": ""},
			want: `--signing-key (JIT_SIGNING_KEY_FILE) is required; give the file of the ed25519 key that signs decisions (ssh-keygen -t ed25519 -N '')`},
		"signing key not ed25519": {env: map[string]string{"JIT_SIGNING_KEY_FILE": f.rsaSigning},
			want: `--signing-key (JIT_SIGNING_KEY_FILE): ` + f.rsaSigning + `: signing key is ssh-rsa; jit signs with ssh-ed25519 keys only (ssh-keygen -t ed25519)`},
		"signing key encrypted": {env: map[string]string{"JIT_SIGNING_KEY_FILE": f.encryptedSigning},
			want: `--signing-key (JIT_SIGNING_KEY_FILE): ` + f.encryptedSigning + `: signing key is encrypted with a passphrase; jit reads only unencrypted key files`},
		"signing key is the App's key": {env: map[string]string{"JIT_SIGNING_KEY_FILE": f.appKey},
			want: `--signing-key (JIT_SIGNING_KEY_FILE): ` + f.appKey + `: signing key is ssh-rsa; jit signs with ssh-ed25519 keys only`},
		"signing key unreadable": {env: map[string]string{"JIT_SIGNING_KEY_FILE": filepath.Join(f.dir, "nope")},
			want: `--signing-key (JIT_SIGNING_KEY_FILE): reading the signing key: open ` + filepath.Join(f.dir, "nope") + `: no such file or directory; give a readable ed25519 key file`},
		"data dir missing": {env: map[string]string{"JIT_DATA_DIR": ""},
			want: `--data-dir (JIT_DATA_DIR) is required; give a directory jit may write its clone and state to`},
		"data dir under a file": {env: map[string]string{"JIT_DATA_DIR": filepath.Join(blocked, "data")},
			want: `--data-dir (JIT_DATA_DIR): creating ` + filepath.Join(blocked, "data") + `: mkdir ` + blocked + `: not a directory; give a directory jit can create and write to`},
		"listen without port": {args: []string{"--listen", "localhost"},
			want: `--listen (JIT_LISTEN): "localhost" is not HOST:PORT; give an address such as :8080 or 127.0.0.1:8080`},
		"listen bad port": {env: map[string]string{"JIT_LISTEN": ":99999"},
			want: `--listen (JIT_LISTEN): ":99999" is not HOST:PORT; give an address such as :8080 or 127.0.0.1:8080`},
		"queue size zero": {env: map[string]string{"JIT_QUEUE_SIZE": "0"},
			want: `--queue-size (JIT_QUEUE_SIZE): 0 is less than 1; give the number of webhook events that may wait, such as 1000`},
		"queue size not a number": {args: []string{"--queue-size", "lots"},
			want: `--queue-size (JIT_QUEUE_SIZE): "lots" is not a number; give the number of webhook events that may wait, such as 1000`},
		"workers negative": {env: map[string]string{"JIT_WORKERS": "-1"},
			want: `--workers (JIT_WORKERS): -1 is less than 1; give the number of pull requests handled at once, such as 2`},
		"resync too short": {env: map[string]string{"JIT_RESYNC": "30s"},
			want: `--resync (JIT_RESYNC): 30s is shorter than 1m; a resync lists every open pull request, give 1m or more`},
		"resync not a duration": {args: []string{"--resync", "10"},
			want: `--resync (JIT_RESYNC): "10" is not a duration; give one such as 10m or 1h`},
		"log level unknown": {env: map[string]string{"JIT_LOG_LEVEL": "loud"},
			want: `--log-level (JIT_LOG_LEVEL): "loud" is not a log level; give debug, info, warn or error`},
		"state missing": {env: map[string]string{"JIT_STATE": ""},
			want: `--state (JIT_STATE) is required; give local:DIR or pg:CONNSTR where the grants' terraform state lives, or none if jit expire in GitHub Actions applies and expires grants`},
		"state unknown, not shown": {env: map[string]string{"JIT_STATE": "postgres://jit:hunter2@db/jit"},
			want: `--state (JIT_STATE): the value (not shown: it may hold a password) is not local:DIR or pg:CONNSTR, or none; pg: needs a connection string, such as pg:postgres://jit@db.internal/jit`},
		"state local without dir": {args: []string{"--state", "local:"},
			want: `--state (JIT_STATE): "local:": local needs a directory, e.g. local:.jit/state`},
		"targets file missing": {args: []string{"--targets", "/nope/targets.hcl"},
			want: `--targets (JIT_TARGETS): targets file: stat /nope/targets.hcl: no such file or directory; give the file declaring the targets (--targets or JIT_TARGETS)`},
		"new state not a bool": {env: map[string]string{"JIT_NEW_STATE": "maybe"},
			want: `--new-state (JIT_NEW_STATE): "maybe" is not true or false`},
		"reconcile too short": {env: map[string]string{"JIT_RECONCILE": "1s"},
			want: `--reconcile (JIT_RECONCILE): 1s is shorter than 10s; give 10s or more`},
		"drift not a duration": {args: []string{"--drift", "often"},
			want: `--drift (JIT_DRIFT): "often" is not a duration; give one such as 30m`},
		"terraform timeout negative": {env: map[string]string{"JIT_TERRAFORM_TIMEOUT": "-1s"},
			want: `--terraform-timeout (JIT_TERRAFORM_TIMEOUT): "-1s" is not a positive duration; give one such as 10m`},
		"an argument": {args: []string{"extra"},
			want: `jit serve takes no arguments, got "extra"; settings are flags or environment variables (jit serve -h)`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := f.validEnv()
			e["JIT_DATA_DIR"] = t.TempDir()
			for k, v := range tc.env {
				e[k] = v
			}
			_, err := parseServeConfig(tc.args, env(e), &bytes.Buffer{})
			if err == nil {
				t.Fatalf("accepted; want %s", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
			if n := strings.Count(err.Error(), "\n"); n != 0 {
				t.Errorf("one bad setting gave %d more problems:\n%v", n, err)
			}
		})
	}
}

func TestServeConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, err := parseServeConfig(nil, env(nil), &bytes.Buffer{})
	if err == nil {
		t.Fatal("an empty configuration was accepted")
	}
	var got []string
	for _, line := range strings.Split(err.Error(), "\n") {
		got = append(got, strings.SplitN(line, " ", 2)[0])
	}
	want := []string{"--app-id", "--private-key", "--repo", "--webhook-secret-file", "--signing-key", "--data-dir", "--state"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings named (-want +got):\n%s\nerror:\n%v", diff, err)
	}
}

func TestServeConfigNeverPrintsASecret(t *testing.T) {
	f := newServeFiles(t)
	secret := "s3cret-value-of-the-hook" // long enough, in a file that also breaks everything else
	e := f.validEnv()
	e["JIT_WEBHOOK_SECRET_FILE"] = filepath.Join(f.dir, "secret-as-everything")
	if err := os.WriteFile(e["JIT_WEBHOOK_SECRET_FILE"], []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	e["JIT_APP_PRIVATE_KEY_FILE"] = e["JIT_WEBHOOK_SECRET_FILE"]
	e["JIT_SIGNING_KEY_FILE"] = e["JIT_WEBHOOK_SECRET_FILE"]
	e["JIT_GITHUB_API_URL"] = "https://x-access-token:" + secret + "@github.com/"
	var stderr bytes.Buffer
	_, err := parseServeConfig(nil, env(e), &stderr)
	if err == nil {
		t.Fatal("accepted")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(stderr.String(), secret) {
		t.Errorf("the secret is printed:\n%v\n%s", err, stderr.String())
	}
	if _, err := parseServeConfig(nil, env(map[string]string{"JIT_SIGNING_KEY_FILE": f.appKey}), &stderr); err == nil || strings.Contains(err.Error(), "PRIVATE KEY-----") {
		t.Errorf("the App key is printed: %v", err)
	}
}

func TestServeHelpDocumentsEverySettingWithItsVariableAndDefault(t *testing.T) {
	var stderr bytes.Buffer
	_, err := parseServeConfig([]string{"-h"}, env(nil), &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{
		"-api-url URL", "(env JIT_GITHUB_API_URL, default https://api.github.com/)",
		"-app-id ID", "(env JIT_APP_ID)",
		"-private-key FILE", "(env JIT_APP_PRIVATE_KEY_FILE)",
		"-installation-id ID", "(env JIT_INSTALLATION_ID, default 0)",
		"-repo OWNER/NAME", "(env JIT_REPO)",
		"-webhook-secret-file FILE", "(env JIT_WEBHOOK_SECRET_FILE)",
		"-signing-key FILE", "(env JIT_SIGNING_KEY_FILE)",
		"-data-dir DIR", "(env JIT_DATA_DIR)",
		"-listen ADDRESS", "(env JIT_LISTEN, default :8080)",
		"-queue-size N", "(env JIT_QUEUE_SIZE, default 1000)",
		"-workers N", "(env JIT_WORKERS, default 2)",
		"-resync INTERVAL", "(env JIT_RESYNC, default 10m)",
		"-log-level LEVEL", "(env JIT_LOG_LEVEL, default info)",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestGitHubFlagsResolveAlone(t *testing.T) {
	f := newServeFiles(t)
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	gf := addGitHubFlags(fs)
	if err := fs.Parse([]string{"--repo", "acme/access", "--app-id", "3"}); err != nil {
		t.Fatal(err)
	}
	got, err := gf.resolve(env(map[string]string{"JIT_APP_ID": "9", "JIT_APP_PRIVATE_KEY_FILE": f.appKey, "JIT_GITHUB_API_URL": "http://127.0.0.1:8080/api/v3"}))
	if err != nil {
		t.Fatal(err)
	}
	want := githubConfig{APIURL: "http://127.0.0.1:8080/api/v3/", AppID: 3, PrivateKeyPEM: f.appKeyPEM, Owner: "acme", Repo: "access"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if _, err := gf.resolve(env(nil)); err == nil || !strings.Contains(err.Error(), "--private-key (JIT_APP_PRIVATE_KEY_FILE) is required") {
		t.Errorf("resolve without a key = %v", err)
	}
}
