package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jitops/jit/controller/internal/pgbin"
)

// Superuser is the name of every cluster's superuser role. It may log in
// over TCP from 127.0.0.1 without a password.
const Superuser = "postgres"

// commandTimeout bounds every server-side command (initdb, pg_ctl) and every
// psql run, so a wedged server fails a test instead of hanging it.
const commandTimeout = 60 * time.Second

// Cluster is a running throwaway PostgreSQL server. Its fields are fixed for
// its lifetime, including across Stop and Restart.
type Cluster struct {
	// Host is the address the server listens on: always "127.0.0.1".
	Host string
	// Port is the TCP port the server listens on.
	Port int
	// Superuser is the superuser role's name (the constant Superuser).
	Superuser string
	// Dir is the cluster's private directory: data directory, socket and
	// server log. It is removed when the cluster is closed.
	Dir string

	bin      string // directory of initdb, pg_ctl, psql
	runAs    string // OS user running the server; "" for the current user
	uid, gid int    // of runAs
	mu       sync.Mutex
	running  bool
	closed   bool
}

// ErrNoServer reports that the PostgreSQL server binaries are not installed.
var ErrNoServer = pgbin.ErrNotInstalled

// FindBinDir returns the directory holding the PostgreSQL server binaries
// (pgbin.Dir). The error wraps ErrNoServer when none has initdb.
func FindBinDir() (string, error) { return pgbin.Dir() }

// Start starts a new cluster for t and stops and removes it when t ends.
// It skips t when the server binaries are missing, unless CI=true, and fails
// t for any other problem, quoting the server log.
func Start(t testing.TB) *Cluster {
	t.Helper()
	skipShort(t)
	c, err := start()
	if err != nil {
		failOrSkip(t, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return c
}

// skipShort skips t under -short (make test-short), which leaves out every
// test that needs a real PostgreSQL server.
func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping: -short skips tests that start PostgreSQL")
	}
}

func failOrSkip(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNoServer) && os.Getenv("CI") != "true" {
		t.Skipf("pgtest: %v", err)
	}
	if errors.Is(err, ErrNoServer) {
		t.Fatalf("pgtest: %v (CI=true, so a missing server is an error)", err)
	}
	t.Fatalf("pgtest: %v", err)
}

var shared struct {
	mu      sync.Mutex
	inMain  bool
	cluster *Cluster
	err     error
}

// Main runs a package's tests (call it from TestMain) and afterwards stops
// and removes the cluster that Shared started, if any. It exits the process
// with the tests' exit code.
func Main(m *testing.M) {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	if shared.cluster != nil {
		if err := shared.cluster.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	shared.mu.Unlock()
	os.Exit(code)
}

// Shared returns the package's shared cluster, starting it on first use (and
// restarting it if a test stopped it). It requires the package's TestMain to
// call Main, which removes the cluster at the end; it fails t otherwise.
// Tests sharing a cluster should each use their own database (CreateDatabase
// with a unique name); tests that stop the server should use Start instead.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	skipShort(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		t.Fatal("pgtest: Shared needs the package's TestMain to call pgtest.Main(m), which removes the shared cluster at exit; or use pgtest.Start")
	}
	if shared.err != nil {
		failOrSkip(t, shared.err)
	}
	if shared.cluster == nil {
		c, err := start()
		if err != nil {
			shared.err = err
			failOrSkip(t, err)
		}
		shared.cluster = c
	}
	if err := shared.cluster.ensureRunning(); err != nil {
		t.Fatalf("pgtest: restarting the shared cluster: %v", err)
	}
	return shared.cluster
}

// start creates, configures and starts a cluster. It retries with a new port
// when another process took the port between choosing and binding it.
func start() (*Cluster, error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Host: "127.0.0.1", Superuser: Superuser, bin: bin}
	if os.Geteuid() == 0 {
		c.runAs = "postgres"
	}
	reapOnce.Do(func() { reapStale(bin, c.runAs) })
	if err := c.create(); err != nil {
		c.removeDir()
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		c.Port, err = freePort()
		if err == nil {
			err = c.writeConfig()
		}
		if err == nil {
			err = c.pgCtlStart()
		}
		if err == nil {
			return c, nil
		}
		if attempt == 3 || !strings.Contains(err.Error(), "already in use") {
			c.removeDir()
			return nil, err
		}
	}
}

// create makes the cluster directory, owned by the server's OS user, and runs
// initdb in it.
func (c *Cluster) create() error {
	// Not t.TempDir: its parents are private to root and the server's OS
	// user could not reach the data directory.
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return fmt.Errorf("creating the cluster directory: %w", err)
	}
	c.Dir = dir
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("recording the cluster's owner: %w", err)
	}
	if c.runAs != "" {
		u, err := user.Lookup(c.runAs)
		if err != nil {
			return fmt.Errorf("looking up OS user %q to run the server as (PostgreSQL refuses root): %w", c.runAs, err)
		}
		c.uid, _ = strconv.Atoi(u.Uid)
		c.gid, _ = strconv.Atoi(u.Gid)
		if err := os.Chown(dir, c.uid, c.gid); err != nil {
			return fmt.Errorf("handing %s to OS user %s: %w", dir, c.runAs, err)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restricting %s: %w", dir, err)
	}
	out, err := c.runServer("initdb", "-D", c.dataDir(), "-U", Superuser,
		"-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions", "--auth=trust")
	if err != nil {
		return fmt.Errorf("initdb in %s: %w\n%s", c.dataDir(), err, out)
	}
	hba := strings.Join([]string{
		"# written by pgtest",
		"local all all trust",
		"host all " + Superuser + " 127.0.0.1/32 trust",
		"host all all 127.0.0.1/32 scram-sha-256",
		"",
	}, "\n")
	return c.writeServerFile("pg_hba.conf", hba)
}

// writeConfig writes the settings pgtest owns (port and friends) into an
// include file, so Restart after a port change would only rewrite this file.
func (c *Cluster) writeConfig() error {
	conf := strings.Join([]string{
		"# written by pgtest",
		"listen_addresses = '127.0.0.1'",
		"port = " + strconv.Itoa(c.Port),
		"unix_socket_directories = '" + c.Dir + "'", // from os.MkdirTemp: no quotes
		"password_encryption = 'scram-sha-256'",
		"max_connections = 200",
		"shared_buffers = '16MB'",
		"fsync = off", // an immediate stop is a server crash, not an OS crash: nothing committed is lost
		"full_page_writes = off",
		"log_line_prefix = '%m [%p] %q%u@%d '",
		"",
	}, "\n")
	if strings.ContainsAny(c.Dir, "'\\") {
		return fmt.Errorf("cluster directory %q contains a quote or backslash; set TMPDIR to a plain path", c.Dir)
	}
	return c.writeServerFile("postgresql.auto.conf", conf)
}

func (c *Cluster) writeServerFile(name, content string) error {
	path := filepath.Join(c.dataDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if c.runAs != "" {
		if err := os.Chown(path, c.uid, c.gid); err != nil {
			return fmt.Errorf("handing %s to OS user %s: %w", path, c.runAs, err)
		}
	}
	return nil
}

func (c *Cluster) pgCtlStart() error {
	out, err := c.runServer("pg_ctl", "-D", c.dataDir(), "-l", c.LogFile(), "-w", "-t", "30", "start")
	if err != nil {
		return fmt.Errorf("starting postgres on port %d: %w\n%s\nserver log:\n%s", c.Port, err, out, c.logTail())
	}
	c.running = true
	return nil
}

// ownerFile in a cluster directory holds the PID of the test process that
// started the cluster.
const ownerFile = "owner.pid"

var reapOnce sync.Once

// reapStale stops and removes clusters left behind by test processes that
// died without cleaning up (killed by a timeout, say): a postgres started by
// pg_ctl outlives its test. Clusters of live processes are left alone.
func reapStale(bin, runAs string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "pgtest-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		stale := &Cluster{Dir: dir, bin: bin, runAs: runAs, running: true}
		if _, err := os.Stat(filepath.Join(stale.dataDir(), "postmaster.pid")); err == nil {
			_ = stale.stop()
		}
		_ = os.RemoveAll(dir)
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }

// LogFile is the path of the server's log, for tests that want to show it.
func (c *Cluster) LogFile() string { return filepath.Join(c.Dir, "postgres.log") }

func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.LogFile())
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// runServer runs a server binary as the server's OS user, in the cluster
// directory, with a bounded run time, and returns its combined output.
func (c *Cluster) runServer(name string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	if c.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.Dir
	cmd.Env = cleanEnv()
	cmd.WaitDelay = 5 * time.Second
	return cmd.CombinedOutput()
}

// cleanEnv is the process environment without PG* variables, so a
// developer's settings cannot redirect a test to another server.
func cleanEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PG") })
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Stop stops the server at once (pg_ctl stop -m immediate), as if the target
// went down; connections break and new ones are refused. Stopping a stopped
// cluster does nothing. Restart brings it back on the same port.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.stop(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

func (c *Cluster) stop() error {
	if !c.running {
		return nil
	}
	out, err := c.runServer("pg_ctl", "-D", c.dataDir(), "-m", "immediate", "-w", "-t", "30", "stop")
	if err != nil {
		return fmt.Errorf("stopping postgres on port %d: %w\n%s", c.Port, err, out)
	}
	c.running = false
	return nil
}

// Restart starts a stopped cluster again on the same port, with its data.
// Restarting a running cluster does nothing.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	if err := c.ensureRunning(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

func (c *Cluster) ensureRunning() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errors.New("the cluster was closed")
	}
	if c.running {
		return nil
	}
	return c.pgCtlStart()
}

// Close stops the server and removes its directory. Start and Main call it;
// calling it again does nothing.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.stop()
	if rmErr := c.removeDir(); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}

func (c *Cluster) removeDir() error {
	if c.Dir == "" {
		return nil
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		return fmt.Errorf("removing cluster directory: %w", err)
	}
	return nil
}

// Env returns PGHOST, PGPORT, PGUSER and PGDATABASE for the superuser and the
// postgres database, plus PGSSLMODE=disable and PGCONNECT_TIMEOUT=10: the
// connection a psql started by terraform's provisioners inherits. Append it to an environment after removing other
// PG* variables (later entries win in os/exec).
func (c *Cluster) Env() []string {
	return []string{
		"PGHOST=" + c.Host,
		"PGPORT=" + strconv.Itoa(c.Port),
		"PGUSER=" + c.Superuser,
		"PGDATABASE=postgres",
		"PGSSLMODE=disable",
		"PGCONNECT_TIMEOUT=10",
	}
}

// ConnString returns a libpq URL for the superuser and database db, in the
// form terraform's pg backend takes as conn_str:
// postgres://postgres@127.0.0.1:PORT/DB?sslmode=disable.
func (c *Cluster) ConnString(db string) string {
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", c.Superuser, net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), db)
}

// psqlCommand builds a psql run against the cluster as user on db, reading
// its script from stdin. Extra environment entries (e.g. PGPASSWORD) win.
func (c *Cluster) psqlCommand(ctx context.Context, db, user string, env ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, pgbin.Psql(c.bin), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-w", "-f", "-")
	cmd.Env = append(cleanEnv(),
		"PGHOST="+c.Host,
		"PGPORT="+strconv.Itoa(c.Port),
		"PGUSER="+user,
		"PGDATABASE="+db,
		"PGSSLMODE=disable",
		"PGCONNECT_TIMEOUT=10",
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Psql runs sql (one or more statements, psql meta-commands allowed) as the
// superuser in database db with ON_ERROR_STOP, unaligned tuples-only output.
// Each of vars ("name=value") sets a psql variable, passed as its own
// argument, so sql can use values safely as :'name' or :"name".
// It returns the output without its final newline and fails t on any error.
func (c *Cluster) Psql(t testing.TB, db, sql string, vars ...string) string {
	t.Helper()
	out, err := c.psql(db, sql, vars...)
	if err != nil {
		t.Fatalf("pgtest: psql in %s: %v\nSQL:\n%s", db, err, sql)
	}
	return out
}

func (c *Cluster) psql(db, sql string, vars ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := c.psqlCommand(ctx, db, c.Superuser)
	for _, v := range vars {
		cmd.Args = append(cmd.Args, "-v", v)
	}
	cmd.Stdin = strings.NewReader(sql)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSuffix(stdout.String(), "\n"), nil
}

// TryLogin connects as user with password to database db over TCP, so the
// scram-sha-256 line of pg_hba.conf really checks the password, and runs
// SELECT 1. It returns nil when that works, and otherwise an error carrying
// psql's message (for example `password authentication failed for user …`
// or `… is not permitted to log in`).
func (c *Cluster) TryLogin(db, user, password string) error {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := c.psqlCommand(ctx, db, user, "PGPASSWORD="+password)
	cmd.Stdin = strings.NewReader("SELECT 1;\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("logging in to %s as %q: %w: %s", db, user, err, strings.TrimSpace(stderr.String()))
	}
	if got := strings.TrimSpace(stdout.String()); got != "1" {
		return fmt.Errorf("logging in to %s as %q: SELECT 1 returned %q", db, user, got)
	}
	return nil
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,57}$`)

// ReadRole names the read group role CreateDatabase makes for database db,
// which templates/postgres-role joins for privileges "read".
func ReadRole(db string) string { return db + "_read" }

// WriteRole names the write group role CreateDatabase makes for database db,
// which templates/postgres-role joins for privileges "write".
func WriteRole(db string) string { return db + "_write" }

// CreateDatabase creates database name and its group roles, following the
// convention templates/postgres-role relies on:
//
//   - ReadRole(name) ("<name>_read"): CONNECT on the database, USAGE on schema
//     public, SELECT on its tables (present and future);
//   - WriteRole(name) ("<name>_write"): the same plus INSERT, UPDATE, DELETE.
//
// CONNECT is revoked from PUBLIC, so a login role reaches the database only
// through one of the groups. The database also gets a table
// public.items(id int, note text) with one row, to read and write.
// name must be a lower-case identifier of at most 58 bytes (so the group
// names fit PostgreSQL's 63); t fails otherwise.
func (c *Cluster) CreateDatabase(t testing.TB, name string) {
	t.Helper()
	if !identifier.MatchString(name) {
		t.Fatalf("pgtest: database name %q is not a lower-case identifier of at most 58 bytes", name)
	}
	vars := []string{"db=" + name, "read=" + ReadRole(name), "write=" + WriteRole(name)}
	if _, err := c.psql("postgres", `CREATE DATABASE :"db";
CREATE ROLE :"read" NOLOGIN;
CREATE ROLE :"write" NOLOGIN;
REVOKE CONNECT, TEMPORARY ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"read", :"write";
`, vars...); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	if _, err := c.psql(name, `REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"read", :"write";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO :"read";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"write";
CREATE TABLE public.items (id int PRIMARY KEY, note text);
INSERT INTO public.items VALUES (1, 'first');
`, vars...); err != nil {
		t.Fatalf("pgtest: setting up database %s: %v", name, err)
	}
}
