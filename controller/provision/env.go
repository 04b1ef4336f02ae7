package provision

import (
	"fmt"
	"os"
	"strings"

	"github.com/jitops/jit/controller/render"
)

// environment is what terraform, and the provisioners of a template, run
// with for one grant: which variables of jit's own environment they inherit
// and what is added.
type environment struct {
	// target is the grant's target, "" for the controller's own settings.
	target string
	// extra holds the target's settings and resolved secrets.
	extra map[string]string
	// settings are the names of the target's plain settings (env, not
	// secret_env): a template may deliver them (PGHOST, PGPORT) even though
	// the controller's own variables of those names are hidden.
	settings map[string]bool
	// hidden are the variables never inherited.
	hidden map[string]bool
	// pg hides every inherited PG* variable (a grant bound to a target
	// reaches no server through the controller's own settings).
	pg bool
}

// inherit reports whether jit's variable name reaches terraform. jit's own
// settings (JIT_*: the state's connection string, key files, the App's
// credentials) never do, whatever the grant.
func (e environment) inherit(name string) bool {
	return !e.hidden[name] && !strings.HasPrefix(name, "JIT_") && !(e.pg && strings.HasPrefix(name, "PG"))
}

// lookup returns the value of name in the environment terraform runs with
// ("" when unset).
func (e environment) lookup(name string) string {
	if v, ok := e.extra[name]; ok {
		return v
	}
	if e.inherit(name) {
		return os.Getenv(name)
	}
	return ""
}

// environment returns the environment of grant id applied to target
// (""  for none):
//
//   - the state backend's credential variables (render.SecretEnv) and the
//     variables the targets' secrets are read from are never inherited;
//   - for a target, neither is any variable a configured target sets nor
//     any PG* variable of the controller's, and the target's own settings
//     and secrets, read now, are added;
//   - without a target, the rest of the controller's environment is
//     inherited as it is.
//
// A target this controller has not configured is an error.
func (m *Manager) environment(id, target string) (environment, error) {
	set := m.cfg.Targets
	e := environment{target: target, hidden: set.SecretSources()}
	for _, name := range render.SecretEnv {
		e.hidden[name] = true
	}
	if target == "" {
		return e, nil
	}
	t, ok := set.Get(target)
	if !ok {
		configured := "none is configured"
		if names := set.Names(); len(names) > 0 {
			configured = "configured: " + strings.Join(names, ", ")
		}
		return environment{}, fmt.Errorf("grant %s: target %s is not configured on this controller (%s): declare it in the targets file (--targets or JIT_TARGETS), or fix the policies that allow it", id, target, configured)
	}
	for name := range set.Controlled() {
		e.hidden[name] = true
	}
	e.pg = true
	extra, err := t.Environ(os.LookupEnv)
	if err != nil {
		return environment{}, fmt.Errorf("grant %s: %w", id, err)
	}
	e.extra = extra
	e.settings = map[string]bool{}
	for name := range t.Env {
		e.settings[name] = true
	}
	return e, nil
}
