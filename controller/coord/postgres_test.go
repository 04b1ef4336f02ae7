package coord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitops/jit/controller/internal/pgtest"
)

var dbSeq atomic.Int64

// pgDB is a fresh database on the shared cluster: advisory locks are per
// database, so tests in their own databases never see each other's locks.
type pgDB struct {
	cluster *pgtest.Cluster
	name    string
	conn    string
}

func newDB(t *testing.T) pgDB {
	t.Helper()
	c := pgtest.Shared(t)
	name := fmt.Sprintf("coord_%d", dbSeq.Add(1))
	c.Psql(t, "postgres", `CREATE DATABASE :"db"`, "db="+name)
	return pgDB{cluster: c, name: name, conn: c.ConnString(name)}
}

// open opens a Coordinator on the database with schema, checking leases
// every 50 ms, logging into log (which may be nil), closed when t ends.
func (d pgDB) open(t *testing.T, schema string, log *slog.Logger) Coordinator {
	t.Helper()
	c, err := OpenPostgres(context.Background(), d.conn, schema, log)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	c.(*postgres).every = 50 * time.Millisecond
	t.Cleanup(func() { c.Close() })
	return c
}

// holder returns the backend pid holding advisory key k in the database, or
// "" when none does.
func (d pgDB) holder(t *testing.T, k int64) string {
	t.Helper()
	return d.cluster.Psql(t, "postgres", `SELECT pid FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 1
  AND database = (SELECT oid FROM pg_database WHERE datname = :'db')
  AND classid::int8 = :hi AND objid::int8 = :lo`,
		"db="+d.name, "hi="+strconv.FormatInt(int64(uint64(k)>>32), 10), "lo="+strconv.FormatInt(int64(uint64(k)&0xffffffff), 10))
}

// terminate ends backend pid as an operator (or a failover) would.
func (d pgDB) terminate(t *testing.T, pid string) {
	t.Helper()
	if pid == "" {
		t.Fatal("no backend to terminate")
	}
	if got := d.cluster.Psql(t, "postgres", `SELECT pg_terminate_backend(:pid)`, "pid="+pid); got != "t" {
		t.Fatalf("pg_terminate_backend(%s) = %s", pid, got)
	}
}

// waiters counts the database's backends waiting for an advisory lock.
func (d pgDB) waiters(t *testing.T) int {
	t.Helper()
	n, err := strconv.Atoi(d.cluster.Psql(t, "postgres", `SELECT count(*) FROM pg_stat_activity
WHERE datname = :'db' AND wait_event_type = 'Lock' AND wait_event = 'advisory'`, "db="+d.name))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually polls cond every 20 ms for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	soon(t, 10*time.Second, what, cond)
}

// soon polls cond every 20 ms for up to limit.
func soon(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after %v", what, limit)
		}
	}
}

// logBuffer collects a Coordinator's log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestPostgresTwoCoordinatorsExclude(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	a, b := d.open(t, DefaultSchema, nil), d.open(t, DefaultSchema, nil)
	testLockExclusion(t, a, b)
	if n := d.waiters(t); n != 0 {
		t.Errorf("%d backends still wait for an advisory lock after every wait ended", n)
	}
}

func TestPostgresOneCoordinatorExcludesItself(t *testing.T) {
	t.Parallel()
	c := newDB(t).open(t, DefaultSchema, nil)
	testLockExclusion(t, c, c)
}

func TestPostgresSchemasDoNotCollide(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	prod, staging := d.open(t, "jit_prod", nil), d.open(t, "jit_staging", nil)
	defer mustLock(t, prod, "grant-1")()
	mustLock(t, staging, "grant-1")() // would block if the keys collided
	if _, ok, err := prod.TryLead(context.Background(), "expiry-timer"); !ok || err != nil {
		t.Fatalf("prod TryLead: ok=%v err=%v", ok, err)
	}
	if _, ok, err := staging.TryLead(context.Background(), "expiry-timer"); !ok || err != nil {
		t.Fatalf("staging TryLead while prod leads: ok=%v err=%v", ok, err)
	}
}

// A wait cancelled by its context leaves no backend queued for the lock (the
// server was asked to cancel it), and the key works afterwards.
func TestPostgresCancelledWaitLeavesNoWaiter(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	a, b := d.open(t, DefaultSchema, nil), d.open(t, DefaultSchema, nil)
	unlock := mustLock(t, a, "grant-1")
	ctx, cancel := context.WithCancel(context.Background())
	waiting := lockAsync(ctx, b, "grant-1")
	eventually(t, "b waits on the server", func() bool { return d.waiters(t) == 1 })
	cancel()
	select {
	case r := <-waiting:
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("cancelled wait: %v, want context.Canceled", r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled Lock did not return within 10 s")
	}
	// Quicker than client_connection_check_interval (5 s) would notice a
	// cut socket: the server was asked to cancel the wait.
	soon(t, 2*time.Second, "no backend waits after the cancel", func() bool { return d.waiters(t) == 0 })
	unlock()
	mustLock(t, b, "grant-1")()
}

// Terminating the holder's backend frees its lock for the waiter at once;
// the holder's unlock then says the lock had been lost.
func TestPostgresTerminatedHolderFreesLock(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	var log logBuffer
	a, b := d.open(t, DefaultSchema, log.logger()), d.open(t, DefaultSchema, nil)
	unlockA := mustLock(t, a, "grant-1")
	waiting := lockAsync(context.Background(), b, "grant-1")
	expectWaiting(t, waiting, "b.Lock(grant-1)")
	d.terminate(t, d.holder(t, lockKey(DefaultSchema, "grant-1")))
	unlockB := expectAcquired(t, waiting, "b.Lock(grant-1) after the holder's backend was terminated")
	defer unlockB()

	unlockA()
	got := log.String()
	for _, want := range []string{"level=WARN", "a lock was lost while held", "lock=grant-1", "schema=" + DefaultSchema} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	// a's broken connection was discarded, not pooled: a still works.
	unlockB()
	mustLock(t, a, "grant-1")()
}

// A pooled connection that went stale (its backend ended while idle) is
// replaced, not reported.
func TestPostgresStaleIdleConnectionReplaced(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	a := d.open(t, DefaultSchema, nil)
	unlock := mustLock(t, a, "grant-1")
	pid := d.holder(t, lockKey(DefaultSchema, "grant-1"))
	unlock() // the connection goes back to the pool
	d.terminate(t, pid)
	mustLock(t, a, "grant-1")()
}

func TestPostgresTryLeadExclusive(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	a, b := d.open(t, DefaultSchema, nil), d.open(t, DefaultSchema, nil)
	ctx := context.Background()
	la, ok, err := a.TryLead(ctx, "expiry-timer")
	if err != nil || !ok {
		t.Fatalf("a.TryLead: ok=%v err=%v", ok, err)
	}
	for name, c := range map[string]Coordinator{"a again": a, "b": b} {
		if l, ok, err := c.TryLead(ctx, "expiry-timer"); err != nil || ok || l != nil {
			t.Errorf("%s TryLead while a leads: lease %v ok=%v err=%v, want nil, false, nil", name, l, ok, err)
		}
	}
	// A grant named like the lease is not the lease.
	mustLock(t, b, "expiry-timer")()

	time.Sleep(200 * time.Millisecond) // a few checks pass without losing it
	select {
	case <-la.Lost():
		t.Fatal("a's lease was lost while its session was fine")
	default:
	}
	la.Release()
	assertClosed(t, la.Lost(), "Lost after Release")
	la.Release()
	lb, ok, err := b.TryLead(ctx, "expiry-timer")
	if err != nil || !ok {
		t.Fatalf("b.TryLead after a released: ok=%v err=%v", ok, err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	assertClosed(t, lb.Lost(), "Lost after Close")
	if _, ok, err := a.TryLead(ctx, "expiry-timer"); err != nil || !ok {
		t.Fatalf("a.TryLead after b closed: ok=%v err=%v", ok, err)
	}
	if _, _, err := b.TryLead(ctx, "expiry-timer"); !errors.Is(err, ErrClosed) {
		t.Errorf("TryLead after Close: %v, want ErrClosed", err)
	}
}

// Terminating the leader's backend closes its Lost and lets another lead.
func TestPostgresTryLeadFailoverOnTerminate(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	var log logBuffer
	a, b := d.open(t, DefaultSchema, log.logger()), d.open(t, DefaultSchema, nil)
	ctx := context.Background()
	la, ok, err := a.TryLead(ctx, "expiry-timer")
	if err != nil || !ok {
		t.Fatalf("a.TryLead: ok=%v err=%v", ok, err)
	}
	d.terminate(t, d.holder(t, leaseKey(DefaultSchema, "expiry-timer")))
	assertClosed(t, la.Lost(), "the terminated leader's Lost")
	if got := log.String(); !strings.Contains(got, "the lease was lost") || !strings.Contains(got, "lease=expiry-timer") {
		t.Errorf("log does not say the lease was lost:\n%s", got)
	}
	eventually(t, "b leads", func() bool {
		_, ok, err := b.TryLead(ctx, "expiry-timer")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
	la.Release() // after loss: does nothing harmful
	if _, ok, _ := a.TryLead(ctx, "expiry-timer"); ok {
		t.Error("a leads again while b holds the lease")
	}
}

// A session that holds no longer the lease's lock (a pooler that swapped
// sessions, say) loses the lease even though its connection works.
func TestPostgresLeaseLostWhenSessionDropsLock(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	c := d.open(t, DefaultSchema, nil)
	l, ok, err := c.TryLead(context.Background(), "expiry-timer")
	if err != nil || !ok {
		t.Fatalf("TryLead: ok=%v err=%v", ok, err)
	}
	p := c.(*postgres)
	p.mu.Lock()
	h := p.leases[l.(*lease)]
	p.mu.Unlock()
	h.mu.Lock()
	_, err = h.conn.Exec(context.Background(), "SELECT pg_advisory_unlock_all()")
	h.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	assertClosed(t, l.Lost(), "Lost once the session dropped the lock")
}

// A leader process killed outright frees the lease for the next TryLead.
func TestPostgresTryLeadFailoverOnKill(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	ch := startChild(t, "lead", "JIT_COORD_TEST_CONN="+d.conn, "JIT_COORD_TEST_SCHEMA="+DefaultSchema)
	if ch.line != "leading" {
		t.Fatalf("child: %s", ch.line)
	}
	b := d.open(t, DefaultSchema, nil)
	ctx := context.Background()
	if _, ok, err := b.TryLead(ctx, "expiry-timer"); err != nil || ok {
		t.Fatalf("TryLead while the child leads: ok=%v err=%v", ok, err)
	}
	ch.kill(t)
	eventually(t, "the lease is free after the leader was killed", func() bool {
		_, ok, err := b.TryLead(ctx, "expiry-timer")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
}

func TestPostgresCloseEndsWaits(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	c, err := OpenPostgres(context.Background(), d.conn, DefaultSchema, nil)
	if err != nil {
		t.Fatal(err)
	}
	testCloseEndsWaits(t, c)
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if n := d.waiters(t); n != 0 {
		t.Errorf("%d backends still wait after Close", n)
	}
}

// The held lock's holder keeps it across Close (its work is still running);
// its unlock then releases it on the server.
func TestPostgresCloseKeepsHeldLock(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	a, b := d.open(t, DefaultSchema, nil), d.open(t, DefaultSchema, nil)
	unlock := mustLock(t, a, "grant-1")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), blocked)
	defer cancel()
	if _, err := b.Lock(ctx, "grant-1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b.Lock while a (closed) still holds grant-1: %v, want a timeout", err)
	}
	unlock()
	mustLock(t, b, "grant-1")()
}

// The pool never holds more than maxConns connections for locks: a Lock
// beyond it waits for a slot, honouring its context.
func TestPostgresPoolBounded(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	c := d.open(t, DefaultSchema, nil)
	var unlocks []func()
	for i := range maxConns {
		unlocks = append(unlocks, mustLock(t, c, fmt.Sprintf("grant-%d", i)))
	}
	backends := d.cluster.Psql(t, "postgres", `SELECT count(*) FROM pg_stat_activity WHERE datname = :'db' AND application_name = 'jit'`, "db="+d.name)
	if backends != strconv.Itoa(maxConns) {
		t.Errorf("%s jit backends hold %d locks, want %d", backends, maxConns, maxConns)
	}
	waiting := lockAsync(context.Background(), c, "one-more")
	expectWaiting(t, waiting, "a Lock beyond the pool's bound")
	unlocks[0]()
	expectAcquired(t, waiting, "the Lock beyond the bound after a slot came back")()
	for _, u := range unlocks[1:] {
		u()
	}
}

func TestPostgresSessionSettings(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	c, err := OpenPostgres(context.Background(), d.conn+"&options=-c%20lock_timeout%3D200%20-c%20statement_timeout%3D200", DefaultSchema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// With the connection's 200 ms timeouts the wait would end in an error
	// (twice: a reused connection is retried once); the session overrides
	// them, so it waits for its context.
	a := d.open(t, DefaultSchema, nil)
	defer mustLock(t, a, "grant-1")()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if _, err := c.Lock(ctx, "grant-1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock with connection timeouts of 200 ms: %v, want the context's deadline", err)
	}
}

func TestOpenPostgresErrors(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	const password = "Sup3r:Secret/pw@x"
	role := d.name + "_user" // roles are cluster-wide
	d.cluster.Psql(t, "postgres", `CREATE ROLE :"role" LOGIN PASSWORD :'pw'`, "role="+role, "pw="+password)
	u, _ := url.Parse(d.conn)
	wrong := *u
	wrong.User = url.UserPassword(role, password+"-wrong")
	right := *u
	right.User = url.UserPassword(role, password)

	for _, tc := range []struct {
		name, conn, schema, want string
	}{
		{
			name: "empty schema", conn: d.conn,
			want: "the pg state backend's schema is empty: pass its schema_name (terraform's default is terraform_remote_state)",
		},
		{
			name: "unparsable", conn: "postgres://" + role + ":" + password + "@127.0.0.1:notaport/x", schema: DefaultSchema,
			want: "the pg state backend's connection string does not parse (its value is a secret, not shown here): write it as postgres://user:password@host:port/database?sslmode=... or as key=value pairs",
		},
		{
			name: "wrong password", conn: wrong.String(), schema: DefaultSchema,
			want: "connecting to the pg state backend: failed to connect to `user=" + role + " database=" + d.name + "`: 127.0.0.1:" + u.Port() + " (127.0.0.1): failed SASL auth: FATAL: password authentication failed for user \"" + role + "\" (SQLSTATE 28P01)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := OpenPostgres(context.Background(), tc.conn, tc.schema, nil)
			if err == nil {
				t.Fatal("OpenPostgres succeeded")
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n got %s\nwant %s", err, tc.want)
			}
			for e := err; e != nil; e = errors.Unwrap(e) {
				if strings.Contains(e.Error(), password) || strings.Contains(e.Error(), url.QueryEscape(password)) {
					t.Errorf("an error in the chain shows the password: %s", e)
				}
			}
		})
	}

	c, err := OpenPostgres(context.Background(), right.String(), DefaultSchema, nil)
	if err != nil {
		t.Fatalf("OpenPostgres with the right password: %v", err)
	}
	mustLock(t, c, "grant-1")()
	c.Close()
}

func TestLockKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  int64
		want int64
	}{
		// The first 8 bytes of sha256, big-endian, signed, computed
		// outside Go: python3 -c 'import hashlib; print(int.from_bytes(
		// hashlib.sha256(b"jit\x00terraform_remote_state\x00grant-1").digest()[:8], "big", signed=True))'
		{"lock", lockKey("terraform_remote_state", "grant-1"), 5216475905684592813},
		{"lease", leaseKey("terraform_remote_state", "expiry-timer"), -8453479686770737242},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("key %d, want %d", tc.got, tc.want)
			}
		})
	}
	distinct := map[int64]string{}
	for _, k := range []struct {
		what string
		key  int64
	}{
		{"lock a/x", lockKey("a", "x")},
		{"lock b/x", lockKey("b", "x")},
		{"lock a/y", lockKey("a", "y")},
		{"lease a/x", leaseKey("a", "x")},
		{"lock a\\x00x/", lockKey("a\x00x", "")},
	} {
		if prev, ok := distinct[k.key]; ok {
			t.Errorf("%s and %s share key %d", prev, k.what, k.key)
		}
		distinct[k.key] = k.what
	}
}

// Holds tells a holder whose session ended that its lock is gone, before
// it writes anything others may write too; and it says nothing is held
// before Lock and after unlock.
func TestPostgresHolds(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	a := d.open(t, DefaultSchema, nil)
	ctx := context.Background()
	if err := a.Holds(ctx, "pass"); err == nil || !strings.Contains(err.Error(), `the lock "pass" is not held by this process`) {
		t.Fatalf("Holds before Lock = %v, want not held", err)
	}
	unlock := mustLock(t, a, "pass")
	if err := a.Holds(ctx, "pass"); err != nil {
		t.Fatalf("Holds while held = %v", err)
	}
	d.terminate(t, d.holder(t, lockKey(DefaultSchema, "pass")))
	err := a.Holds(ctx, "pass")
	if err == nil || !strings.Contains(err.Error(), `the lock "pass" was lost`) {
		t.Fatalf("Holds after the session was terminated = %v, want lost", err)
	}
	unlock()
	if err := a.Holds(ctx, "pass"); err == nil || !strings.Contains(err.Error(), "not held") {
		t.Fatalf("Holds after unlock = %v, want not held", err)
	}
	// Another session's lock is not ours.
	b := d.open(t, DefaultSchema, nil)
	defer mustLock(t, b, "pass")()
	if err := a.Holds(ctx, "pass"); err == nil {
		t.Fatal("a.Holds while only b holds the lock = nil, want an error")
	}
}
