package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/render"
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
	// Repo is the access repository's directory; templates are read from
	// Repo/templates/<name>.
	Repo string
	// WorkDir holds initialised templates and per-grant data directories
	// (default: .jit/work). It is a cache: deleting it loses nothing.
	WorkDir string
	// Concurrency bounds the terraform commands run at once (default 4).
	Concurrency int
	// Keys and Sink handle credentials; a template that declares
	// password_verifier cannot be applied without both.
	Keys KeySource
	Sink CredentialSink
	// Logger receives one info line per action; nil discards.
	Logger *slog.Logger
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
	return &Manager{
		cfg:       cfg,
		tf:        cfg.Terraform,
		backend:   b,
		work:      filepath.Join(work, b.Key()),
		log:       log,
		sem:       make(chan struct{}, cfg.Concurrency),
		templates: map[string]*prepared{},
		locks:     map[string]*sync.Mutex{},
	}, nil
}

// Applied is the outcome of applying one grant.
type Applied struct {
	Grant     string
	Workspace string
	// Resources are the addresses of the resources terraform created or
	// changed (for the Jit-Resources trailer); empty when nothing changed.
	Resources []string
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
	// Complete reports that the last apply finished every resource.
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

func (m *Manager) acquire(ctx context.Context) (func(), error) {
	select {
	case m.sem <- struct{}{}:
		return func() { <-m.sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Apply creates or updates the resources of req, which expires at expires,
// in the grant's own workspace. When the template takes a password
// verifier, Apply generates a password, passes only its SCRAM verifier to
// terraform and delivers the password encrypted to the requester's SSH keys.
func (m *Manager) Apply(ctx context.Context, req grant.Request, expires time.Time) (Applied, error) {
	ws := render.WorkspaceName(req.ID)
	out := Applied{Grant: req.ID, Workspace: ws}
	defer m.lock(ws)()
	release, err := m.acquire(ctx)
	if err != nil {
		return out, fmt.Errorf("grant %s: waiting for a terraform slot: %w", req.ID, err)
	}
	defer release()
	log := m.log.With(LogKeyGrant, req.ID, LogKeyWorkspace, ws, LogKeyTemplate, req.Template)

	p, err := m.prepare(ctx, req.ID, req.Template)
	if err != nil {
		return out, err
	}
	vars := render.Vars{Meta: render.MetaOf(req, expires), Declared: p.declared}
	var ciphertext []byte
	if p.declared["password_verifier"] {
		vars.PasswordVerifier, ciphertext, err = m.issue(ctx, req)
		if err != nil {
			return out, err
		}
	}
	body, err := render.VarsJSON(vars)
	if err != nil {
		return out, err
	}
	dd, err := m.selectWorkspace(ctx, p, req.ID, ws, true)
	if err != nil {
		return out, err
	}
	varFile := filepath.Join(dd, render.VarsFileName)
	if err := os.WriteFile(varFile, body, 0o600); err != nil {
		return out, fmt.Errorf("grant %s: writing variables: %w", req.ID, err)
	}
	if ciphertext != nil {
		if err := m.cfg.Sink.Deliver(ctx, req.ID, ciphertext); err != nil {
			return out, fmt.Errorf("grant %s: delivering the encrypted credentials: %w", req.ID, err)
		}
	}
	out.Resources, err = m.tf.Apply(ctx, terraform.Dir{Grant: req.ID, Work: p.config, Data: dd, Env: m.backend.Env()}, varFile)
	sort.Strings(out.Resources)
	if err != nil {
		return out, err
	}
	log.Info("applied grant", "resources", out.Resources, "expires_at", vars.Meta.ExpiresAt)
	return out, nil
}

// issue makes a new password for req and returns its SCRAM verifier and the
// password encrypted to the requester's SSH keys.
func (m *Manager) issue(ctx context.Context, req grant.Request) (verifier string, ciphertext []byte, err error) {
	if m.cfg.Sink == nil {
		return "", nil, fmt.Errorf("grant %s: template %s issues a password, but no credential sink is configured: pass --credentials-dir DIR", req.ID, req.Template)
	}
	var keys []string
	if m.cfg.Keys != nil {
		keys, err = m.cfg.Keys.AuthorizedKeys(ctx, req.Requester)
		if err != nil {
			return "", nil, fmt.Errorf("grant %s: looking up the SSH keys of %s: %w", req.ID, req.Requester, err)
		}
	}
	if len(keys) == 0 {
		return "", nil, fmt.Errorf("grant %s: requester %s has no SSH public keys, so nobody could read the password template %s would issue: add a key for %s (--ssh-keys DIR/%s.pub) and run again", req.ID, req.Requester, req.Template, req.Requester, req.Requester)
	}
	pw, err := credential.NewPassword()
	if err != nil {
		return "", nil, fmt.Errorf("grant %s: generating a password: %w", req.ID, err)
	}
	verifier, err = credential.SCRAMVerifier(pw)
	if err != nil {
		return "", nil, fmt.Errorf("grant %s: computing the password verifier: %w", req.ID, err)
	}
	ciphertext, err = credential.Encrypt([]byte(pw), keys)
	if err != nil {
		return "", nil, fmt.Errorf("grant %s: encrypting the password to the SSH keys of %s: %w", req.ID, req.Requester, err)
	}
	return verifier, ciphertext, nil
}

// Destroy destroys the resources of grant id and deletes its workspace. It
// needs only the state (not the grant file): the template and inputs come
// from jit's record in it. Destroying a grant that has no workspace succeeds
// and does nothing.
func (m *Manager) Destroy(ctx context.Context, id string) (Destroyed, error) {
	return m.destroy(ctx, render.WorkspaceName(id), id)
}

// DestroyWorkspace destroys the grant workspace ws, whichever grant it
// records (used for a workspace that records none).
func (m *Manager) DestroyWorkspace(ctx context.Context, ws string) (Destroyed, error) {
	if !render.IsWorkspaceName(ws) {
		return Destroyed{Workspace: ws}, fmt.Errorf("workspace %s is not a jit grant workspace", ws)
	}
	return m.destroy(ctx, ws, "")
}

// destroy destroys workspace ws of grant id; id is empty when unknown.
func (m *Manager) destroy(ctx context.Context, ws, id string) (Destroyed, error) {
	out := Destroyed{Grant: id, Workspace: ws}
	if id == "" {
		id = "in workspace " + ws
	}
	defer m.lock(ws)()
	release, err := m.acquire(ctx)
	if err != nil {
		return out, fmt.Errorf("grant %s: waiting for a terraform slot: %w", id, err)
	}
	defer release()
	log := m.log.With(LogKeyGrant, id, LogKeyWorkspace, ws)

	admin, err := m.admin(ctx, id)
	if err != nil {
		return out, err
	}
	add, err := m.selectWorkspace(ctx, admin, id, ws, false)
	if errors.Is(err, terraform.ErrWorkspaceMissing) {
		log.Info("grant has no workspace, nothing to destroy")
		return out, nil
	}
	if err != nil {
		return out, err
	}
	out.Existed = true
	adminDir := terraform.Dir{Grant: id, Work: admin.config, Data: add, Env: m.backend.Env()}
	st, err := m.tf.State(ctx, adminDir)
	if err != nil {
		return out, err
	}
	raw, ok := st.Outputs[render.MetaVariable]
	if !ok {
		if n := len(st.Resources); n > 0 {
			return out, fmt.Errorf("grant %s: workspace %s holds %d resources but no jit record, so jit cannot tell which template made them: destroy them with terraform by hand", id, ws, n)
		}
	} else {
		meta, err := render.ParseMeta(raw)
		if err != nil {
			return out, fmt.Errorf("grant %s: workspace %s: %w", id, ws, err)
		}
		if render.WorkspaceName(meta.Grant) != ws {
			return out, fmt.Errorf("grant %s: workspace %s records grant %s, whose workspace is %s", id, ws, meta.Grant, render.WorkspaceName(meta.Grant))
		}
		id, out.Grant = meta.Grant, meta.Grant
		p, err := m.prepare(ctx, id, meta.Template)
		if err != nil {
			return out, err
		}
		vars := render.Vars{Meta: meta, Declared: p.declared}
		if p.declared["password_verifier"] {
			// Destroy needs every input set; the value is never used, since
			// destroy-time provisioners see only the recorded state.
			pw, err := credential.NewPassword()
			if err == nil {
				vars.PasswordVerifier, err = credential.SCRAMVerifier(pw)
			}
			if err != nil {
				return out, fmt.Errorf("grant %s: making a placeholder verifier: %w", id, err)
			}
		}
		body, err := render.VarsJSON(vars)
		if err != nil {
			return out, err
		}
		dd, err := m.selectWorkspace(ctx, p, id, ws, false)
		if err != nil {
			return out, err
		}
		varFile := filepath.Join(dd, render.VarsFileName)
		if err := os.WriteFile(varFile, body, 0o600); err != nil {
			return out, fmt.Errorf("grant %s: writing variables: %w", id, err)
		}
		out.Resources, err = m.tf.Destroy(ctx, terraform.Dir{Grant: id, Work: p.config, Data: dd, Env: m.backend.Env()}, varFile)
		sort.Strings(out.Resources)
		if err != nil {
			return out, err
		}
		m.forget(p, ws)
	}
	err = m.tf.WorkspaceDelete(ctx, terraform.Dir{Grant: id, Work: admin.config, Data: admin.data, Env: m.backend.Env()}, ws)
	if err != nil && !errors.Is(err, terraform.ErrWorkspaceMissing) && !strings.Contains(err.Error(), "doesn't exist") {
		return out, err
	}
	m.forget(admin, ws)
	log.Info("destroyed grant", "resources", out.Resources)
	return out, nil
}

// Workspaces lists the grant workspaces in the state backend with jit's
// record of each. Only a failure to list is an error: a workspace whose
// state cannot be read is returned with Err set, so that one bad workspace
// does not hide the others.
func (m *Manager) Workspaces(ctx context.Context) ([]Workspace, error) {
	admin, err := m.admin(ctx, "")
	if err != nil {
		return nil, err
	}
	names, err := m.tf.Workspaces(ctx, terraform.Dir{Work: admin.config, Data: admin.data, Env: m.backend.Env()})
	if err != nil {
		return nil, fmt.Errorf("listing workspaces in %s: %w", m.backend, err)
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
	st, err := m.tf.State(ctx, terraform.Dir{Work: admin.config, Data: dd, Env: m.backend.Env()})
	if err != nil {
		return Workspace{}, false, fmt.Errorf("workspace %s: %w", ws, err)
	}
	w := Workspace{Name: ws}
	if raw, ok := st.Outputs[render.MetaVariable]; ok {
		meta, err := render.ParseMeta(raw)
		if err != nil {
			return Workspace{}, false, fmt.Errorf("workspace %s: %w", ws, err)
		}
		if render.WorkspaceName(meta.Grant) != ws {
			return Workspace{}, false, fmt.Errorf("workspace %s records grant %s, whose workspace is %s", ws, meta.Grant, render.WorkspaceName(meta.Grant))
		}
		w.Grant, w.Template = meta.Grant, meta.Template
		w.ExpiresAt, _ = time.Parse(time.RFC3339, meta.ExpiresAt)
	}
	w.Complete = complete(st)
	return w, true, nil
}

// complete reports whether st is the result of a complete apply: jit's
// completion output lists the resources that must be there, all are, and
// none is tainted (see render.MetaFile).
func complete(st terraform.State) bool {
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
