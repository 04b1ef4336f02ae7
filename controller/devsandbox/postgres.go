package devsandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jitops/jit/controller/internal/pgbin"
)

// ErrNoPostgres reports that the PostgreSQL server binaries are not
// installed, so the sandbox runs without a cluster.
var ErrNoPostgres = errors.New("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")

// Superuser is the cluster's superuser. Like every other role it logs in
// with its password only (scram-sha-256, over TCP and over the socket
// alike): a password StartPostgres draws at random, which the caller gets
// from Env and Password. Without it no local user of the machine becomes
// superuser (who could then run commands as the server's OS user with COPY
// FROM PROGRAM), and an expired or dropped grant's role really is refused.
const Superuser = "postgres"

// Postgres is a running throwaway cluster listening on 127.0.0.1.
type Postgres struct {
	Host string
	Port int

	dir, bin, runAs string
	password        string // the superuser's
}

// pgTimeout bounds each server command and psql run.
const pgTimeout = time.Minute

// StartPostgres creates a cluster in dir (which must not exist), starts it
// on a free port and creates Database with its group roles. The superuser
// gets a random password (see Superuser). It returns an error wrapping
// ErrNoPostgres when the server binaries are missing. On error it removes
// dir only if it created it. When the process runs as root the server runs
// as the OS user postgres (PostgreSQL refuses root).
func StartPostgres(ctx context.Context, dir string) (*Postgres, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	pw := make([]byte, 24)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	pg := &Postgres{Host: "127.0.0.1", dir: dir, bin: bin, password: hex.EncodeToString(pw)}
	if os.Geteuid() == 0 {
		pg.runAs = "postgres"
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("creating the cluster directory's parent: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		// Not ours (it existed, say): left as it is.
		return nil, fmt.Errorf("creating the cluster directory: %w; give a directory that does not exist yet", err)
	}
	// From here on dir is ours: Stop stops whatever started and removes it.
	if err := pg.create(ctx); err != nil {
		return nil, errors.Join(err, pg.Stop())
	}
	if err := pg.createDatabase(ctx); err != nil {
		return nil, errors.Join(err, pg.Stop())
	}
	return pg, nil
}

// pgBinDir finds initdb and pg_ctl (pgbin.Dir); the error wraps
// ErrNoPostgres when they are missing.
func pgBinDir() (string, error) {
	d, err := pgbin.Dir()
	if err != nil {
		return "", fmt.Errorf("%w (%w); a sandbox without a database runs without a target", ErrNoPostgres, err)
	}
	return d, nil
}

// Addr is HOST:PORT of the cluster.
func (pg *Postgres) Addr() string { return net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port)) }

func (pg *Postgres) data() string { return filepath.Join(pg.dir, "data") }

// create initialises the cluster in pg.dir, which StartPostgres made, and
// starts it.
func (pg *Postgres) create(ctx context.Context) error {
	uid, gid := -1, -1
	if pg.runAs != "" {
		u, err := user.Lookup(pg.runAs)
		if err != nil {
			return fmt.Errorf("looking up the OS user %s to run PostgreSQL as (it refuses root): %w", pg.runAs, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		// The server's user must pass through the parent to reach the
		// directory; it need not list it.
		if err := os.Chmod(filepath.Dir(pg.dir), 0o711); err != nil {
			return err
		}
		if err := os.Chown(pg.dir, uid, gid); err != nil {
			return fmt.Errorf("handing %s to the OS user %s: %w", pg.dir, pg.runAs, err)
		}
	}
	// initdb reads the superuser's password from a file (never from its
	// command line, which every local user may read), private to the
	// server's user and gone once initdb has read it.
	pwFile := filepath.Join(pg.dir, "superuser-password")
	if err := writePrivate(pwFile, pg.password+"\n", uid, gid); err != nil {
		return fmt.Errorf("writing the superuser's password for initdb: %w", err)
	}
	out, err := pg.server(ctx, "initdb", "-D", pg.data(), "-U", Superuser, "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions",
		"--auth=scram-sha-256", "--pwfile="+pwFile)
	if err := errors.Join(err, os.Remove(pwFile)); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, out)
	}
	if strings.ContainsAny(pg.dir, "'\\") {
		return fmt.Errorf("the cluster directory %q holds a quote or backslash; set TMPDIR to a plain path", pg.dir)
	}
	// Passwords only, the superuser's too; the socket's directory is
	// private to the server's user anyway.
	hba := "local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n"
	if err := pg.writeServerFile(ctx, "pg_hba.conf", hba); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		pg.Port = port
		conf := "listen_addresses = '127.0.0.1'\nport = " + strconv.Itoa(port) + "\nunix_socket_directories = '" + pg.dir +
			"'\npassword_encryption = 'scram-sha-256'\nfsync = off\nshared_buffers = '16MB'\n"
		if err := pg.writeServerFile(ctx, "postgresql.auto.conf", conf); err != nil {
			return err
		}
		out, err := pg.server(ctx, "pg_ctl", "-D", pg.data(), "-l", filepath.Join(pg.dir, "postgres.log"), "-w", "-t", "30", "start")
		if err == nil {
			return nil
		}
		if attempt == 3 || !strings.Contains(pg.log(), "already in use") {
			return fmt.Errorf("starting PostgreSQL: %w: %s\n%s", err, out, pg.log())
		}
	}
}

// writePrivate creates file (which must not exist) with mode 0600 holding
// content, owned by uid:gid unless they are -1.
func writePrivate(file, content string, uid, gid int) error {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if err == nil && uid >= 0 {
		err = f.Chown(uid, gid)
	}
	return errors.Join(err, f.Close())
}

// writeServerFile writes a file of the data directory as the server's OS
// user (sh's printf gets the content and the path as arguments, never as
// part of its script).
func (pg *Postgres) writeServerFile(ctx context.Context, name, content string) error {
	if out, err := pg.server(ctx, "sh", "-c", `printf '%s' "$1" > "$2"`, "sh", content, filepath.Join(pg.data(), name)); err != nil {
		return fmt.Errorf("writing %s: %w: %s", name, err, out)
	}
	return nil
}

func (pg *Postgres) log() string {
	b, _ := os.ReadFile(filepath.Join(pg.dir, "postgres.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// server runs a server binary (or sh, for writing its files) as the
// server's OS user in the cluster directory, without the caller's PG*
// variables.
func (pg *Postgres) server(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, pgTimeout)
	defer cancel()
	path := name
	if name != "sh" {
		path = filepath.Join(pg.bin, name)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	if pg.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", pg.runAs, "--", path}, args...)...)
	}
	cmd.Dir, cmd.Env, cmd.WaitDelay = pg.dir, noPG(os.Environ()), 5*time.Second
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// noPG is env without PG* variables, so that nobody's settings redirect
// the sandbox to another server.
func noPG(env []string) []string {
	return slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "PG") })
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// createSQL makes Database and the group roles templates/postgres-role
// joins: orders_read (connect, select) and orders_write (also insert,
// update, delete), and a table to read. As templates/postgres-role's
// README asks, PUBLIC may connect to no other database (the template
// refuses to make a role that could).
const createSQL = `REVOKE CONNECT ON DATABASE postgres, template1 FROM PUBLIC;
CREATE DATABASE :"db";
CREATE ROLE :"read" NOLOGIN;
CREATE ROLE :"write" NOLOGIN;
REVOKE CONNECT, TEMPORARY ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"read", :"write";
\connect :"db"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"read", :"write";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO :"read";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"write";
CREATE TABLE public.orders (id int PRIMARY KEY, item text NOT NULL);
INSERT INTO public.orders VALUES (1, 'a sandbox order');
`

func (pg *Postgres) createDatabase(ctx context.Context) error {
	_, err := pg.Psql(ctx, Superuser, pg.password, "postgres", createSQL,
		"db="+Database, "read="+Database+"_read", "write="+Database+"_write")
	if err != nil {
		return fmt.Errorf("creating the %s database: %w", Database, err)
	}
	return nil
}

// Psql runs script with psql (ON_ERROR_STOP, unaligned tuples only) on
// database db as user over TCP, with password when not empty. Each of vars
// ("name=value") becomes a psql variable, so values reach SQL only as
// :'name' or :"name". It returns psql's output, or an error carrying its
// message (for example "password authentication failed for user …").
func (pg *Postgres) Psql(ctx context.Context, user, password, db, script string, vars ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, pgTimeout)
	defer cancel()
	args := []string{"-X", "-q", "-w", "-At", "-v", "ON_ERROR_STOP=1", "-f", "-"}
	for _, v := range vars {
		args = append(args, "-v", v)
	}
	cmd := exec.CommandContext(ctx, pgbin.Psql(pg.bin), args...)
	cmd.Env = append(noPG(os.Environ()), "PGHOST="+pg.Host, "PGPORT="+strconv.Itoa(pg.Port), "PGUSER="+user,
		"PGDATABASE="+db, "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=10")
	if password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	}
	cmd.Stdin = strings.NewReader(script)
	cmd.WaitDelay = 5 * time.Second
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("psql as %s on %s: %w: %s", user, db, err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// Env is the connection to the cluster as the superuser, its password
// included, as PG* variables: what templates/postgres-role's provisioners
// connect with.
func (pg *Postgres) Env() map[string]string {
	return map[string]string{"PGHOST": pg.Host, "PGPORT": strconv.Itoa(pg.Port), "PGUSER": Superuser, "PGPASSWORD": pg.password, "PGSSLMODE": "disable"}
}

// Password is the superuser's password.
func (pg *Postgres) Password() string { return pg.password }

// PGPass is a pgpass file's line (see libpq's documentation of PGPASSFILE)
// giving the superuser's password for every database of the cluster.
func (pg *Postgres) PGPass() string {
	return pg.Host + ":" + strconv.Itoa(pg.Port) + ":*:" + Superuser + ":" + pg.password + "\n"
}

// Stop stops the cluster at once and removes its directory.
func (pg *Postgres) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
	defer cancel()
	var err error
	if _, statErr := os.Stat(filepath.Join(pg.data(), "postmaster.pid")); statErr == nil {
		if out, stopErr := pg.server(ctx, "pg_ctl", "-D", pg.data(), "-m", "immediate", "-w", "-t", "30", "stop"); stopErr != nil {
			err = fmt.Errorf("stopping PostgreSQL: %w: %s", stopErr, out)
		}
	}
	return errors.Join(err, os.RemoveAll(pg.dir))
}
