package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jitops/jit/controller/devsandbox"
)

// devDataEnv names the variable jit dev approve reads the sandbox's data
// directory from when --data is not given; jit dev prints it.
const devDataEnv = "JIT_DEV_DATA"

const devUsage = `usage: jit dev [--data DIR] [--addr HOST:PORT] [--app-addr HOST:PORT] [--clock-skew DURATION] [--source DIR]
       jit dev approve PR --as LOGIN [--data DIR] [--body TEXT]

Runs a local sandbox in one process until interrupted: the GitHub emulator
seeded with the organisation acme (users alice, bob and carol, each with an
SSH key; teams dba (bob), developers (alice) and security (carol)), this
repository's access/, policies/, templates/, .github/ and grant.schema.json
at HEAD as acme/access (plus policies/sandbox.hcl: grants under
access/sandbox/ on the sandbox's database, up to 10m, approved by
@acme/dba), the jit App installed and served against it with a fresh
signing key, a throwaway PostgreSQL with the orders database when the
server binaries are installed (its superuser logs in with a random
password, in a pgpass file under the data directory), and terraform state
under the data directory. It prints the URLs, each user's token and SSH
identity, and export lines for the jit commands.

Everything listens on loopback addresses only: the tokens and keys are
printed in the clear, so --addr and --app-addr must be 127.0.0.1 or ::1.

jit dev approve approves pull request PR as a seeded user, through the REST
API with that user's token.

flags:
`

// runDev runs the sandbox, or jit dev approve.
func runDev(ctx context.Context, o IO, args []string) int {
	if len(args) > 0 && args[0] == "approve" {
		return runDevApprove(ctx, o, args[1:])
	}
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(o.Stderr)
	data := fs.String("data", "", "`DIR` for the sandbox's keys, repositories and terraform state; must be new or empty (default: a temporary directory removed on exit)")
	addr := fs.String("addr", "127.0.0.1:0", "the emulator's `HOST:PORT`, a loopback address (port 0 picks a free one)")
	appAddr := fs.String("app-addr", "127.0.0.1:0", "the App's `HOST:PORT`, a loopback address (webhooks and /metrics)")
	skew := fs.Duration("clock-skew", 0, "set the emulated GitHub's clock this `DURATION` behind: jit stamps expiry from GitHub's clock, so every grant lives that much less (make demo: 1m grants expire within seconds)")
	source := fs.String("source", ".", "`DIR` inside the jit repository whose HEAD is seeded")
	logLevel := fs.String("log-level", "warn", "`LEVEL` of the emulator's and the App's logs on stderr: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprint(o.Stderr, devUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	var level slog.Level
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(o.Stderr, "jit dev: unexpected argument %q; run 'jit dev -h'\n", fs.Arg(0))
		return ExitUsage
	case level.UnmarshalText([]byte(*logLevel)) != nil:
		fmt.Fprintf(o.Stderr, "jit dev: --log-level %q is not a log level; give debug, info, warn or error\n", *logLevel)
		return ExitUsage
	case *skew < 0 || *skew > 50*time.Second:
		// Beyond about a minute the App's JWTs look issued in the
		// emulator's future and are refused.
		fmt.Fprintf(o.Stderr, "jit dev: --clock-skew %s is outside 0 to 50s; give a skew in that range\n", *skew)
		return ExitUsage
	}
	for _, f := range []struct{ flag, addr string }{{"addr", *addr}, {"app-addr", *appAddr}} {
		if err := devsandbox.CheckLoopback(f.addr); err != nil {
			fmt.Fprintf(o.Stderr, "jit dev: --%s %v: jit dev prints the sandbox's tokens and keys in the clear, so anyone who could reach it could act as its users and its App; give %s\n",
				f.flag, err, loopbackLike(f.addr))
			return ExitUsage
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir := *data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "jit-dev-data-")
		if err != nil {
			fmt.Fprintf(o.Stderr, "jit dev: creating a data directory: %v\n", err)
			return ExitUsage
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		fmt.Fprintf(o.Stderr, "jit dev: --data %s is not empty; jit dev starts a fresh sandbox each time: give a new or empty directory\n", dir)
		return ExitUsage
	}
	log := slog.New(slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: level}))
	sb, err := devsandbox.Start(ctx, devsandbox.Config{DataDir: dir, Source: *source, Addr: *addr, ClockSkew: *skew, Logger: log})
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit dev: %v\n", err)
		return ExitUsage
	}
	defer func() {
		if err := sb.Close(); err != nil {
			fmt.Fprintf(o.Stderr, "jit dev: cleaning up: %v\n", err)
		}
	}()
	restore := devPGEnv(sb)
	defer restore()
	cfg, err := devServeConfig(sb, *appAddr, *logLevel, o.Stderr)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit dev: configuring the App: %v\n", err)
		return ExitUsage
	}
	err = serve(ctx, cfg, log, func(addr string) {
		sb.SetAppURL("http://" + addr)
		printDev(o.Stdout, sb)
		// Last: its presence tells jit dev approve and the demo that the
		// sandbox is up and everything above is printed.
		if err := devsandbox.WriteInfo(sb.Info); err != nil {
			log.Error("writing the sandbox's description; jit dev approve cannot find it", "err", err)
		}
	})
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit dev: the App stopped: %v\n", err)
		return ExitUsage
	}
	fmt.Fprintln(o.Stdout, "jit dev: stopped; the emulator and the cluster are gone")
	return ExitOK
}

// loopbackLike is addr's port on 127.0.0.1 ("127.0.0.1:0" when addr has no
// port), to suggest in place of addr.
func loopbackLike(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		port = "0"
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// devServeConfig is jit serve's configuration for the sandbox, checked by
// the same parser as jit serve's flags. Only JIT_TERRAFORM is read from
// the environment (to pick a terraform binary); nothing else of an
// operator's JIT_* settings leaks into the sandbox.
func devServeConfig(sb *devsandbox.Sandbox, listen, logLevel string, stderr io.Writer) (serveConfig, error) {
	args := []string{
		"--api-url", sb.Info.APIURL,
		"--app-id", strconv.FormatInt(sb.Info.AppID, 10),
		"--installation-id", strconv.FormatInt(sb.Info.InstallationID, 10),
		"--private-key", sb.AppKeyFile,
		"--repo", sb.Info.Repo,
		"--webhook-secret-file", sb.WebhookSecretFile,
		"--signing-key", sb.SigningKeyFile,
		"--data-dir", filepath.Join(sb.Info.DataDir, "app"),
		"--listen", listen,
		"--state", "local:" + sb.Info.StateDir,
		// Always a new deployment: the state directory is as fresh as the
		// repository, which the App's own merges may fill before its first
		// pass.
		"--new-state", "true",
		"--log-level", logLevel,
		"--resync", "1m",
		"--reconcile", "10s",
	}
	getenv := func(name string) string {
		if name == "JIT_TERRAFORM" {
			return os.Getenv(name)
		}
		return ""
	}
	return parseServeConfig(args, getenv, stderr)
}

// devPGEnv points the process's PG* variables, which the sandbox policy's
// grants are applied with (it names no target), at the sandbox's cluster
// as its superuser, password (PGPASSWORD) included, after removing every
// other PG* variable, so a developer's own settings never reach a sandbox
// grant. Without a cluster it only removes them. restore puts the
// environment back.
//
// A target (its password in secret_env) would keep the superuser's
// password out of the process's environment, and so out of every process
// it starts; package provision now lets a target-bound grant deliver the
// target's PGHOST and PGPORT, so the sandbox could move to one.
func devPGEnv(sb *devsandbox.Sandbox) (restore func()) {
	saved := map[string]string{}
	for _, kv := range os.Environ() {
		if name, value, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "PG") {
			saved[name] = value
			os.Unsetenv(name)
		}
	}
	var set []string
	if sb.Postgres != nil {
		for name, value := range sb.Postgres.Env() {
			os.Setenv(name, value)
			set = append(set, name)
		}
	}
	return func() {
		for _, name := range set {
			os.Unsetenv(name)
		}
		for name, value := range saved {
			os.Setenv(name, value)
		}
	}
}

// printDev tells the user what runs and how to use it.
func printDev(w io.Writer, sb *devsandbox.Sandbox) {
	i := sb.Info
	var b strings.Builder
	fmt.Fprintf(&b, "jit dev: the sandbox is up (Ctrl-C stops it and cleans up)\n\n")
	fmt.Fprintf(&b, "  GitHub API   %s\n", i.APIURL)
	fmt.Fprintf(&b, "  git          %s\n", i.GitURL)
	fmt.Fprintf(&b, "  the jit App  %s (webhooks at /webhook, /metrics)\n", i.AppURL)
	if sb.Postgres != nil {
		fmt.Fprintf(&b, "  PostgreSQL   %s, database %s (superuser %s, its password in the pgpass file %s)\n", i.Postgres, devsandbox.Database, devsandbox.Superuser, sb.PGPassFile)
	} else {
		fmt.Fprintf(&b, "  PostgreSQL   none: %v; grants of policies/sandbox.hcl are never applied (their target %s is configured nowhere)\n", sb.NoPostgres, devsandbox.Target)
	}
	fmt.Fprintf(&b, "  data         %s\n", i.DataDir)
	if i.ClockSkew > 0 {
		fmt.Fprintf(&b, "  clock skew   GitHub's clock is %s behind: every grant lives %s less than it asks\n", i.ClockSkew, i.ClockSkew)
	}
	fmt.Fprintf(&b, "\nUsers of %s (token; SSH identity for jit credentials --identity):\n", i.Repo)
	for _, u := range i.Users {
		fmt.Fprintf(&b, "  %-6s %-17s %s  %s\n", u.Login, "@"+devsandbox.Org+"/"+u.Team, u.Token, u.Identity)
	}
	for _, u := range i.Users {
		fmt.Fprintf(&b, "\n# as %s:\nexport JIT_GITHUB_URL=%s GITHUB_TOKEN=%s %s=%s\n", u.Login, i.APIURL, u.Token, devDataEnv, i.DataDir)
	}
	if u, ok := i.User("alice"); ok {
		authed, err := url.Parse(i.GitURL)
		if err == nil {
			authed.User = url.UserPassword(u.Login, u.Token)
			fmt.Fprintf(&b, "\nThen, as alice:\n  git clone %s access && cd access\n", authed)
		}
		fmt.Fprintf(&b, "  (write access/sandbox/orders/alice.yaml, push it on a branch and open a pull request)\n")
		fmt.Fprintf(&b, "  jit dev approve PR --as bob\n  jit credentials sandbox/orders/alice --identity %s\n", u.Identity)
	}
	io.WriteString(w, b.String())
}

// runDevApprove approves a pull request as a seeded user.
func runDevApprove(ctx context.Context, o IO, args []string) int {
	fs := flag.NewFlagSet("dev approve", flag.ContinueOnError)
	fs.SetOutput(o.Stderr)
	as := fs.String("as", "", "the seeded user's `LOGIN` (bob approves for @acme/dba)")
	data := fs.String("data", "", "`DIR` of the running jit dev (default $"+devDataEnv+")")
	body := fs.String("body", "", "the review's `TEXT`")
	fs.Usage = func() {
		fmt.Fprintln(o.Stderr, "usage: jit dev approve PR --as LOGIN [--data DIR] [--body TEXT]")
		fs.PrintDefaults()
	}
	// The pull request may come before or after the flags.
	var pr string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return usageExit(err)
		}
		if fs.NArg() == 0 {
			break
		}
		if pr != "" {
			fmt.Fprintf(o.Stderr, "jit dev approve: unexpected argument %q; give one pull request number\n", fs.Arg(0))
			return ExitUsage
		}
		pr, rest = fs.Arg(0), fs.Args()[1:]
	}
	n, err := strconv.Atoi(strings.TrimPrefix(pr, "#"))
	switch {
	case pr == "":
		fmt.Fprintln(o.Stderr, "jit dev approve: give the pull request's number, such as jit dev approve 1 --as bob")
		return ExitUsage
	case err != nil || n < 1:
		fmt.Fprintf(o.Stderr, "jit dev approve: %q is not a pull request number; give one such as 1\n", pr)
		return ExitUsage
	case *as == "":
		fmt.Fprintln(o.Stderr, "jit dev approve: --as LOGIN is required; give a seeded user such as bob")
		return ExitUsage
	}
	dir := *data
	if dir == "" {
		dir = os.Getenv(devDataEnv)
	}
	if dir == "" {
		fmt.Fprintf(o.Stderr, "jit dev approve: no sandbox: give --data DIR or set %s as jit dev printed\n", devDataEnv)
		return ExitUsage
	}
	info, err := devsandbox.ReadInfo(dir)
	if err != nil {
		fmt.Fprintf(o.Stderr, "jit dev approve: %v\n", err)
		return ExitUsage
	}
	u, ok := info.User(*as)
	if !ok {
		fmt.Fprintf(o.Stderr, "jit dev approve: --as %s is no user of the sandbox; give alice, bob or carol\n", *as)
		return ExitUsage
	}
	if err := approveAs(ctx, info, u, n, *body); err != nil {
		fmt.Fprintf(o.Stderr, "jit dev approve: %v\n", err)
		return ExitProblems
	}
	fmt.Fprintf(o.Stdout, "%s approved %s#%d\n", u.Login, info.Repo, n)
	return ExitOK
}

// approveAs posts an APPROVE review on pull request n as u.
func approveAs(ctx context.Context, info devsandbox.Info, u devsandbox.User, n int, body string) error {
	base, err := url.Parse(info.APIURL)
	if err != nil {
		return fmt.Errorf("the sandbox's API URL %q: %w", info.APIURL, err)
	}
	gh := github.NewClient(nil).WithAuthToken(u.Token)
	gh.BaseURL = base
	owner, name, _ := strings.Cut(info.Repo, "/")
	review := &github.PullRequestReviewRequest{Event: github.String("APPROVE")}
	if body != "" {
		review.Body = github.String(body)
	}
	if _, _, err := gh.PullRequests.CreateReview(ctx, owner, name, n, review); err != nil {
		var ge *github.ErrorResponse
		if errors.As(err, &ge) {
			return fmt.Errorf("approving %s#%d as %s: GitHub answered %d: %s", info.Repo, n, u.Login, ge.Response.StatusCode, ghMessage(ge))
		}
		return fmt.Errorf("approving %s#%d as %s: %w", info.Repo, n, u.Login, err)
	}
	return nil
}

// ghMessage is an error response's message with its errors' messages.
func ghMessage(ge *github.ErrorResponse) string {
	msg := ge.Message
	for _, e := range ge.Errors {
		if e.Message != "" {
			msg += "; " + e.Message
		}
	}
	return msg
}
