package pgtest_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/jitops/jit/controller/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestSharedClusterServesSQL(t *testing.T) {
	c := pgtest.Shared(t)
	if got := c.Psql(t, "postgres", "SELECT current_user, inet_server_port();"); got != "postgres|"+itoa(c.Port) {
		t.Errorf("current_user|port = %q, want postgres|%d", got, c.Port)
	}
	if got := c.Psql(t, "postgres", "SHOW password_encryption;"); got != "scram-sha-256" {
		t.Errorf("password_encryption = %q", got)
	}
	if again := pgtest.Shared(t); again != c {
		t.Error("Shared returned a different cluster on the second call")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestPasswordLoginIsReallyChecked(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "logins")
	c.Psql(t, "postgres", `CREATE ROLE logins_alice LOGIN PASSWORD 'right horse' IN ROLE logins_read;`)

	if err := c.TryLogin("logins", "logins_alice", "right horse"); err != nil {
		t.Errorf("login with the right password: %v", err)
	}
	err := c.TryLogin("logins", "logins_alice", "wrong horse")
	if err == nil || !strings.Contains(err.Error(), `password authentication failed for user "logins_alice"`) {
		t.Errorf("login with a wrong password: err = %v, want password authentication failed", err)
	}
	// The superuser's trust line must not make other roles' passwords moot.
	err = c.TryLogin("logins", "nobody", "x")
	if err == nil || !strings.Contains(err.Error(), `password authentication failed for user "nobody"`) {
		t.Errorf("login as a missing role: err = %v", err)
	}
}

func TestGroupRolesGateTheDatabase(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "groups")
	c.Psql(t, "postgres", `
CREATE ROLE groups_reader LOGIN PASSWORD 'r' IN ROLE groups_read;
CREATE ROLE groups_writer LOGIN PASSWORD 'w' IN ROLE groups_write;
CREATE ROLE groups_outsider LOGIN PASSWORD 'o';`)

	err := c.TryLogin("groups", "groups_outsider", "o")
	if err == nil || !strings.Contains(err.Error(), "permission denied for database") {
		t.Errorf("outsider login: err = %v, want permission denied for database", err)
	}

	reader := c.OpenSession(t, "groups", "groups_reader", "r")
	if got, err := reader.Query("SELECT note FROM items WHERE id = 1;"); err != nil || got != "first" {
		t.Errorf("reader SELECT = %q, %v", got, err)
	}
	if _, err := reader.Query("INSERT INTO items VALUES (2, 'no');"); err == nil || !strings.Contains(err.Error(), "permission denied for table items") {
		t.Errorf("reader INSERT: err = %v, want permission denied", err)
	}

	writer := c.OpenSession(t, "groups", "groups_writer", "w")
	if _, err := writer.Query("INSERT INTO items VALUES (2, 'yes');"); err != nil {
		t.Errorf("writer INSERT: %v", err)
	}
	if got := c.Psql(t, "groups", "SELECT count(*) FROM items;"); got != "2" {
		t.Errorf("rows after the writer's INSERT = %s, want 2", got)
	}
}

func TestSessionSeesTermination(t *testing.T) {
	c := pgtest.Shared(t)
	c.CreateDatabase(t, "sessions")
	c.Psql(t, "postgres", `CREATE ROLE sessions_bob LOGIN PASSWORD 'b' IN ROLE sessions_read;`)
	s := c.OpenSession(t, "sessions", "sessions_bob", "b")
	if got := c.Psql(t, "postgres", `SELECT count(*) FROM pg_stat_activity WHERE usename = 'sessions_bob';`); got != "1" {
		t.Fatalf("sessions of sessions_bob = %s, want 1", got)
	}
	c.Psql(t, "postgres", `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = 'sessions_bob';`)
	_, err := s.Query("SELECT 1;")
	if err == nil || !strings.Contains(err.Error(), "terminating connection due to administrator command") {
		t.Errorf("query after termination: err = %v, want the termination message", err)
	}
	if _, err2 := s.Query("SELECT 1;"); err2 == nil {
		t.Error("a second query on an ended session succeeded")
	}
}

func TestStopAndRestart(t *testing.T) {
	c := pgtest.Start(t)
	if c == pgtest.Shared(t) {
		t.Fatal("Start returned the shared cluster")
	}
	c.Psql(t, "postgres", `CREATE ROLE survivor LOGIN PASSWORD 's';`)
	c.Stop(t)
	err := c.TryLogin("postgres", "survivor", "s")
	if err == nil || !strings.Contains(err.Error(), "Connection refused") {
		t.Errorf("login while stopped: err = %v, want connection refused", err)
	}
	c.Stop(t) // stopping twice is allowed
	c.Restart(t)
	if err := c.TryLogin("postgres", "survivor", "s"); err != nil {
		t.Errorf("login after restart: %v", err)
	}
}

func TestCloseRemovesTheDirectory(t *testing.T) {
	var dir string
	t.Run("cluster", func(t *testing.T) {
		c := pgtest.Start(t)
		dir = c.Dir
		if _, err := os.Stat(c.LogFile()); err != nil {
			t.Fatalf("server log: %v", err)
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cluster directory %s after the test: %v, want it removed", dir, err)
	}
}

func TestEnvAndConnString(t *testing.T) {
	c := pgtest.Shared(t)
	want := "postgres://postgres@127.0.0.1:" + itoa(c.Port) + "/state?sslmode=disable"
	if got := c.ConnString("state"); got != want {
		t.Errorf("ConnString = %q, want %q", got, want)
	}
	env := strings.Join(c.Env(), "\n")
	for _, kv := range []string{"PGHOST=127.0.0.1", "PGPORT=" + itoa(c.Port), "PGUSER=postgres", "PGDATABASE=postgres"} {
		if !strings.Contains(env+"\n", kv+"\n") {
			t.Errorf("Env() lacks %s; has\n%s", kv, env)
		}
	}
}

func TestCreateDatabaseRejectsBadNames(t *testing.T) {
	for _, name := range []string{"Orders", "a-b", `x"; DROP`, strings.Repeat("a", 59), ""} {
		ft := &fatalRecorder{TB: t}
		func() {
			defer func() { _ = recover() }()
			pgtest.Shared(t).CreateDatabase(ft, name)
		}()
		if !strings.Contains(ft.msg, "is not a lower-case identifier of at most 58 bytes") {
			t.Errorf("CreateDatabase(%q): fatal message %q", name, ft.msg)
		}
	}
}

// fatalRecorder captures a Fatalf and stops the helper with a panic instead of
// ending the real test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic("fatal")
}

func (f *fatalRecorder) Helper() {}

// BenchmarkStart measures creating, starting, stopping and removing a cluster.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		c := pgtest.Start(b)
		if err := c.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStaleClustersAreReaped leaves a cluster behind as a killed test process
// would (its owner PID dead, its server running) and checks that the next
// process's first Start stops and removes it.
func TestStaleClustersAreReaped(t *testing.T) {
	if os.Getenv("PGTEST_REAP_CHILD") == "1" {
		c, err := pgtest.StartDetached()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("DIR=%s PORT=%d\n", c.Dir, c.Port)
		os.Exit(0) // no cleanup, like a process killed by a timeout
	}
	if _, err := pgtest.FindBinDir(); err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStaleClustersAreReaped$")
	cmd.Env = append(os.Environ(), "PGTEST_REAP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child test process: %v\n%s", err, out)
	}
	var dir, port string
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "DIR=") {
			fmt.Sscanf(line, "DIR=%s PORT=%s", &dir, &port)
		}
	}
	if dir == "" || port == "" {
		t.Fatalf("child printed no cluster directory and port:\n%s", out)
	}
	if conn, err := net.Dial("tcp", "127.0.0.1:"+port); err != nil {
		t.Fatalf("the left-behind cluster on port %s is not running: %v", port, err)
	} else {
		conn.Close()
	}
	pgtest.ReapStale()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("left-behind cluster %s still there after reaping: %v", dir, err)
	}
	if conn, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
		conn.Close()
		t.Errorf("the left-behind server on port %s still accepts connections after reaping", port)
	}
}
