// Package provision is jit's workspace manager: it turns a grant into
// resources and back, through terraform (controller/terraform), with one
// terraform workspace per grant in the configured state backend.
//
// Templates are read from the fs.FS given in Config.Templates: the tree of
// the revision being applied, never a working tree. Each template is parsed
// once per apply by package template, which also yields its resources,
// module calls and outputs; the grant's scope is checked against it
// (template.Module.CheckScope) before any workspace is created or any
// password issued.
//
// # How templates are initialised once and shared
//
// terraform-exec forbids TF_WORKSPACE (it deletes it from every command's
// environment and insists on `terraform workspace select`), and `workspace
// select` records the choice in the data directory's "environment" file. One
// initialised directory shared by concurrent grants would therefore race on
// that file. Instead:
//
//   - each (template contents, backend) pair gets one configuration
//     directory: a copy of templates/<name>, jit's bookkeeping file
//     (render.MetaFile) and the backend file (render.Backend.Config),
//     initialised once (`terraform init`, serialised process-wide) into a
//     template data directory;
//   - each grant gets its own TF_DATA_DIR, copied from the template's data
//     directory (installed providers are linked, not copied), in which its
//     workspace is selected once. Its commands run in the shared configuration
//     directory with that data directory, so concurrent grants never share
//     mutable terraform files and no grant runs `terraform init`.
//
// Directories persist under the work directory, keyed by a hash of the
// template's files and of the backend, so a later run reuses them and a
// changed template is initialised afresh.
//
// # What runs without terraform
//
// Every terraform process costs far more than the work it does here, so
// what needs no plan runs without one (see direct.go), falling back to
// terraform when the backend's storage cannot be read: listing workspace
// names and reading states are queries (pg) or file reads (local); a
// destroy selects the workspace it has just read by writing the data
// directory's "environment" file itself; and on pg an emptied workspace's
// row is deleted in one transaction that holds terraform's own lock on it.
// A destroy is then one terraform process, a new grant's apply two
// (`workspace new`, `apply`).
//
// # Workspace names
//
// A grant's workspace is render.WorkspaceName of its id: a readable slug and
// 128 bits of its SHA-256. Workspaces named by older jit releases (a 40-bit
// hash, render.LegacyWorkspaceName) are still listed, applied in place and
// destroyed; new grants never get such a name. Before it creates the first
// grant workspace in a backend, the Manager creates the workspace
// render.UsedMarker, which it never deletes, so that Used can tell a backend
// whose grants were all destroyed from one jit never used (a wrong --state).
//
// # What is recorded in the state
//
// Every workspace's state holds two outputs of jit's own: "jit_grant", the
// grant's bookkeeping record (render.Meta: id, template, requester, expiry and
// scope, no secrets), so a grant whose file is gone can still be destroyed;
// and "jit_complete", which depends on every resource and module of the
// template and so exists only after a complete apply. A workspace without it
// (for example after terraform was killed mid-apply) is applied again.
//
// # Credentials
//
// A template that declares the input password_verifier gets the SCRAM-SHA-256
// verifier of a password jit generates; the password itself never reaches
// terraform. Such a template must declare an output "connection", an object
// of strings telling the requester how to connect (for postgres-role: role
// and database), and may declare "connection_env", an object mapping more
// credential keys to names of environment variables, whose values jit takes
// from the environment terraform ran with (for postgres-role: host from
// PGHOST, port from PGPORT; unset or empty variables are left out). Names
// that look like secrets (containing PASSWORD, PASSFILE, SECRET, TOKEN, KEY
// or CONN_STR), TF_* and the backend's own variables are refused.
//
// The password is delivered once, after the apply succeeded: jit encrypts a
// credential.Payload (JSON: grant, template, requester, expires_at,
// connection, password) to the requester's SSH keys and hands it to the
// CredentialSink, then records in the state (the sensitive output
// render.DeliveredVariable) the verifier of the delivered password. Later
// applies of the grant (an extension, a retry, Reassert) pass that same
// verifier again: the password does not change and nothing is delivered. A
// workspace whose template takes a password but whose delivery is not
// recorded is incomplete, so the next apply issues a fresh password and
// delivers it; a password that was never delivered is never kept. The
// credential's expires_at is the expiry when it was issued: an extension
// does not deliver a new one.
//
// # Drift
//
// Reassert applies a grant and forces terraform to re-create the template's
// re-runnable resources (template.Resource.Rerunnable: terraform_data with
// create-time provisioners and no destroy-time one). A template that keeps
// its target as the grant says through provisioners does so in such a
// resource, written as an idempotent "ensure" step that creates what is
// missing and resets what was changed without dropping anything; replacing
// it then has no effect but re-running that step. Resources of real
// providers are refreshed by terraform itself and need no forcing. Apply
// alone never re-runs a resource whose inputs did not change.
//
// # Targets and the environment terraform runs with
//
// A grant bound to a named target (Request.Target, resolved from the
// policies by package desired and recorded in render.Meta so that destroy
// uses the same one) runs terraform with jit's environment minus TF_*,
// minus every variable any configured target sets, minus every PG*
// variable, plus that target's settings and its secrets read at that moment
// (package target). Its template reaches that target and no other. A grant
// bound to a target this controller has not configured (Config.Targets)
// fails before anything is created. A grant without a target runs with
// jit's own environment (for postgres-role: PGHOST, PGPORT, PGUSER,
// PGPASSWORD or PGPASSFILE, PGSSLMODE), as before targets existed.
//
// Whatever the target, terraform never inherits the state backend's
// credential variables (render.SecretEnv) nor the variables targets' secrets
// are read from. The pg backend's connection string reaches only `terraform
// init`, through a 0600 -backend-config file removed once init is done;
// terraform keeps it in the template's private data directory, so plan,
// apply and destroy, and the provisioners they run, never get it through
// their environment. Since terraform's environment carries the target's
// PG* variables, which the pg backend's driver also reads for settings the
// connection string leaves out, give --state pg: a complete connection
// string (host, port, user, sslmode, and a password or passfile).
package provision
