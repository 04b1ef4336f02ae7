package devsandbox

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// clusterDir is a path for a cluster directory that does not exist yet,
// in a fresh directory right under the system's temporary directory (when
// the test runs as root the server's OS user must reach it, which
// t.TempDir's private parent would not let it).
func clusterDir(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping: -short skips tests that start PostgreSQL")
	}
	parent, err := os.MkdirTemp("", "jit-devsandbox-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	return filepath.Join(parent, "postgres")
}

// noPostgres skips t when err says the server binaries are missing, unless
// CI=true, where it fails t: CI must exercise the real server.
func noPostgres(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrNoPostgres) {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v (CI=true, so a missing server is an error)", err)
	}
	t.Skip(err)
}

// startPostgres starts a cluster for t and stops it when t ends.
func startPostgres(t *testing.T) *Postgres {
	t.Helper()
	pg, err := StartPostgres(context.Background(), clusterDir(t))
	noPostgres(t, err)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pg.Stop(); err != nil {
			t.Error(err)
		}
	})
	return pg
}

// psqlOverSocket runs SELECT current_user as Superuser over the cluster's
// unix socket, with password when not empty.
func psqlOverSocket(pg *Postgres, password string) (string, error) {
	cmd := exec.Command(filepath.Join(pg.bin, "psql"), "-X", "-w", "-At", "-c", "SELECT current_user")
	cmd.Env = append(noPG(os.Environ()), "PGHOST="+pg.dir, "PGPORT="+strconv.Itoa(pg.Port), "PGUSER="+Superuser, "PGDATABASE=postgres")
	if password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestDevPostgresSuperuserNeedsPassword: no local user becomes the
// sandbox cluster's superuser without its random password, over TCP or
// over the socket; with it (as Env hands it to the provisioners) the
// superuser connects. initdb's password file is gone.
func TestDevPostgresSuperuserNeedsPassword(t *testing.T) {
	pg := startPostgres(t)
	ctx := context.Background()
	if len(pg.Password()) < 32 {
		t.Fatalf("the superuser's password %q is too short to be random", pg.Password())
	}
	for name, tc := range map[string]struct {
		password string
		want     string // in the refusal
	}{
		"no password":    {"", "no password supplied"},
		"wrong password": {"postgres", `password authentication failed for user "postgres"`},
	} {
		t.Run(name, func(t *testing.T) {
			if out, err := pg.Psql(ctx, Superuser, tc.password, "postgres", "SELECT 1"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("over TCP: %q, %v; want refused with %q", out, err, tc.want)
			}
			if out, err := psqlOverSocket(pg, tc.password); err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("over the socket: %q, %v; want refused with %q", out, err, tc.want)
			}
		})
	}
	if out, err := pg.Psql(ctx, Superuser, pg.Password(), Database, "SELECT current_user, count(*) FROM public.orders GROUP BY 1"); err != nil || out != Superuser+"|1" {
		t.Errorf("over TCP with the password: %q, %v", out, err)
	}
	if out, err := psqlOverSocket(pg, pg.Password()); err != nil || out != Superuser {
		t.Errorf("over the socket with the password: %q, %v", out, err)
	}
	want := map[string]string{"PGHOST": "127.0.0.1", "PGPORT": strconv.Itoa(pg.Port), "PGUSER": Superuser, "PGPASSWORD": pg.Password(), "PGSSLMODE": "disable"}
	if diff := cmp.Diff(want, pg.Env()); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
	if got, want := pg.PGPass(), "127.0.0.1:"+strconv.Itoa(pg.Port)+":*:postgres:"+pg.Password()+"\n"; got != want {
		t.Errorf("PGPass = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(pg.dir, "superuser-password")); !os.IsNotExist(err) {
		t.Errorf("initdb's password file is left in the cluster directory (%v)", err)
	}
}

// TestDevStartPostgresExistingDir: StartPostgres refuses a directory that
// exists, saying so, and leaves it and what it holds alone.
func TestDevStartPostgresExistingDir(t *testing.T) {
	dir := clusterDir(t)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	precious := filepath.Join(dir, "precious")
	if err := os.WriteFile(precious, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	pg, err := StartPostgres(context.Background(), dir)
	noPostgres(t, err)
	if err == nil {
		pg.Stop()
		t.Fatal("StartPostgres took a directory that exists")
	}
	want := "creating the cluster directory: mkdir " + dir + ": file exists; give a directory that does not exist yet"
	if err.Error() != want {
		t.Errorf("StartPostgres: %v\nwant %s", err, want)
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "keep me" {
		t.Errorf("the existing directory's file: %q, %v; want it untouched", b, err)
	}
}

// TestDevCheckLoopback: only loopback IP addresses pass; every interface,
// other addresses and host names (localhost too) are refused, quoting the
// address.
func TestDevCheckLoopback(t *testing.T) {
	for name, tc := range map[string]struct {
		addr, err string
	}{
		"IPv4 loopback":        {"127.0.0.1:0", ""},
		"IPv4 loopback net":    {"127.1.2.3:8080", ""},
		"IPv6 loopback":        {"[::1]:8080", ""},
		"IPv4-mapped loopback": {"[::ffff:127.0.0.1]:8080", ""},
		"every interface":      {":8080", `":8080" is not a loopback address (127.0.0.1 or ::1)`},
		"IPv4 any":             {"0.0.0.0:8080", `"0.0.0.0:8080" is not a loopback address (127.0.0.1 or ::1)`},
		"IPv6 any":             {"[::]:8080", `"[::]:8080" is not a loopback address (127.0.0.1 or ::1)`},
		"LAN":                  {"192.168.1.5:8080", `"192.168.1.5:8080" is not a loopback address (127.0.0.1 or ::1)`},
		"localhost":            {"localhost:8080", `"localhost:8080" is not a loopback address (127.0.0.1 or ::1)`},
		"zoned":                {"[::1%lo]:8080", `"[::1%lo]:8080" is not a loopback address (127.0.0.1 or ::1)`},
		"no port":              {"127.0.0.1", `"127.0.0.1" is not HOST:PORT (address 127.0.0.1: missing port in address)`},
	} {
		t.Run(name, func(t *testing.T) {
			err := CheckLoopback(tc.addr)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || err.Error() != tc.err) {
				t.Errorf("CheckLoopback(%q) = %v, want %q", tc.addr, err, tc.err)
			}
		})
	}
}

// TestDevStartRefusesNonLoopback: Start itself refuses an emulator address
// beyond this machine before creating anything.
func TestDevStartRefusesNonLoopback(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	sb, err := Start(context.Background(), Config{DataDir: dir, Addr: ":0"})
	if err == nil {
		sb.Close()
		t.Fatal("Start listened on every interface")
	}
	want := `devsandbox: the emulator's address ":0" is not a loopback address (127.0.0.1 or ::1); the sandbox's tokens and keys are in the clear, so it listens on this machine only`
	if err.Error() != want {
		t.Errorf("Start: %v\nwant %s", err, want)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Start created the data directory before refusing (%v)", err)
	}
}
