package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/template"
	"github.com/jitops/jit/controller/terraform"
)

// layoutVersion changes when the layout of prepared directories does, so
// that old caches are not reused.
const layoutVersion = "2"

const readyMarker = ".jit-ready"

// prepared is an initialised configuration directory: a template (or none,
// for the admin directory) with jit's files, for one backend.
type prepared struct {
	name     string
	root     string
	config   string           // working directory
	data     string           // data directory terraform init filled
	module   *template.Module // the parsed template; nil for the admin directory
	declared map[string]bool  // input variables the template declares
}

func (p *prepared) grantData(ws string) string { return filepath.Join(p.root, "grants", ws) }

// takesPassword reports whether the template declares password_verifier, so
// that jit issues and delivers a password for its grants.
func (p *prepared) takesPassword() bool { return p.declared[passwordInput] }

// passwordInput is the reserved input through which a template receives the
// verifier of the password jit issues.
const passwordInput = "password_verifier"

// loaded is a template read from the configured tree: parsed once, and the
// bytes of every file, ready to be written out.
type loaded struct {
	name   string
	module *template.Module
	files  map[string][]byte
	execs  map[string]bool
}

// load reads and parses template name from the configured templates tree.
// Errors name the grant.
func (m *Manager) load(grantID, name string) (*loaded, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("grant %s: template %s: "+format, append([]any{grantID, name}, args...)...)
	}
	if name == "" || !fs.ValidPath(name) || strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
		return nil, fail("not a template name: want a directory name under %s/", template.Dir)
	}
	mod, problems, err := template.Load(m.cfg.Templates, name)
	if err != nil {
		if errors.Is(err, template.ErrNotFound) {
			return nil, fail("%s/%s does not exist in the revision being applied: add the template or fix the grant", template.Dir, name)
		}
		return nil, fail("%w", err)
	}
	if len(problems) > 0 {
		return nil, fail("%s", joinProblems(problems))
	}
	for _, v := range render.JitVariables {
		if in, ok := mod.Inputs[v]; ok {
			return nil, fail("%s:%d:%d: declares variable %q, which jit reserves for itself: rename it", in.File, in.Pos.Line, in.Pos.Column, v)
		}
	}
	files, execs, err := readTemplate(m.cfg.Templates, path.Join(template.Dir, name))
	if err != nil {
		return nil, fail("%w", err)
	}
	return &loaded{name: name, module: mod, files: files, execs: execs}, nil
}

// prepare returns the initialised configuration directory of template l,
// initialising it on first use. Errors name the grant.
func (m *Manager) prepare(ctx context.Context, grantID string, l *loaded) (*prepared, error) {
	mod := l.module
	var required []string
	for _, r := range mod.Resources {
		if !r.Repeated {
			required = append(required, r.Address)
		}
	}
	declared := map[string]bool{}
	for n := range mod.Inputs {
		declared[n] = true
	}
	meta, err := render.MetaFile(mod.Addresses(), required, declared[passwordInput])
	if err != nil {
		return nil, fmt.Errorf("grant %s: template %s: %w", grantID, l.name, err)
	}
	files := maps.Clone(l.files)
	files[render.MetaFileName] = meta
	return m.initialise(ctx, grantID, l.name, files, l.execs, declared, mod)
}

// admin returns the initialised directory with no template, used for
// backend-wide commands (listing, reading and deleting workspaces).
func (m *Manager) admin(ctx context.Context, grantID string) (*prepared, error) {
	return m.initialise(ctx, grantID, "", map[string][]byte{}, nil, map[string]bool{}, nil)
}

func (m *Manager) initialise(ctx context.Context, grantID, name string, files map[string][]byte, execs, declared map[string]bool, mod *template.Module) (*prepared, error) {
	files = maps.Clone(files)
	backendFile, err := m.backend.Config()
	if err != nil {
		return nil, err
	}
	files[render.BackendFileName] = backendFile
	key := contentKey(files, execs)
	dirName := "_admin-" + key
	if name != "" {
		dirName = name + "-" + key
	}

	m.mu.Lock()
	p, ok := m.templates[dirName]
	m.mu.Unlock()
	if ok {
		return p, nil
	}

	m.initMu.Lock()
	defer m.initMu.Unlock()
	m.mu.Lock()
	p, ok = m.templates[dirName]
	m.mu.Unlock()
	if ok {
		return p, nil
	}
	root := filepath.Join(m.work, dirName)
	p = &prepared{name: name, root: root, config: filepath.Join(root, "config"), data: filepath.Join(root, "data"), declared: declared, module: mod}
	if _, err := os.Stat(filepath.Join(root, readyMarker)); err != nil {
		what := "template " + name
		if name == "" {
			what = "the state backend"
		}
		if err := os.RemoveAll(root); err != nil {
			return nil, fmt.Errorf("preparing %s: %w", what, err)
		}
		if err := writeFiles(p.config, files, execs); err != nil {
			return nil, fmt.Errorf("preparing %s: %w", what, err)
		}
		if err := os.MkdirAll(p.data, 0o700); err != nil {
			return nil, fmt.Errorf("preparing %s: %w", what, err)
		}
		if err := m.init(ctx, grantID, p); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(root, readyMarker), nil, 0o600); err != nil {
			return nil, fmt.Errorf("preparing %s: %w", what, err)
		}
		m.log.Info("initialised template", LogKeyTemplate, name, "dir", root)
	}
	m.mu.Lock()
	m.templates[dirName] = p
	m.mu.Unlock()
	return p, nil
}

// init runs `terraform init` for p. The backend's credentials reach it
// through a 0600 -backend-config file in p's private root, removed when init
// is done; terraform keeps them in the data directory (0700), so no later
// command, and no provisioner, gets them through its environment.
func (m *Manager) init(ctx context.Context, grantID string, p *prepared) error {
	d := m.tfDir(grantID, p.config, p.data, m.base)
	secret, err := m.backend.InitConfig()
	if err != nil {
		return err
	}
	if secret != nil {
		d.BackendConfig = filepath.Join(p.root, "backend-config.json")
		if err := os.WriteFile(d.BackendConfig, secret, 0o600); err != nil {
			return fmt.Errorf("grant %s: writing the state backend's configuration: %w", grantID, err)
		}
		defer os.Remove(d.BackendConfig)
	}
	return m.tf.Init(ctx, d)
}

// selectWorkspace returns the grant's own data directory for p, in which
// workspace ws is selected, creating the workspace when create is set. When
// create is not set and the workspace does not exist, the error satisfies
// errors.Is(err, terraform.ErrWorkspaceMissing). The caller holds ws's lock.
func (m *Manager) selectWorkspace(ctx context.Context, p *prepared, grantID, ws string, create bool) (string, error) {
	dd := p.grantData(ws)
	marker := filepath.Join(dd, readyMarker)
	if _, err := os.Stat(marker); err == nil {
		return dd, nil
	}
	if err := os.RemoveAll(dd); err != nil {
		return "", fmt.Errorf("grant %s: %w", grantID, err)
	}
	if err := copyData(p.data, dd); err != nil {
		return "", fmt.Errorf("grant %s: preparing its terraform data directory: %w", grantID, err)
	}
	d := m.tfDir(grantID, p.config, dd, m.base)
	var err error
	if create {
		// The pg backend takes one backend-wide lock to create any workspace,
		// so concurrent creations conflict; serialise them in this process
		// (the runner still retries conflicts with other processes).
		if m.backend.Kind == "pg" {
			m.createMu.Lock()
		}
		err = m.tf.WorkspaceNew(ctx, d, ws)
		if m.backend.Kind == "pg" {
			m.createMu.Unlock()
		}
		if errors.Is(err, terraform.ErrWorkspaceExists) {
			err = m.tf.WorkspaceSelect(ctx, d, ws)
		}
	} else {
		err = m.tf.WorkspaceSelect(ctx, d, ws)
	}
	if err != nil {
		os.RemoveAll(dd)
		return "", err
	}
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		return "", fmt.Errorf("grant %s: %w", grantID, err)
	}
	return dd, nil
}

// workspaceFile is the file of terraform's data directory that names the
// selected workspace: what `terraform workspace select` writes and every
// later command reads (terraform's layout since 0.10, checked by test
// against the real binary).
const workspaceFile = "environment"

// enterWorkspace is selectWorkspace without terraform, for a workspace ws
// the caller has just read from the backend: it prepares the grant's own
// data directory for p and writes the selection itself, saving a
// `terraform workspace select` process. Should ws have gone meanwhile, the
// next command works in a new empty workspace of that name (terraform's
// backends make one on first use), which destroys nothing and is deleted
// with the grant's. The caller holds ws's lock.
func (m *Manager) enterWorkspace(p *prepared, grantID, ws string) (string, error) {
	dd := p.grantData(ws)
	marker := filepath.Join(dd, readyMarker)
	if _, err := os.Stat(marker); err == nil {
		return dd, nil
	}
	fail := func(err error) (string, error) {
		os.RemoveAll(dd)
		return "", fmt.Errorf("grant %s: preparing its terraform data directory: %w", grantID, err)
	}
	if err := os.RemoveAll(dd); err != nil {
		return fail(err)
	}
	if err := copyData(p.data, dd); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(dd, workspaceFile), []byte(ws), 0o600); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		return fail(err)
	}
	return dd, nil
}

// forget removes the grant's data directory for p (after its workspace is
// gone, so a re-created workspace is selected afresh).
func (m *Manager) forget(p *prepared, ws string) {
	if err := os.RemoveAll(p.grantData(ws)); err != nil {
		m.log.Warn("removing a grant's data directory", LogKeyWorkspace, ws, "error", err)
	}
}

// readTemplate reads every file of the template directory dir in fsys,
// except terraform's own leftovers, keyed by slash path relative to dir, and
// says which are executable.
func readTemplate(fsys fs.FS, dir string) (map[string][]byte, map[string]bool, error) {
	files := map[string][]byte{}
	execs := map[string]bool{}
	err := fs.WalkDir(fsys, dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		base := e.Name()
		if e.IsDir() {
			if p != dir && (base == ".terraform" || strings.HasPrefix(base, ".")) {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file (symbolic links are not allowed in templates)", p)
		}
		if rel == render.MetaFileName || rel == render.BackendFileName {
			return fmt.Errorf("%s: jit writes a file of this name itself: rename the template's", p)
		}
		if strings.Contains(base, ".tfstate") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files[rel] = b
		if info, err := e.Info(); err == nil && info.Mode().Perm()&0o111 != 0 {
			execs[rel] = true
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	return files, execs, nil
}

func joinProblems(ps []grant.Problem) string {
	grant.SortProblems(ps)
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "; ")
}

func contentKey(files map[string][]byte, execs map[string]bool) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	io.WriteString(h, layoutVersion)
	for _, n := range names {
		fmt.Fprintf(h, "\x00%s\x00%t\x00%d\x00", n, execs[n], len(files[n]))
		h.Write(files[n])
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func writeFiles(dir string, files map[string][]byte, execs map[string]bool) error {
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		mode := os.FileMode(0o600)
		if execs[name] {
			mode = 0o700
		}
		if err := os.WriteFile(p, b, mode); err != nil {
			return err
		}
	}
	return os.MkdirAll(dir, 0o700)
}

// copyData copies terraform's data directory src to dst for one grant.
// Installed providers are linked rather than copied: they are read-only
// after init and may be large.
func copyData(src, dst string) error {
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if e.IsDir() {
			if rel == "providers" {
				if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
					return err
				}
				if err := os.Symlink(p, target); err != nil {
					return err
				}
				return fs.SkipDir
			}
			if strings.HasPrefix(rel, "grants") && rel != "." {
				return fs.SkipDir
			}
			return os.MkdirAll(target, 0o700)
		}
		if e.Name() == workspaceFile || e.Name() == readyMarker {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
}

func sortWorkspaces(ws []Workspace) {
	sort.Slice(ws, func(i, j int) bool { return ws[i].Name < ws[j].Name })
}
