package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/terraform"
)

// list returns the admin directory and every workspace name in the
// backend; grantID names the grant the listing is for in errors ("" for
// none).
func (m *Manager) list(ctx context.Context, grantID string) (*prepared, []string, error) {
	admin, err := m.admin(ctx, grantID)
	if err != nil {
		return nil, nil, err
	}
	names, err := m.tf.Workspaces(ctx, m.tfDir("", admin.config, admin.data, m.base))
	if err != nil {
		return nil, nil, fmt.Errorf("listing workspaces in %s: %w", m.backend, err)
	}
	return admin, names, nil
}

// names returns every workspace name in the backend, read straight from
// its storage (see direct.go) or, when that is not possible, listed by
// terraform; grantID names the grant the listing is for in errors ("" for
// none).
func (m *Manager) names(ctx context.Context, grantID string) ([]string, error) {
	names, err := m.storedNames(ctx)
	if err == nil {
		return names, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	m.log.Debug("listing the workspaces without terraform did not work; asking terraform", "backend", m.backend.String(), "error", err)
	_, names, err = m.list(ctx, grantID)
	return names, err
}

// findWorkspace returns the workspace of grant id and its data directory for
// p when it exists: the current name (render.WorkspaceName) or, for a grant
// applied before names carried 128-bit hashes, the legacy name. When
// neither exists it returns the current name, exists false and no data
// directory. The caller holds the grant's locks (lockGrant).
func (m *Manager) findWorkspace(ctx context.Context, p *prepared, id string) (ws, dd string, exists bool, err error) {
	candidates := []string{render.WorkspaceName(id), render.LegacyWorkspaceName(id)}
	for _, ws := range candidates {
		if _, err := os.Stat(filepath.Join(p.grantData(ws), readyMarker)); err == nil {
			return ws, p.grantData(ws), true, nil
		}
	}
	names, err := m.names(ctx, id)
	if err != nil {
		return "", "", false, fmt.Errorf("grant %s: %w", id, err)
	}
	for _, ws := range candidates {
		if !slices.Contains(names, ws) {
			continue
		}
		dd, err := m.selectWorkspace(ctx, p, id, ws, false)
		if errors.Is(err, terraform.ErrWorkspaceMissing) {
			continue // deleted since it was listed
		}
		if err != nil {
			return "", "", false, err
		}
		return ws, dd, true, nil
	}
	return candidates[0], "", false, nil
}

// markUsed makes sure the backend holds render.UsedMarker, before the first
// grant workspace is created in it.
func (m *Manager) markUsed(ctx context.Context, grantID string) error {
	admin, err := m.admin(ctx, grantID)
	if err != nil {
		return err
	}
	defer m.lock(render.UsedMarker)()
	if _, err := m.selectWorkspace(ctx, admin, grantID, render.UsedMarker, true); err != nil {
		return fmt.Errorf("grant %s: marking %s as used by jit: %w", grantID, m.backend, err)
	}
	return nil
}

// Used reports whether jit has ever created a grant workspace in the state
// backend: it holds a grant workspace, or the marker jit creates before the
// first one (render.UsedMarker) and never deletes. A backend that was never
// used by jit holds neither. Callers use it to refuse a state location that
// is probably wrong (a mistyped --state, a fresh directory) instead of
// concluding that no grant exists.
func (m *Manager) Used(ctx context.Context) (bool, error) {
	names, err := m.names(ctx, "")
	if err != nil {
		return false, err
	}
	for _, n := range names {
		if n == render.UsedMarker || render.IsWorkspaceName(n) {
			return true, nil
		}
	}
	return false, nil
}

// WorkspaceNames lists the grant workspaces in the state backend (current
// and legacy names), sorted, without reading their states: a cheap way to
// tell a state that holds no grant at all.
func (m *Manager) WorkspaceNames(ctx context.Context) ([]string, error) {
	names, err := m.names(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if render.IsWorkspaceName(n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// stateOf returns the existing workspace of grant id (the current name or
// the legacy one, see findWorkspace) and its state, read straight from the
// backend's storage, or, when that is not possible, by selecting it in the
// admin directory and asking terraform (that data directory is then add).
// When neither exists it returns the current name and exists false. The
// caller holds the grant's locks.
func (m *Manager) stateOf(ctx context.Context, admin *prepared, id string) (ws string, st terraform.State, exists bool, err error) {
	candidates := []string{render.WorkspaceName(id), render.LegacyWorkspaceName(id)}
	stored, err := m.storedStatesOf(ctx, candidates)
	if err == nil {
		for _, ws := range candidates {
			for _, s := range stored {
				if s.name != ws {
					continue
				}
				if s.err != nil {
					return ws, terraform.State{}, true, fmt.Errorf("grant %s: reading the state of workspace %s: %w", id, ws, s.err)
				}
				return ws, s.st, true, nil
			}
		}
		return candidates[0], terraform.State{}, false, nil
	}
	if ctx.Err() != nil {
		return "", terraform.State{}, false, ctx.Err()
	}
	m.log.Debug("reading a state without terraform did not work; asking terraform", "backend", m.backend.String(), "error", err)
	ws, add, exists, err := m.findWorkspace(ctx, admin, id)
	if err != nil || !exists {
		return ws, terraform.State{}, exists, err
	}
	st, err = m.tf.State(ctx, m.dir(id, admin, add, m.base))
	return ws, st, true, err
}
