package coord

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// DefaultSchema is the schema terraform's pg backend uses when its
// configuration names none (schema_name).
const DefaultSchema = "terraform_remote_state"

const (
	// maxConns bounds the connections that hold or wait for locks; a Lock
	// beyond it waits for one to come back. Leases use connections of their
	// own, one each.
	maxConns = 8
	// connectTimeout bounds a connection attempt whose string sets none.
	connectTimeout = 10 * time.Second
	// cancelGrace is how long a query whose context ended may wait for the
	// server to confirm the cancellation before its socket is cut.
	cancelGrace = 2 * time.Second
	// unlockTimeout bounds pg_advisory_unlock and the lease's unlock.
	unlockTimeout = 5 * time.Second
	// pingTimeout bounds one check of a lease.
	pingTimeout = 5 * time.Second
	// pingEvery is how often a lease is checked by default.
	pingEvery = 3 * time.Second
)

// sessionSettings are set on every connection. Locks live as long as the
// session, so nothing may end it or a wait behind our back: no statement or
// lock timeout (waits end with the caller's context instead), no idle
// timeout. Server-side TCP keepalives make the server notice a holder whose
// machine vanished in about 25 s and free its locks, instead of the system's
// default two hours.
var sessionSettings = [][2]string{
	{"statement_timeout", "0"},
	{"lock_timeout", "0"},
	{"tcp_keepalives_idle", "10"},
	{"tcp_keepalives_interval", "5"},
	{"tcp_keepalives_count", "3"},
}

// sessionSettings14 are set as well on PostgreSQL 14 and later, which know
// them: no idle session timeout, and a check every 5 s during a wait that the
// client is still there.
var sessionSettings14 = [][2]string{
	{"idle_session_timeout", "0"},
	{"client_connection_check_interval", "5000"},
}

// postgres is the Coordinator for terraform's pg state backend.
type postgres struct {
	cfg     *pgx.ConnConfig
	schema  string
	log     *slog.Logger
	secrets secrets
	every   time.Duration // lease check interval

	keys  keyedMutex      // one waiter per key per process reaches the server
	slots chan struct{}   // a value per connection in use for a lock
	life  context.Context // ends at Close
	end   context.CancelFunc

	mu     sync.Mutex
	closed bool
	idle   []*pgx.Conn
	leases map[*lease]*leaseHolder
	held   map[string]*heldLock // locks held, by key
}

// heldLock is a lock taken by Lock and not yet unlocked: the session that
// holds it, used by nothing else until the unlock.
type heldLock struct {
	mu   sync.Mutex
	conn *pgx.Conn
}

// OpenPostgres returns the Coordinator for terraform's pg state backend whose
// database connString names and whose schema_name is schema (DefaultSchema
// when the backend's configuration names none; it may not be empty). Keys
// are derived from schema, so deployments with different schemas in one
// database never collide. It connects once to check the database is
// reachable.
//
// Lock takes a session advisory lock (pg_advisory_lock) on a connection of
// its own from a pool of at most 8, waiting in the server's queue; when ctx
// ends the server is asked to cancel the wait and the connection is
// discarded. TryLead takes pg_try_advisory_lock on a new connection and then
// checks every few seconds that the session still holds it; when it does
// not, or the check fails, Lost is closed. A holder that dies, or whose
// backend is terminated, frees its locks and lease at once. A held lock
// whose connection breaks is freed too, and its holder only learns so at
// unlock, which logs a warning, or when it asks Holds.
//
// connString is a secret: it is never logged, and errors show neither it nor
// its password. log receives warnings (a lock lost while held) and lease
// changes; nil discards them. Session advisory locks need a direct
// connection to PostgreSQL, not one through a pooler in transaction mode.
func OpenPostgres(ctx context.Context, connString, schema string, log *slog.Logger) (Coordinator, error) {
	if schema == "" {
		return nil, fmt.Errorf("the pg state backend's schema is empty: pass its schema_name (terraform's default is %s)", DefaultSchema)
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, errors.New("the pg state backend's connection string does not parse (its value is a secret, not shown here): write it as postgres://user:password@host:port/database?sslmode=... or as key=value pairs")
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "jit"
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	// A context that ends asks the server to cancel the query, so a
	// backend never stays queued for a lock nobody waits for; the socket
	// is cut if the server does not answer in time. Every connection whose
	// query was cancelled is discarded, so a late cancellation can never
	// hit a later query.
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: cancelGrace}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	life, end := context.WithCancel(context.Background())
	c := &postgres{
		cfg:     cfg,
		schema:  schema,
		log:     log.With("schema", schema),
		secrets: newSecrets(connString, cfg.Password),
		every:   pingEvery,
		slots:   make(chan struct{}, maxConns),
		life:    life,
		end:     end,
		leases:  map[*lease]*leaseHolder{},
		held:    map[string]*heldLock{},
	}
	conn, err := c.dial(ctx)
	if err != nil {
		end()
		return nil, err
	}
	c.idle = []*pgx.Conn{conn}
	return c, nil
}

// lockKey is the advisory lock key of the lock named key.
func lockKey(schema, key string) int64 { return hashKey("jit\x00" + schema + "\x00" + key) }

// leaseKey is the advisory lock key of the lease named name: a domain of its
// own, so no grant id can ever name a lease.
func leaseKey(schema, name string) int64 { return hashKey("jit-lease\x00" + schema + "\x00" + name) }

func hashKey(s string) int64 {
	sum := sha256.Sum256([]byte(s))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// dial opens a connection and applies the session settings.
func (c *postgres) dial(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, c.cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the pg state backend: %w", c.secrets.redact(err))
	}
	settings := sessionSettings
	var version int
	err = conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version)
	if err == nil {
		if version >= 140000 {
			settings = append(settings[:len(settings):len(settings)], sessionSettings14...)
		}
		names, values := make([]string, len(settings)), make([]string, len(settings))
		for i, s := range settings {
			names[i], values[i] = s[0], s[1]
		}
		_, err = conn.Exec(ctx, "SELECT set_config(n, v, false) FROM unnest($1::text[], $2::text[]) AS s(n, v)", names, values)
	}
	if err != nil {
		discard(conn)
		return nil, fmt.Errorf("setting up a session on the pg state backend: %w", c.secrets.redact(err))
	}
	return conn, nil
}

// discard closes conn, and with it every lock its session holds.
func discard(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
	defer cancel()
	_ = conn.Close(ctx)
}

// Lock implements Coordinator. Waiters of one key in this process queue
// here, so each key costs at most one connection; the first waits on the
// server with pg_advisory_lock rather than polling pg_try_advisory_lock: the
// server hands the lock to the next waiter the moment it is released, with no
// polling delay or load, and a wait that ends early is cancelled on the
// server (the connection is then discarded).
func (c *postgres) Lock(ctx context.Context, key string) (func(), error) {
	if key == "" {
		return nil, errEmptyName("lock key", "a grant id")
	}
	release, err := c.keys.lock(ctx, c.life.Done(), key)
	if err != nil {
		return nil, fmt.Errorf("locking %q: %w", key, err)
	}
	conn, err := c.lockOnServer(ctx, key)
	if err != nil {
		release()
		return nil, fmt.Errorf("locking %q: %w", key, err)
	}
	h := &heldLock{conn: conn}
	c.mu.Lock()
	c.held[key] = h
	c.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			delete(c.held, key)
			c.mu.Unlock()
			h.mu.Lock()
			defer h.mu.Unlock()
			c.unlockOnServer(conn, key)
			release()
		})
	}, nil
}

// Holds implements Coordinator: it asks the lock's own session whether it
// still holds the advisory lock (one query, bounded by pingTimeout).
func (c *postgres) Holds(ctx context.Context, key string) error {
	c.mu.Lock()
	h := c.held[key]
	c.mu.Unlock()
	if h == nil {
		return fmt.Errorf("the lock %q is not held by this process", key)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := holdsAdvisory(ctx, h.conn, lockKey(c.schema, key)); err != nil {
		return fmt.Errorf("the lock %q was lost: %w", key, c.secrets.redact(err))
	}
	return nil
}

// holdsAdvisory asks conn's session whether it holds the session advisory
// lock k. pg_locks shows a bigint advisory key as its high and low 32 bits
// in classid and objid, with objsubid 1.
func holdsAdvisory(ctx context.Context, conn *pgx.Conn, k int64) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	var held bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
  AND classid::int8 = $1 AND objid::int8 = $2 AND objsubid = 1)`,
		int64(uint64(k)>>32), int64(uint64(k)&0xffffffff)).Scan(&held)
	if err == nil && !held {
		err = errors.New("the session no longer holds its lock")
	}
	return err
}

// lockOnServer takes a connection slot and waits on it for the advisory
// lock of key. A reused connection that fails is replaced by a new one once:
// an idle connection may have gone stale.
func (c *postgres) lockOnServer(ctx context.Context, key string) (*pgx.Conn, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, waitErr(ctx, c.life.Done())
	case <-c.life.Done():
		return nil, ErrClosed
	}
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(c.life, cancel)()
	for attempt := 0; ; attempt++ {
		conn, reused, err := c.take(qctx)
		if err == nil {
			_, err = conn.Exec(qctx, "SELECT pg_advisory_lock($1)", lockKey(c.schema, key))
			if err == nil {
				return conn, nil
			}
			discard(conn)
			err = c.secrets.redact(err)
		}
		if werr := waitErr(ctx, c.life.Done()); werr != nil {
			err = werr
		} else if reused && attempt == 0 {
			continue
		}
		<-c.slots
		return nil, err
	}
}

// take returns an idle connection (reused=true) or a new one.
func (c *postgres) take(ctx context.Context) (conn *pgx.Conn, reused bool, err error) {
	c.mu.Lock()
	if n := len(c.idle); n > 0 {
		conn = c.idle[n-1]
		c.idle = c.idle[:n-1]
	}
	c.mu.Unlock()
	if conn != nil {
		return conn, true, nil
	}
	conn, err = c.dial(ctx)
	return conn, false, err
}

// unlockOnServer releases the advisory lock of key held on conn and gives
// its slot back. When the connection broke the server released the lock
// already, maybe long before: that is logged, for whoever held the lock
// believed it was still exclusive.
func (c *postgres) unlockOnServer(conn *pgx.Conn, key string) {
	defer func() { <-c.slots }()
	ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
	defer cancel()
	var held bool
	err := conn.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", lockKey(c.schema, key)).Scan(&held)
	if err != nil || !held {
		discard(conn)
		if err == nil {
			err = errors.New("the session no longer held it")
		}
		c.log.Warn("a lock was lost while held: its connection to the pg state backend broke, which released it, so another controller may have acted on the same grant; the connection is discarded",
			"lock", key, "error", c.secrets.redact(err).Error())
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.idle) >= maxConns {
		discard(conn)
		return
	}
	c.idle = append(c.idle, conn)
}

// TryLead implements Coordinator.
func (c *postgres) TryLead(ctx context.Context, name string) (Lease, bool, error) {
	if name == "" {
		return nil, false, errEmptyName("lease name", `a name such as "expiry-timer"`)
	}
	if err := waitErr(ctx, c.life.Done()); err != nil {
		return nil, false, fmt.Errorf("leading %q: %w", name, err)
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("leading %q: %w", name, err)
	}
	key := leaseKey(c.schema, name)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil || !ok {
		discard(conn)
		if err != nil {
			return nil, false, fmt.Errorf("leading %q: %w", name, c.secrets.redact(err))
		}
		return nil, false, nil
	}
	h := &leaseHolder{c: c, name: name, key: key, conn: conn, stop: make(chan struct{})}
	h.lease = newLease(h.release)
	c.mu.Lock()
	closed := c.closed
	if !closed {
		c.leases[h.lease] = h
	}
	c.mu.Unlock()
	if closed {
		h.lease.end()
		return nil, false, fmt.Errorf("leading %q: %w", name, ErrClosed)
	}
	c.log.Info("holding the lease", "lease", name)
	go h.watch()
	return h.lease, true, nil
}

// leaseHolder keeps one lease's connection and checks it.
type leaseHolder struct {
	c     *postgres
	name  string
	key   int64
	lease *lease
	stop  chan struct{} // closed when the lease ends

	mu   sync.Mutex
	conn *pgx.Conn // nil once the lease ended
}

// watch checks the lease every c.every until it ends, and ends it when the
// session no longer holds the lock or cannot be reached.
func (h *leaseHolder) watch() {
	t := time.NewTicker(h.c.every)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		if err := h.check(); err != nil {
			h.c.log.Warn("the lease was lost: its holder stops acting on it, and another controller may take it over",
				"lease", h.name, "error", h.c.secrets.redact(err).Error())
			h.lease.end()
			return
		}
	}
}

// check asks the server whether this session still holds the lease's lock.
func (h *leaseHolder) check() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conn == nil {
		return nil
	}
	return holdsAdvisory(context.Background(), h.conn, h.key)
}

// release gives the lock back and closes the connection; it runs once, after
// Lost was closed.
func (h *leaseHolder) release() {
	close(h.stop)
	h.c.mu.Lock()
	delete(h.c.leases, h.lease)
	h.c.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
	defer cancel()
	_, _ = h.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", h.key)
	discard(h.conn)
	h.conn = nil
	h.c.log.Info("the lease is given up", "lease", h.name)
}

// Close implements Coordinator.
func (c *postgres) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	idle := c.idle
	c.idle = nil
	leases := make([]*lease, 0, len(c.leases))
	for l := range c.leases {
		leases = append(leases, l)
	}
	c.mu.Unlock()
	c.end()
	for _, l := range leases {
		l.end()
	}
	for _, conn := range idle {
		discard(conn)
	}
	return nil
}
