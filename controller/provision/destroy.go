package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jitops/jit/controller/credential"
	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/terraform"
)

// Destroy destroys the resources of grant id and deletes its workspace
// (current or legacy name). It needs only the state (not the grant file):
// the template and inputs come from jit's record in it, the template's
// files from the configured tree. Destroying a grant that has no workspace
// succeeds and does nothing, with Existed false: Destroy is idempotent, and
// callers that must not mistake a wrong state location for success check
// Existed (and Used).
func (m *Manager) Destroy(ctx context.Context, id string) (Destroyed, error) {
	return m.destroy(ctx, id, nil)
}

// DestroyGrant is Destroy for a grant whose file the caller still has: when
// its workspace lost jit's record (a destroy that failed halfway removes
// terraform's outputs first) but still holds resources, the template and
// inputs are taken from req as applied until expires, so the rest is
// destroyed rather than left for a human.
func (m *Manager) DestroyGrant(ctx context.Context, req grant.Request, expires time.Time) (Destroyed, error) {
	meta := render.MetaOf(req, expires)
	return m.destroy(ctx, req.ID, &meta)
}

func (m *Manager) destroy(ctx context.Context, id string, fallback *render.Meta) (Destroyed, error) {
	out := Destroyed{Grant: id, Workspace: render.WorkspaceName(id)}
	defer m.lockGrant(id)()
	release, err := m.acquire(ctx)
	if err != nil {
		return out, fmt.Errorf("grant %s: waiting for a terraform slot: %w", id, err)
	}
	defer release()
	admin, err := m.admin(ctx, id)
	if err != nil {
		return out, err
	}
	ws, st, exists, err := m.stateOf(ctx, admin, id)
	if err != nil {
		return out, err
	}
	if !exists {
		m.log.Info("grant has no workspace, nothing to destroy", LogKeyGrant, id, LogKeyWorkspace, ws)
		return out, nil
	}
	return m.destroyIn(ctx, admin, st, ws, id, fallback)
}

// DestroyWorkspace destroys the grant workspace ws, whichever grant it
// records (used for a workspace that records none).
func (m *Manager) DestroyWorkspace(ctx context.Context, ws string) (Destroyed, error) {
	out := Destroyed{Workspace: ws}
	if !render.IsWorkspaceName(ws) {
		return out, fmt.Errorf("workspace %s is not a jit grant workspace", ws)
	}
	defer m.lock(ws)()
	release, err := m.acquire(ctx)
	if err != nil {
		return out, fmt.Errorf("workspace %s: waiting for a terraform slot: %w", ws, err)
	}
	defer release()
	admin, err := m.admin(ctx, "")
	if err != nil {
		return out, err
	}
	st, exists, err := m.workspaceState(ctx, admin, ws)
	if err != nil {
		return out, err
	}
	if !exists {
		m.log.Info("workspace is gone, nothing to destroy", LogKeyWorkspace, ws)
		return out, nil
	}
	return m.destroyIn(ctx, admin, st, ws, "", nil)
}

// workspaceState returns the state of workspace ws, read straight from the
// backend's storage or, when that is not possible, through terraform in the
// admin directory; exists is false when there is no such workspace.
func (m *Manager) workspaceState(ctx context.Context, admin *prepared, ws string) (terraform.State, bool, error) {
	stored, err := m.storedStatesOf(ctx, []string{ws})
	if err == nil {
		for _, s := range stored {
			if s.name == ws {
				if s.err != nil {
					return terraform.State{}, true, fmt.Errorf("workspace %s: reading its state: %w", ws, s.err)
				}
				return s.st, true, nil
			}
		}
		return terraform.State{}, false, nil
	}
	if ctx.Err() != nil {
		return terraform.State{}, false, ctx.Err()
	}
	add, err := m.selectWorkspace(ctx, admin, "", ws, false)
	if errors.Is(err, terraform.ErrWorkspaceMissing) {
		return terraform.State{}, false, nil
	}
	if err != nil {
		return terraform.State{}, false, err
	}
	st, err := m.tf.State(ctx, m.dir("in workspace "+ws, admin, add, m.base))
	return st, true, err
}

// destroyIn destroys the existing workspace ws, whose state is st, of grant
// id (empty when unknown). The caller holds ws's lock and a terraform slot.
func (m *Manager) destroyIn(ctx context.Context, admin *prepared, st terraform.State, ws, id string, fallback *render.Meta) (Destroyed, error) {
	out := Destroyed{Grant: id, Workspace: ws, Existed: true}
	who := id
	if who == "" {
		who = "in workspace " + ws
	}
	log := m.log.With(LogKeyGrant, who, LogKeyWorkspace, ws)
	raw, ok := st.Outputs[render.MetaVariable]
	n := len(st.Resources)
	useFallback := !ok && n > 0 && fallback != nil && fallback.Grant == id && render.IsWorkspaceOf(ws, id)
	if !ok && n > 0 && !useFallback {
		return out, fmt.Errorf("grant %s: workspace %s holds %d resources but no jit record, so jit cannot tell which template made them: destroy them with terraform by hand", who, ws, n)
	}
	if ok || useFallback {
		var meta render.Meta
		var err error
		if useFallback {
			log.Warn("the workspace holds resources but lost jit's record (a destroy failed halfway); destroying them with the grant as the default branch holds it", "resources", n)
			meta = *fallback
		} else if meta, err = render.ParseMeta(raw); err != nil {
			return out, fmt.Errorf("grant %s: workspace %s: %w", who, ws, err)
		}
		if !render.IsWorkspaceOf(ws, meta.Grant) || (id != "" && meta.Grant != id) {
			return out, fmt.Errorf("grant %s: workspace %s records grant %s, whose workspace is %s", who, ws, meta.Grant, render.WorkspaceName(meta.Grant))
		}
		who, out.Grant = meta.Grant, meta.Grant
		// The target recorded at apply: the same server, even after the
		// grant's file and its policy are gone.
		env, err := m.environment(who, meta.Target)
		if err != nil {
			return out, err
		}
		l, err := m.load(who, meta.Template)
		if err != nil {
			return out, err
		}
		p, err := m.prepare(ctx, who, l)
		if err != nil {
			return out, err
		}
		vars := render.Vars{Meta: meta, Declared: p.declared}
		if p.takesPassword() {
			// Destroy needs every input set; the value is never used, since
			// destroy-time provisioners see only the recorded state.
			pw, err := credential.NewPassword()
			if err == nil {
				vars.PasswordVerifier, err = credential.SCRAMVerifier(pw)
			}
			if err != nil {
				return out, fmt.Errorf("grant %s: making a placeholder verifier: %w", who, err)
			}
		}
		body, err := render.VarsJSON(vars)
		if err != nil {
			return out, err
		}
		// st was just read from the backend: ws exists.
		dd, err := m.enterWorkspace(p, who, ws)
		if err != nil {
			return out, err
		}
		varFile := filepath.Join(dd, render.VarsFileName)
		if err := os.WriteFile(varFile, body, 0o600); err != nil {
			return out, fmt.Errorf("grant %s: writing variables: %w", who, err)
		}
		out.Resources, err = m.tf.Destroy(ctx, m.dir(who, p, dd, env), varFile)
		sort.Strings(out.Resources)
		if err != nil {
			return out, err
		}
		m.forget(p, ws)
	}
	if err := m.deleteWorkspace(ctx, admin, who, ws); err != nil {
		return out, err
	}
	m.forget(admin, ws)
	log.Info("destroyed grant", "resources", out.Resources)
	return out, nil
}

// deleteWorkspace deletes the workspace ws of grant who, whose resources are
// destroyed: straight in the pg backend's table when it can be reached (see
// pgDeleteWorkspace), else with `terraform workspace delete` in the admin
// directory. A workspace already gone is success.
func (m *Manager) deleteWorkspace(ctx context.Context, admin *prepared, who, ws string) error {
	if m.backend.Kind == "pg" {
		handled, err := m.pgDeleteWorkspace(ctx, ws)
		// A state lock held elsewhere (another controller's terraform) is
		// waited for a little, as the runner waits for terraform's.
		for pause := 200 * time.Millisecond; handled && errors.Is(err, terraform.ErrLocked) && pause <= 800*time.Millisecond; pause *= 2 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("grant %s: %w", who, err)
			case <-time.After(pause):
			}
			handled, err = m.pgDeleteWorkspace(ctx, ws)
		}
		if handled {
			if err != nil {
				return fmt.Errorf("grant %s: %w", who, err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		m.log.Debug("deleting the workspace without terraform did not work; asking terraform", LogKeyWorkspace, ws, "error", err)
	}
	err := m.tf.WorkspaceDelete(ctx, m.tfDir(who, admin.config, admin.data, m.base), ws)
	if err != nil && !errors.Is(err, terraform.ErrWorkspaceMissing) && !strings.Contains(err.Error(), "doesn't exist") {
		return err
	}
	return nil
}
