package provision

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/jitops/jit/controller/grant"
	"github.com/jitops/jit/controller/render"
	"github.com/jitops/jit/controller/terraform"
)

// Apply creates or updates the resources of req, which expires at expires,
// in the grant's own workspace.
//
// Before anything is created or issued, the template is parsed (once) and
// req's scope is checked against it (template.Module.CheckScope): a scope
// the template's own rules reject fails here, with no workspace made and no
// password issued.
//
// When the template takes a password (declares password_verifier), Apply
// passes terraform only the password's SCRAM verifier, and:
//
//   - if the workspace records a password that was delivered (a re-apply: an
//     extension, an interrupted run, a drift pass), it passes the same
//     verifier again, so the role's password does not change and nothing is
//     delivered;
//   - otherwise (a first apply, or one whose earlier attempt failed before
//     its password was delivered) it issues a new password, applies, and
//     only once the apply succeeded delivers the credential (the password
//     and the template's connection settings, see credential.Payload)
//     encrypted to the requester's SSH keys, then records the delivery in
//     the state. A failure before that record leaves the workspace
//     incomplete, so the next apply issues a fresh password.
func (m *Manager) Apply(ctx context.Context, req grant.Request, expires time.Time) (Applied, error) {
	return m.apply(ctx, req, expires, false)
}

// Reassert applies req like Apply and also re-runs what the template
// ensures by provisioners, so that the target converges to the grant after
// changes made by hand (a role dropped, an expiry moved): it forces the
// replacement of every re-runnable resource (template.Resource.Rerunnable:
// a terraform_data resource with create-time provisioners and no
// destroy-time one) that the state holds. Resources of real providers need
// no forcing: terraform's refresh already sees their drift. Reassert never
// issues a new password for a grant whose password was delivered.
func (m *Manager) Reassert(ctx context.Context, req grant.Request, expires time.Time) (Applied, error) {
	return m.apply(ctx, req, expires, true)
}

func (m *Manager) apply(ctx context.Context, req grant.Request, expires time.Time, reassert bool) (Applied, error) {
	out := Applied{Grant: req.ID, Workspace: render.WorkspaceName(req.ID)}
	defer m.lockGrant(req.ID)()
	release, err := m.acquire(ctx)
	if err != nil {
		return out, fmt.Errorf("grant %s: waiting for a terraform slot: %w", req.ID, err)
	}
	defer release()

	// The target first: a grant for a target this controller cannot reach
	// fails before anything is created or issued.
	env, err := m.environment(req.ID, req.Target)
	if err != nil {
		return out, err
	}
	l, err := m.load(req.ID, req.Template)
	if err != nil {
		return out, err
	}
	// CheckScope also refuses reserved inputs and jit's own variables: a
	// template may declare neither (see load).
	if problems := l.module.CheckScope(req); len(problems) > 0 {
		return out, fmt.Errorf("grant %s: the scope does not fit template %s: %s", req.ID, req.Template, joinProblems(problems))
	}
	if _, pw := l.module.Inputs[passwordInput]; pw && !l.module.HasOutput(connectionOutput) {
		return out, fmt.Errorf("grant %s: template %s takes a password_verifier but declares no output %q: declare the connection settings the requester needs (see the provision package's documentation)", req.ID, req.Template, connectionOutput)
	}
	p, err := m.prepare(ctx, req.ID, l)
	if err != nil {
		return out, err
	}
	vars := render.Vars{Meta: render.MetaOf(req, expires), Declared: p.declared}

	ws, dd, exists, err := m.findWorkspace(ctx, p, req.ID)
	if err != nil {
		return out, err
	}
	out.Workspace = ws
	log := m.log.With(LogKeyGrant, req.ID, LogKeyWorkspace, ws, LogKeyTemplate, req.Template)
	var st terraform.State
	if exists && (p.takesPassword() || reassert) {
		if st, err = m.tf.State(ctx, m.dir(req.ID, p, dd, env)); err != nil {
			return out, err
		}
	}
	var fresh *issued
	if p.takesPassword() {
		if v := deliveredVerifier(st); v != "" {
			vars.PasswordVerifier, vars.DeliveredVerifier = v, v
		} else {
			if fresh, err = m.issue(ctx, req); err != nil {
				return out, err
			}
			vars.PasswordVerifier = fresh.verifier
		}
	}
	body, err := render.VarsJSON(vars)
	if err != nil {
		return out, err
	}
	if !exists {
		if err := m.markUsed(ctx, req.ID); err != nil {
			return out, err
		}
		if dd, err = m.selectWorkspace(ctx, p, req.ID, ws, true); err != nil {
			return out, err
		}
	}
	varFile := filepath.Join(dd, render.VarsFileName)
	if err := os.WriteFile(varFile, body, 0o600); err != nil {
		return out, fmt.Errorf("grant %s: writing variables: %w", req.ID, err)
	}
	var replace []string
	if reassert {
		replace = rerunnable(p, st)
	}
	out.Resources, err = m.tf.Apply(ctx, m.dir(req.ID, p, dd, env), varFile, replace...)
	sort.Strings(out.Resources)
	if err != nil {
		return out, err
	}
	if fresh != nil {
		if err := m.deliver(ctx, req, vars.Meta, p, dd, env, fresh); err != nil {
			return out, err
		}
		out.Delivered = true
		// Record the delivery, so later applies keep this password.
		vars.DeliveredVerifier = vars.PasswordVerifier
		body, err := render.VarsJSON(vars)
		if err == nil {
			err = os.WriteFile(varFile, body, 0o600)
		}
		if err == nil {
			_, err = m.tf.Apply(ctx, m.dir(req.ID, p, dd, env), varFile)
		}
		if err != nil {
			return out, fmt.Errorf("grant %s: the credentials were delivered, but recording that in the state failed, so the next apply issues and delivers a new password: %w", req.ID, err)
		}
	}
	verb := "applied grant"
	if reassert {
		verb = "reasserted grant"
	}
	log.Info(verb, "resources", out.Resources, "expires_at", vars.Meta.ExpiresAt, "delivered", out.Delivered, "target", req.Target)
	return out, nil
}

// dir is where terraform runs for grant id in p with data directory dd,
// in environment env.
func (m *Manager) dir(id string, p *prepared, dd string, env environment) terraform.Dir {
	return m.tfDir(id, p.config, dd, env)
}

// tfDir is a terraform command's directories for grant id in environment
// env. Only `terraform init` gets the backend's credentials (initialise).
func (m *Manager) tfDir(id, work, data string, env environment) terraform.Dir {
	return terraform.Dir{Grant: id, Work: work, Data: data, Env: env.extra, Inherit: env.inherit}
}

// rerunnable returns the addresses Reassert forces terraform to replace:
// the template's re-runnable resources that st holds (one not in the state
// is created by the apply anyway).
func rerunnable(p *prepared, st terraform.State) []string {
	have := map[string]bool{}
	for _, r := range st.Resources {
		have[r.Address] = true
	}
	var out []string
	for _, r := range p.module.Resources {
		if r.Rerunnable() && have[r.Address] {
			out = append(out, r.Address)
		}
	}
	return out
}
