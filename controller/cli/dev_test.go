package cli_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/cli"
	"github.com/jitops/jit/controller/devsandbox"
	"github.com/jitops/jit/controller/internal/syncbuf"
)

// devClear is why jit dev refuses an address beyond this machine.
const devClear = "jit dev prints the sandbox's tokens and keys in the clear, so anyone who could reach it could act as its users and its App"

// TestDevUsage checks every refused invocation of jit dev and jit dev
// approve: the exit code and a message saying what to do (for --addr and
// --app-addr beyond loopback, also why).
func TestDevUsage(t *testing.T) {
	full := t.TempDir()
	writeFile(t, full, "something", "x")
	noSandbox := t.TempDir()
	t.Setenv("JIT_DEV_DATA", "")
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"argument":          {[]string{"dev", "extra"}, `jit dev: unexpected argument "extra"; run 'jit dev -h'`},
		"log level":         {[]string{"dev", "--log-level", "loud"}, `jit dev: --log-level "loud" is not a log level; give debug, info, warn or error`},
		"negative skew":     {[]string{"dev", "--clock-skew", "-1s"}, "jit dev: --clock-skew -1s is outside 0 to 50s; give a skew in that range"},
		"skew too large":    {[]string{"dev", "--clock-skew", "2m"}, "jit dev: --clock-skew 2m0s is outside 0 to 50s; give a skew in that range"},
		"data not empty":    {[]string{"dev", "--data", full}, "jit dev: --data " + full + " is not empty; jit dev starts a fresh sandbox each time: give a new or empty directory"},
		"addr everywhere":   {[]string{"dev", "--addr", ":8080"}, `jit dev: --addr ":8080" is not a loopback address (127.0.0.1 or ::1): ` + devClear + "; give 127.0.0.1:8080"},
		"addr LAN":          {[]string{"dev", "--addr", "192.168.1.5:0"}, `jit dev: --addr "192.168.1.5:0" is not a loopback address (127.0.0.1 or ::1): ` + devClear + "; give 127.0.0.1:0"},
		"addr localhost":    {[]string{"dev", "--addr", "localhost:8080"}, `jit dev: --addr "localhost:8080" is not a loopback address (127.0.0.1 or ::1): ` + devClear + "; give 127.0.0.1:8080"},
		"addr no port":      {[]string{"dev", "--addr", "8080"}, `jit dev: --addr "8080" is not HOST:PORT (address 8080: missing port in address): ` + devClear + "; give 127.0.0.1:0"},
		"app addr any":      {[]string{"dev", "--app-addr", "0.0.0.0:9000"}, `jit dev: --app-addr "0.0.0.0:9000" is not a loopback address (127.0.0.1 or ::1): ` + devClear + "; give 127.0.0.1:9000"},
		"app addr IPv6 any": {[]string{"dev", "--app-addr", "[::]:9000"}, `jit dev: --app-addr "[::]:9000" is not a loopback address (127.0.0.1 or ::1): ` + devClear + "; give 127.0.0.1:9000"},
		"approve nothing":   {[]string{"dev", "approve", "--as", "bob"}, "jit dev approve: give the pull request's number, such as jit dev approve 1 --as bob"},
		"approve bad pr":    {[]string{"dev", "approve", "one", "--as", "bob"}, `jit dev approve: "one" is not a pull request number; give one such as 1`},
		"approve two prs":   {[]string{"dev", "approve", "1", "2", "--as", "bob"}, `jit dev approve: unexpected argument "2"; give one pull request number`},
		"approve nobody":    {[]string{"dev", "approve", "1"}, "jit dev approve: --as LOGIN is required; give a seeded user such as bob"},
		"approve no data":   {[]string{"dev", "approve", "1", "--as", "bob"}, "jit dev approve: no sandbox: give --data DIR or set JIT_DEV_DATA as jit dev printed"},
		"approve no server": {[]string{"dev", "approve", "1", "--as", "bob", "--data", noSandbox}, "jit dev approve: reading the sandbox's description: open " + filepath.Join(noSandbox, devsandbox.InfoFile) + ": no such file or directory; is jit dev running with --data " + noSandbox + "?"},
	} {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != cli.ExitUsage || stdout != "" || strings.TrimSpace(stderr) != tc.want {
				t.Errorf("jit %s: exit %d, stdout %q\nstderr %q\nwant exit 2 and %q", strings.Join(tc.args, " "), code, stdout, stderr, tc.want)
			}
		})
	}
}

// TestDev runs jit dev and checks what it promises: the printed URLs,
// tokens and export lines; each user's SSH identity; acme/access seeded
// from this repository's HEAD with the sandbox policy, its CODEOWNERS rule
// and the App's signing key in .github/jit-signers, and grant.schema.json;
// the cluster's superuser password in a 0600 pgpass file that psql can use
// and in the provisioners' PGPASSWORD; jit dev approve approving as bob
// (and an unknown user refused); and, once interrupted, nothing left
// running or written and the developer's own PGPASSWORD back.
func TestDev(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: -short skips jit dev (it starts PostgreSQL when installed)")
	}
	t.Setenv("PGPASSWORD", "the developer's own")
	dir := filepath.Join(t.TempDir(), "dev")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- cli.Main(ctx, []string{"dev", "--data", dir, "--source", repoRoot}, &stdout, &stderr) }()
	var info devsandbox.Info
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var err error
		if info, err = devsandbox.ReadInfo(dir); err == nil && info.AppURL != "" {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("jit dev exited %d before serving:\n%s", code, stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("jit dev did not serve within 2 minutes:\n%s", stderr.String())
		}
	}

	out := stdout.String()
	var logins []string
	for _, u := range info.Users {
		logins = append(logins, u.Login+"@"+u.Team)
		want := "export JIT_GITHUB_URL=" + info.APIURL + " GITHUB_TOKEN=" + u.Token + " JIT_DEV_DATA=" + info.DataDir
		if u.Token == "" || !strings.Contains(out, want) {
			t.Errorf("jit dev's output lacks %q:\n%s", want, out)
		}
		key, err := os.ReadFile(u.Identity)
		if err != nil || !strings.HasPrefix(string(key), "-----BEGIN OPENSSH PRIVATE KEY-----") {
			t.Errorf("%s's identity %s is no OpenSSH private key (%v)", u.Login, u.Identity, err)
		}
	}
	if diff := cmp.Diff([]string{"alice@developers", "bob@dba", "carol@security"}, logins); diff != "" {
		t.Errorf("seeded users (-want +got):\n%s", diff)
	}
	for _, want := range []string{info.APIURL, info.GitURL, info.AppURL} {
		if !strings.Contains(out, want) {
			t.Errorf("jit dev's output lacks %s", want)
		}
	}

	// The access repository: this repository's HEAD, plus the sandbox's
	// policy, owners and signing key.
	carol, _ := info.User("carol")
	asCarol := strings.Replace(info.GitURL, "http://", "http://carol:"+carol.Token+"@", 1)
	clone := filepath.Join(t.TempDir(), "access")
	if b, err := exec.Command("git", "clone", "-q", asCarol, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v: %s", err, b)
	}
	head, err := exec.Command("git", "-C", repoRoot, "show", "HEAD:templates/postgres-role/main.tf").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(clone, "templates/postgres-role/main.tf")); got != string(head) {
		t.Error("templates/postgres-role/main.tf is not the one at the jit repository's HEAD")
	}
	if got := readFile(t, filepath.Join(clone, devsandbox.SandboxPolicyFile)); !strings.Contains(got, `paths        = ["access/sandbox/**"]`) {
		t.Errorf("%s:\n%s", devsandbox.SandboxPolicyFile, got)
	}
	if got := readFile(t, filepath.Join(clone, ".github/CODEOWNERS")); !strings.HasSuffix(got, "/access/sandbox/  @acme/dba\n") {
		t.Errorf(".github/CODEOWNERS does not end with the sandbox's rule:\n%s", got)
	}
	schema, err := exec.Command("git", "-C", repoRoot, "show", "HEAD:grant.schema.json").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(clone, "grant.schema.json")); got != string(schema) {
		t.Error("grant.schema.json (the example grants' modelines point at it) is not the one at the jit repository's HEAD")
	}
	if info.Postgres != "" {
		checkDevPGPass(t, dir, info, out)
	}
	pub := strings.Fields(readFile(t, filepath.Join(dir, "keys", "jit-signing-key.pub")))
	if got := readFile(t, filepath.Join(clone, ".github/jit-signers")); !strings.Contains(got, `jit namespaces="jit" `+pub[0]+" "+pub[1]+"\n") {
		t.Errorf(".github/jit-signers does not trust the sandbox's signing key:\n%s", got)
	}

	// jit dev approve, through the REST API as bob, on carol's pull
	// request (bob may not approve his own).
	cmd := exec.Command("git", "-C", clone, "-c", "user.name=carol", "-c", "user.email=carol@acme.example", "commit", "-q", "--allow-empty", "-m", "empty")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git commit: %v: %s", err, b)
	}
	if b, err := exec.Command("git", "-C", clone, "push", "-q", "origin", "HEAD:refs/heads/carol").CombinedOutput(); err != nil {
		t.Fatalf("git push: %v: %s", err, b)
	}
	base, err := url.Parse(info.APIURL)
	if err != nil {
		t.Fatal(err)
	}
	gh := github.NewClient(nil).WithAuthToken(carol.Token)
	gh.BaseURL = base
	pr, _, err := gh.PullRequests.Create(ctx, devsandbox.Org, devsandbox.Repo, &github.NewPullRequest{Title: github.String("nothing"), Head: github.String("carol"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	n := pr.GetNumber()
	if code, so, se := run(t, "dev", "approve", "--as", "mallory", "--data", dir, strconv.Itoa(n)); code != cli.ExitUsage ||
		!strings.Contains(se, "jit dev approve: --as mallory is no user of the sandbox; give alice, bob or carol") {
		t.Errorf("approve as mallory: exit %d\nstdout %s\nstderr %s", code, so, se)
	}
	t.Setenv("JIT_DEV_DATA", dir)
	code, so, se := run(t, "dev", "approve", "#"+strconv.Itoa(n), "--as", "bob", "--body", "fine by me")
	if want := "bob approved acme/access#" + strconv.Itoa(n) + "\n"; code != cli.ExitOK || so != want {
		t.Fatalf("approve as bob: exit %d\nstdout %q, want %q\nstderr %s", code, so, want, se)
	}
	reviews, _, err := gh.PullRequests.ListReviews(ctx, devsandbox.Org, devsandbox.Repo, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(reviews) != 1 || reviews[0].GetUser().GetLogin() != "bob" || reviews[0].GetState() != "APPROVED" || reviews[0].GetBody() != "fine by me" {
		t.Errorf("reviews after jit dev approve: %+v", reviews)
	}
	if code, _, se := run(t, "dev", "approve", strconv.Itoa(n), "--as", "carol"); code != cli.ExitProblems ||
		!strings.Contains(se, "jit dev approve: approving acme/access#"+strconv.Itoa(n)+" as carol: GitHub answered 422: ") {
		t.Errorf("carol approving her own pull request: exit %d, stderr %s", code, se)
	}

	cancel()
	select {
	case code := <-done:
		if code != cli.ExitOK {
			t.Errorf("jit dev exited %d after the interrupt:\n%s", code, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("jit dev did not stop within a minute of the interrupt")
	}
	if got := os.Getenv("PGPASSWORD"); got != "the developer's own" {
		t.Errorf("PGPASSWORD after jit dev stopped is %q, want the developer's own back", got)
	}
	if _, err := os.Stat(filepath.Join(dir, devsandbox.InfoFile)); !os.IsNotExist(err) {
		t.Errorf("%s is left after jit dev stopped (%v)", devsandbox.InfoFile, err)
	}
	if info.Postgres != "" {
		if err := exec.Command("pg_isready", "-q", "-h", "127.0.0.1", "-p", info.Postgres[strings.LastIndex(info.Postgres, ":")+1:]).Run(); err == nil {
			t.Errorf("PostgreSQL at %s still answers after jit dev stopped", info.Postgres)
		}
	}
}

// checkDevPGPass checks the running sandbox's pgpass file: printed, mode
// 0600, naming the cluster's superuser, holding the password the
// provisioners get as PGPASSWORD, and good for psql as the superuser.
func checkDevPGPass(t *testing.T, dir string, info devsandbox.Info, out string) {
	t.Helper()
	file := filepath.Join(dir, "keys", "pgpass")
	if want := "(superuser postgres, its password in the pgpass file " + file + ")"; !strings.Contains(out, want) {
		t.Errorf("jit dev's output lacks %q:\n%s", want, out)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v; it holds the superuser's password, want 0600", file, err, fi.Mode())
	}
	host, port, _ := strings.Cut(info.Postgres, ":")
	line := strings.TrimSuffix(readFile(t, file), "\n")
	password, ok := strings.CutPrefix(line, host+":"+port+":*:postgres:")
	if !ok || len(password) < 32 {
		t.Fatalf("%s holds %q, want the superuser's line for %s", file, line, info.Postgres)
	}
	if got := os.Getenv("PGPASSWORD"); got != password {
		t.Errorf("the provisioners' PGPASSWORD is not the superuser's password in %s", file)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command("psql", "-X", "-w", "-At", "-c", "SELECT current_user")
	cmd.Env = append(env, "PGPASSFILE="+file, "PGHOST="+host, "PGPORT="+port, "PGUSER=postgres", "PGDATABASE="+devsandbox.Database, "PGSSLMODE=disable")
	if b, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "postgres" {
		t.Errorf("psql with PGPASSFILE=%s: %v: %s", file, err, b)
	}
}
