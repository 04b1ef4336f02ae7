// Package reconcile makes the grants that exist match the grants that
// should: it is level-triggered, so a missed webhook, a crash or a dropped
// scheduled run heals on the next pass.
//
// Desired state comes from a Source (for the CLI: grant files present at the
// branch head, expiring at their introducing commit's time plus duration;
// the App adds decision verification in its own Source). Actual state comes
// from a Provisioner (the terraform workspaces in the state backend). A pass
// applies what is missing or incompletely applied, destroys what is expired
// or whose grant is gone, and reports each action. A failure of one grant
// never stops the others; it is reported with the grant's id and, because
// nothing is recorded until terraform succeeds, the next pass retries it.
//
// The package imports no adapter: the shell (controller/cli, the App) wires
// it to controller/provision and to git.
package reconcile
