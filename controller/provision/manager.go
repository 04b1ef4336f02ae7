package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/target"
	"github.com/jitops/jit/controller/terraform"
)

// Log attribute keys.
const (
	LogKeyGrant     = "grant"
	LogKeyWorkspace = "workspace"
	LogKeyTemplate  = "template"
)

// KeySource finds a person's SSH public keys, to which their credentials are
// encrypted (later: GitHub's GET /users/{username}/keys).
type KeySource interface {
	// AuthorizedKeys returns login's public keys as authorized_keys lines;
	// no keys is not an error.
	AuthorizedKeys(ctx context.Context, login string) ([]string, error)
}

// CredentialSink receives a grant's credentials, encrypted so that only the
// requester can read them.
type CredentialSink interface {
	// Deliver stores or sends ciphertext (an armored age file) for grantID,
	// replacing any earlier one.
	Deliver(ctx context.Context, grantID string, ciphertext []byte) error
}

// Config configures a Manager.
type Config struct {
	// Terraform runs terraform. Required.
	Terraform *terraform.Runner
	// Backend is where states live. A relative local directory is taken
	// relative to the current directory.
	Backend render.Backend
	// Templates is the access repository's tree at the revision being
	// applied (templates/<name>/... at its root), for example
	// history.Repo.FS of that commit. Templates are read from it and from
	// nothing else: never from a working tree. Required.
	Templates fs.FS
	// WorkDir holds initialised templates and per-grant data directories
	// (default: .jit/work). It is a cache: deleting it loses nothing.
	WorkDir string
	// Concurrency bounds the terraform commands run at once (default 4).
	Concurrency int
	// Keys and Sink handle credentials: a grant whose template declares
	// password_verifier cannot be issued a password without both (a re-apply
	// of a grant whose password was delivered needs neither).
	Keys KeySource
	Sink CredentialSink
	// Logger receives one info line per action; nil discards.
	Logger *slog.Logger
	// Targets are the named targets grants may be applied to (see package
	// target); nil configures none, and a grant bound to a target then
	// fails. A grant without a target runs with the controller's own
	// environment (see the package documentation).
	Targets *target.Set
}

// Manager applies and destroys grants, one terraform workspace each. It is
// safe for concurrent use: different grants run concurrently up to the
// configured limit, and operations on one grant run one at a time.
type Manager struct {
	cfg     Config
	tf      *terraform.Runner
	backend render.Backend
	work    string
	log     *slog.Logger
	sem     chan struct{}
	base    environment // the environment of commands for no target

	initMu   sync.Mutex // serialises terraform init (the pg backend creates its schema)
	createMu sync.Mutex // serialises workspace creation (one backend-wide lock in pg)

	mu        sync.Mutex
	templates map[string]*prepared // by name and content hash
	locks     map[string]*sync.Mutex
}

// New returns a Manager for cfg.
func New(cfg Config) (*Manager, error) {
	if cfg.Terraform == nil {
		return nil, errors.New("provision: no terraform runner configured")
	}
	if cfg.Templates == nil {
		return nil, errors.New("provision: no templates configured: pass the tree of the revision being applied")
	}
	b := cfg.Backend
	if b.Kind == "local" {
		abs, err := filepath.Abs(b.Dir)
		if err != nil {
			return nil, fmt.Errorf("state directory %s: %w", b.Dir, err)
		}
		b.Dir = abs
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return nil, fmt.Errorf("creating state directory: %w", err)
		}
	}
	if _, err := b.Config(); err != nil {
		return nil, err
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = filepath.Join(".jit", "work")
	}
	work, err := filepath.Abs(cfg.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("work directory %s: %w", cfg.WorkDir, err)
	}
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 4
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, err := (&Manager{cfg: cfg}).environment("", "")
	if err != nil {
		return nil, err
	}
	return &Manager{
		cfg:       cfg,
		base:      base,
		tf:        cfg.Terraform,
		backend:   b,
		work:      filepath.Join(work, b.Key()),
		log:       log,
		sem:       make(chan struct{}, cfg.Concurrency),
		templates: map[string]*prepared{},
		locks:     map[string]*sync.Mutex{},
	}, nil
}

// Backend returns the state backend the Manager works in, with a local
// directory made absolute. Its String method names it without secrets, for
// messages that must say which state was looked in.
func (m *Manager) Backend() render.Backend { return m.backend }

// Applied is the outcome of applying one grant.
type Applied struct {
	Grant     string
	Workspace string
	// Resources are the addresses of the resources terraform created or
	// changed (for the Jit-Resources trailer); empty when nothing changed.
	Resources []string
	// Delivered reports that this apply issued a new password and delivered
	// it to the requester (see Manager.Apply).
	Delivered bool
}

// Destroyed is the outcome of destroying one grant.
type Destroyed struct {
	Grant     string
	Workspace string
	// Existed is false when there was no workspace: nothing to destroy.
	Existed bool
	// Resources are the addresses of the resources terraform destroyed.
	Resources []string
}

// Workspace is one grant workspace found in the state backend.
type Workspace struct {
	Name string
	// Grant, Template and ExpiresAt come from jit's record in the state;
	// Grant is empty when the state holds no record (an apply that never got
	// far enough).
	Grant     string
	Template  string
	ExpiresAt time.Time
	// Complete reports that the last apply finished every resource and,
	// for a template that takes a password, that the password was
	// delivered.
	Complete bool
	// Err is why the workspace's state could not be read; Grant is then
	// empty and Complete false.
	Err error
}

func (m *Manager) lock(ws string) func() {
	m.mu.Lock()
	l, ok := m.locks[ws]
	if !ok {
		l = &sync.Mutex{}
		m.locks[ws] = l
	}
	m.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// lockGrant takes the locks of both workspace names grant id may have (the
// current one, then the legacy one), so that an apply or destroy of a grant
// excludes every other operation on its workspace, whichever shape its name
// has.
func (m *Manager) lockGrant(id string) func() {
	unlockCurrent := m.lock(render.WorkspaceName(id))
	unlockLegacy := m.lock(render.LegacyWorkspaceName(id))
	return func() {
		unlockLegacy()
		unlockCurrent()
	}
}

func (m *Manager) acquire(ctx context.Context) (func(), error) {
	select {
	case m.sem <- struct{}{}:
		return func() { <-m.sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Workspaces lists the grant workspaces in the state backend with jit's
// record of each, sorted by name. Only a failure to list is an error: a
// workspace whose state cannot be read is returned with Err set, so that one
// bad workspace does not hide the others.
//
// It reads the states straight from the backend's storage, without
// terraform (see direct.go): one query for pg, one file per workspace for
// local. When that is not possible it asks terraform, two processes per
// workspace, with the same result. A listing does not wait for this
// Manager's operations in progress: a workspace being applied is reported
// as its state was last written.
func (m *Manager) Workspaces(ctx context.Context) ([]Workspace, error) {
	ws, err := m.directWorkspaces(ctx)
	if err == nil {
		return ws, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	m.log.Debug("reading the states without terraform did not work; asking terraform", "backend", m.backend.String(), "error", err)
	return m.terraformWorkspaces(ctx)
}

// terraformWorkspaces is Workspaces through terraform: `workspace list`,
// then `workspace select` and `state pull` of each grant workspace.
func (m *Manager) terraformWorkspaces(ctx context.Context) ([]Workspace, error) {
	admin, names, err := m.list(ctx, "")
	if err != nil {
		return nil, err
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		out []Workspace
	)
	for _, name := range names {
		if !render.IsWorkspaceName(name) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, ok, err := m.inspect(ctx, admin, name)
			if err != nil {
				m.log.Warn("reading a workspace", LogKeyWorkspace, name, "error", err)
				w, ok = Workspace{Name: name, Err: err}, true
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				out = append(out, w)
			}
		}()
	}
	wg.Wait()
	sortWorkspaces(out)
	return out, nil
}

func (m *Manager) inspect(ctx context.Context, admin *prepared, ws string) (Workspace, bool, error) {
	defer m.lock(ws)()
	release, err := m.acquire(ctx)
	if err != nil {
		return Workspace{}, false, err
	}
	defer release()
	dd, err := m.selectWorkspace(ctx, admin, "", ws, false)
	if errors.Is(err, terraform.ErrWorkspaceMissing) {
		return Workspace{}, false, nil // deleted since it was listed
	}
	if err != nil {
		return Workspace{}, false, fmt.Errorf("workspace %s: %w", ws, err)
	}
	st, err := m.tf.State(ctx, m.tfDir("", admin.config, dd, m.base))
	if err != nil {
		return Workspace{}, false, fmt.Errorf("workspace %s: %w", ws, err)
	}
	w, err := workspaceOf(ws, st)
	if err != nil {
		return Workspace{}, false, err
	}
	return w, true, nil
}

// workspaceOf is workspace ws as its state st records it: jit's record,
// which must name a grant whose workspace ws is, and whether the last apply
// was complete. However st was read, the same rules judge it.
func workspaceOf(ws string, st terraform.State) (Workspace, error) {
	w := Workspace{Name: ws}
	if raw, ok := st.Outputs[render.MetaVariable]; ok {
		meta, err := render.ParseMeta(raw)
		if err != nil {
			return Workspace{}, fmt.Errorf("workspace %s: %w", ws, err)
		}
		if !render.IsWorkspaceOf(ws, meta.Grant) {
			return Workspace{}, fmt.Errorf("workspace %s records grant %s, whose workspace is %s", ws, meta.Grant, render.WorkspaceName(meta.Grant))
		}
		w.Grant, w.Template = meta.Grant, meta.Template
		w.ExpiresAt, _ = time.Parse(time.RFC3339, meta.ExpiresAt)
	}
	w.Complete = complete(st)
	return w, nil
}

// complete reports whether st is the result of a complete apply: jit's
// completion output lists the resources that must be there, all are, none
// is tainted (see render.MetaFile), and, when the state records password
// delivery (render.DeliveredVariable), the password was delivered.
func complete(st terraform.State) bool {
	if _, ok := st.Outputs[render.DeliveredVariable]; ok && deliveredVerifier(st) == "" {
		return false
	}
	raw, ok := st.Outputs[render.CompleteOutput]
	if !ok {
		return false
	}
	var required []string
	if err := json.Unmarshal(raw, &required); err != nil {
		return false
	}
	have := map[string]bool{}
	for _, r := range st.Resources {
		if r.Tainted {
			return false
		}
		have[r.Address] = true
	}
	for _, a := range required {
		if !have[a] {
			return false
		}
	}
	return true
}
