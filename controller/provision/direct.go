package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/terraform"
)

// Reading states straight from the backend's storage
//
// Listing the workspaces through terraform costs two terraform processes per
// workspace (`workspace select`, `state pull`). Workspaces instead reads
// every grant workspace's state where terraform keeps it, without
// terraform, and parses it with terraform.ParseState, the parser of
// `state pull`'s output:
//
//   - pg: terraform's pg backend keeps one row per workspace in the table
//     <schema>.states (columns id, name, data; the state's JSON in data,
//     the default workspace named "default"). One query reads them all in
//     one snapshot; terraform writes each row in a transaction, so a row is
//     never half written.
//   - local (with workspace_dir): workspace NAME is the directory
//     <dir>/NAME and its state the file <dir>/NAME/terraform.tfstate.
//     terraform rewrites that file in place (truncate, then write), so a
//     read racing a write can see an empty or truncated file: such a read
//     is retried once after localRetryPause, and a file still unparsable
//     then is reported as the workspace's Err.
//
// Both layouts are those of terraform 1.5, checked by test against the real
// binary. When direct reading is not possible (the table does not exist yet,
// the database cannot be reached, a schema name terraform would fold), the
// terraform path is used instead.

// localStateFile is the name of a workspace's state file in the local
// backend's workspace directory.
const localStateFile = "terraform.tfstate"

// localRetryPause is how long a local state read that found an empty or
// unparsable file waits before reading it again.
const localRetryPause = 100 * time.Millisecond

// pgConnectTimeout bounds connecting to the pg backend for a direct read.
const pgConnectTimeout = 10 * time.Second

// plainSchema matches schema names that mean the same quoted and unquoted:
// terraform's pg backend writes the schema into its SQL unquoted, so
// PostgreSQL folds it to lower case; jit quotes it, and reads directly only
// when both name the same schema.
var plainSchema = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// storedState is one grant workspace's state as read from the backend's
// storage and parsed (empty when it has none), or why it could not be read.
type storedState struct {
	name string
	st   terraform.State
	err  error
}

func parsedState(name string, raw []byte) storedState {
	st, err := terraform.ParseState(raw)
	return storedState{name: name, st: st, err: err}
}

// errNoDirect reports that the backend's storage cannot be read directly.
var errNoDirect = errors.New("this state backend cannot be read without terraform")

// storedStates reads the state of every grant workspace (render.IsWorkspaceName)
// straight from the backend's storage. An error means that nothing could
// be read and the terraform path must be taken.
func (m *Manager) storedStates(ctx context.Context) ([]storedState, error) {
	switch m.backend.Kind {
	case "pg":
		return m.pgStates(ctx, nil)
	case "local":
		return m.localStates(ctx)
	}
	return nil, errNoDirect
}

// pgStates reads, in one query, the rows of <schema>.states of the
// workspaces names (those that exist) or, when names is nil, of every grant
// workspace.
func (m *Manager) pgStates(ctx context.Context, names []string) ([]storedState, error) {
	var out []storedState
	err := m.pgQuery(ctx, func(conn *pgx.Conn, table string) (pgx.Rows, error) {
		if names == nil {
			return conn.Query(ctx, "SELECT name, data FROM "+table+" WHERE name <> 'default'")
		}
		return conn.Query(ctx, "SELECT name, data FROM "+table+" WHERE name = ANY($1)", names)
	}, func(rows pgx.Rows) error {
		var (
			name string
			data []byte
		)
		if err := rows.Scan(&name, &data); err != nil {
			return err
		}
		if names != nil || render.IsWorkspaceName(name) {
			out = append(out, parsedState(name, data))
		}
		return nil
	})
	return out, err
}

// pgNames reads the name of every workspace in <schema>.states, as
// terraform's pg backend lists them (it adds "default", which is never a
// grant's).
func (m *Manager) pgNames(ctx context.Context) ([]string, error) {
	var out []string
	err := m.pgQuery(ctx, func(conn *pgx.Conn, table string) (pgx.Rows, error) {
		return conn.Query(ctx, "SELECT name FROM "+table)
	}, func(rows pgx.Rows) error {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		out = append(out, name)
		return nil
	})
	return out, err
}

// pgQuery connects to the pg backend, runs the query query makes with the
// quoted name of the states table, and calls row for each row.
func (m *Manager) pgQuery(ctx context.Context, query func(conn *pgx.Conn, table string) (pgx.Rows, error), row func(pgx.Rows) error) error {
	return m.pgConn(ctx, func(conn *pgx.Conn, table string, fail func(error) error) error {
		rows, err := query(conn, table)
		if err != nil {
			return fail(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := row(rows); err != nil {
				return fail(err)
			}
		}
		return fail(rows.Err())
	})
}

// pgConn connects to the pg backend and calls fn with the connection, the
// quoted name of the states table, and fail, which turns an error of the
// connection into one that says which table and never quotes the
// connection string (nil stays nil).
func (m *Manager) pgConn(ctx context.Context, fn func(conn *pgx.Conn, table string, fail func(error) error) error) error {
	schema := m.backend.Schema
	if schema == "" {
		schema = render.DefaultSchema
	}
	if !plainSchema.MatchString(schema) {
		return fmt.Errorf("schema %q is not a plain lower-case name, which terraform and jit would spell alike", schema)
	}
	cfg, err := pgx.ParseConfig(m.backend.ConnStr)
	if err != nil {
		// The error would quote parts of the connection string: a secret.
		return errors.New("the connection string does not parse (its value is a secret, not shown here)")
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > pgConnectTimeout {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "jit"
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connecting: %w", redact(err, m.backend.ConnStr, cfg.Password))
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	fail := func(err error) error {
		if err == nil {
			return nil
		}
		return fmt.Errorf("reading %s.states: %w", schema, redact(err, m.backend.ConnStr, cfg.Password))
	}
	// The schema is an identifier, which SQL cannot take as a parameter:
	// it is quoted (and was checked above), never pasted in raw.
	return fn(conn, pgx.Identifier{schema, "states"}.Sanitize(), fail)
}

// redact removes the connection string and its password from err's text.
func redact(err error, secrets ...string) error {
	msg := err.Error()
	clean := msg
	for _, s := range secrets {
		if s != "" {
			clean = strings.ReplaceAll(clean, s, "[secret]")
		}
	}
	if clean == msg {
		return err
	}
	return errors.New(clean)
}

// localNames lists the local backend's workspaces: the directories of its
// workspace directory, as terraform's local backend lists them (without
// "default").
func (m *Manager) localNames() ([]string, error) {
	entries, err := os.ReadDir(m.backend.Dir)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", m.backend.Dir, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// localStatesOf reads the state files of the workspaces names that exist.
func (m *Manager) localStatesOf(ctx context.Context, names []string) ([]storedState, error) {
	var out []storedState
	for _, name := range names {
		if !fs.ValidPath(name) || strings.Contains(name, "/") {
			return nil, fmt.Errorf("%q is not a workspace name", name)
		}
		info, err := os.Stat(filepath.Join(m.backend.Dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			continue
		}
		s, err := readLocalState(ctx, name, filepath.Join(m.backend.Dir, name, localStateFile))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// storedNames lists the workspaces straight from the backend's storage. An
// error means the terraform path must be taken.
func (m *Manager) storedNames(ctx context.Context) ([]string, error) {
	switch m.backend.Kind {
	case "pg":
		return m.pgNames(ctx)
	case "local":
		return m.localNames()
	}
	return nil, errNoDirect
}

// storedStatesOf reads the states of those of the workspaces names that
// exist, straight from the backend's storage; a name missing from the
// result has no workspace. An error means the terraform path must be
// taken.
func (m *Manager) storedStatesOf(ctx context.Context, names []string) ([]storedState, error) {
	switch m.backend.Kind {
	case "pg":
		return m.pgStates(ctx, names)
	case "local":
		return m.localStatesOf(ctx, names)
	}
	return nil, errNoDirect
}

// localStates reads the state file of every grant workspace in the local
// backend's workspace directory.
func (m *Manager) localStates(ctx context.Context) ([]storedState, error) {
	entries, err := os.ReadDir(m.backend.Dir)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", m.backend.Dir, err)
	}
	var out []storedState
	for _, e := range entries {
		if !e.IsDir() || !render.IsWorkspaceName(e.Name()) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := readLocalState(ctx, e.Name(), filepath.Join(m.backend.Dir, e.Name(), localStateFile))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// readLocalState reads and parses workspace name's state file, once more
// after localRetryPause when the first read is empty or does not parse (a
// write in progress). A missing file is a workspace without a state. Only
// the end of ctx is an error; a state that cannot be read is in the result.
func readLocalState(ctx context.Context, name, path string) (storedState, error) {
	read := func() storedState {
		raw, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return storedState{name: name, st: terraform.State{Outputs: map[string]json.RawMessage{}}}
		}
		if err != nil {
			return storedState{name: name, err: err}
		}
		s := parsedState(name, raw)
		if s.err == nil && len(bytes.TrimSpace(raw)) == 0 {
			s.err = errEmptyFile
		}
		return s
	}
	s := read()
	if s.err == nil {
		return s, nil
	}
	select {
	case <-ctx.Done():
		return storedState{}, ctx.Err()
	case <-time.After(localRetryPause):
	}
	s = read()
	if errors.Is(s.err, errEmptyFile) {
		s.err = nil // terraform too reads an empty file as no state
	}
	return s, nil
}

// errEmptyFile marks an empty local state file, read again once: terraform
// never leaves one but while it rewrites the file.
var errEmptyFile = errors.New("the state file is empty")

// directWorkspaces lists the grant workspaces from states read straight
// from the backend's storage (see storedStates).
func (m *Manager) directWorkspaces(ctx context.Context) ([]Workspace, error) {
	states, err := m.storedStates(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Workspace, 0, len(states))
	for _, s := range states {
		w, err := Workspace{}, s.err
		if err == nil {
			w, err = workspaceOf(s.name, s.st)
		} else {
			err = fmt.Errorf("workspace %s: %w", s.name, err)
		}
		if err != nil {
			m.log.Warn("reading a workspace", LogKeyWorkspace, s.name, "error", err)
			w = Workspace{Name: s.name, Err: err}
		}
		out = append(out, w)
	}
	sortWorkspaces(out)
	return out, nil
}

// pgDeleteWorkspace deletes the row of grant workspace ws from
// <schema>.states, as `terraform workspace delete` does, saving its
// process: only when the state holds no managed resource and no terraform
// holds the workspace's state lock. In one transaction it locks the row
// (FOR UPDATE, so no terraform writes it meanwhile), takes the advisory
// lock terraform's pg backend locks a state with (the row's id) for the
// transaction, and deletes the row; a lock held elsewhere is
// terraform.ErrLocked, which is retryable, never success. A workspace
// already gone is success. handled is false when the database could not be
// reached this way; the caller then asks terraform.
func (m *Manager) pgDeleteWorkspace(ctx context.Context, ws string) (handled bool, err error) {
	err = m.pgConn(ctx, func(conn *pgx.Conn, table string, fail func(error) error) error {
		handled = true
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fail(err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		var (
			id   int64
			data []byte
		)
		err = tx.QueryRow(ctx, "SELECT id, data FROM "+table+" WHERE name = $1 FOR UPDATE", ws).Scan(&id, &data)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fail(err)
		}
		var locked bool
		if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", id).Scan(&locked); err != nil {
			return fail(err)
		}
		if !locked {
			return fmt.Errorf("deleting workspace %s: %w", ws, terraform.ErrLocked)
		}
		st, err := terraform.ParseState(data)
		if err != nil {
			return fmt.Errorf("deleting workspace %s: its state does not parse: %w", ws, err)
		}
		if n := len(st.Resources); n > 0 {
			return fmt.Errorf("deleting workspace %s: it still holds %d resources, so it was kept: destroy them first", ws, n)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM "+table+" WHERE id = $1", id); err != nil {
			return fail(err)
		}
		return fail(tx.Commit(ctx))
	})
	return handled, err
}
