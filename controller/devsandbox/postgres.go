package devsandbox

import (
	"context"
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
)

// ErrNoPostgres reports that the PostgreSQL server binaries are not
// installed, so the sandbox runs without a cluster.
var ErrNoPostgres = errors.New("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")

// Superuser is the cluster's superuser. It may log in over TCP from
// 127.0.0.1 without a password; every other role needs its password
// (scram-sha-256), so an expired or dropped role really is refused.
const Superuser = "postgres"

// Postgres is a running throwaway cluster listening on 127.0.0.1.
type Postgres struct {
	Host string
	Port int

	dir, bin, runAs string
}

// pgTimeout bounds each server command and psql run.
const pgTimeout = time.Minute

// StartPostgres creates a cluster in dir (which must not exist), starts it
// on a free port and creates Database with its group roles. It returns an
// error wrapping ErrNoPostgres when the server binaries are missing. When
// the process runs as root the server runs as the OS user postgres
// (PostgreSQL refuses root).
func StartPostgres(ctx context.Context, dir string) (*Postgres, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	pg := &Postgres{Host: "127.0.0.1", dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		pg.runAs = "postgres"
	}
	if err := pg.create(ctx); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	if err := pg.createDatabase(ctx); err != nil {
		return nil, errors.Join(err, pg.Stop())
	}
	return pg, nil
}

// pgBinDir finds initdb and pg_ctl: the newest /usr/lib/postgresql/N/bin
// (Debian's layout), else initdb on PATH.
func pgBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestVer := "", -1
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err == nil && v > bestVer && executable(filepath.Join(d, "initdb")) {
			best, bestVer = d, v
		}
	}
	if best != "" {
		return best, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("%w (no /usr/lib/postgresql/*/bin/initdb, no initdb on PATH); install the postgresql package for a sandbox with a database", ErrNoPostgres)
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Addr is HOST:PORT of the cluster.
func (pg *Postgres) Addr() string { return net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port)) }

func (pg *Postgres) data() string { return filepath.Join(pg.dir, "data") }

func (pg *Postgres) create(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Dir(pg.dir), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(pg.dir, 0o700); err != nil {
		return fmt.Errorf("creating the cluster directory: %w", err)
	}
	if pg.runAs != "" {
		u, err := user.Lookup(pg.runAs)
		if err != nil {
			return fmt.Errorf("looking up the OS user %s to run PostgreSQL as (it refuses root): %w", pg.runAs, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		// The server's user must reach the directory through its parents.
		if err := os.Chmod(filepath.Dir(pg.dir), 0o755); err != nil {
			return err
		}
		if err := os.Chown(pg.dir, uid, gid); err != nil {
			return fmt.Errorf("handing %s to the OS user %s: %w", pg.dir, pg.runAs, err)
		}
	}
	if out, err := pg.server(ctx, "initdb", "-D", pg.data(), "-U", Superuser, "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions", "--auth=trust"); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, out)
	}
	if strings.ContainsAny(pg.dir, "'\\") {
		return fmt.Errorf("the cluster directory %q holds a quote or backslash; set TMPDIR to a plain path", pg.dir)
	}
	hba := "local all all trust\nhost all " + Superuser + " 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
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
	_, err := pg.Psql(ctx, Superuser, "", "postgres", createSQL,
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
	psql := filepath.Join(pg.bin, "psql")
	if !executable(psql) {
		psql = "psql"
	}
	cmd := exec.CommandContext(ctx, psql, args...)
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

// Env is the connection to the cluster as the superuser, as PG*
// variables: what templates/postgres-role's provisioners connect with.
func (pg *Postgres) Env() map[string]string {
	return map[string]string{"PGHOST": pg.Host, "PGPORT": strconv.Itoa(pg.Port), "PGUSER": Superuser, "PGSSLMODE": "disable"}
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
