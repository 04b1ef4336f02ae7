// Package provision is jit's workspace manager: it turns a grant into
// resources and back, through terraform (controller/terraform), with one
// terraform workspace per grant in the configured state backend.
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
// # What is recorded in the state
//
// Every workspace's state holds two outputs of jit's own: "jit_grant", the
// grant's bookkeeping record (render.Meta: id, template, requester, expiry and
// scope, no secrets), so a grant whose file is gone can still be destroyed;
// and "jit_complete", which depends on every resource and module of the
// template and so exists only after a complete apply. A workspace without it
// (for example after terraform was killed mid-apply) is applied again.
//
// # Target connection settings
//
// terraform inherits jit's environment except TF_* variables, so templates
// reach their targets through the usual variables (for postgres-role:
// PGHOST, PGPORT, PGUSER, PGPASSWORD or PGPASSFILE, PGSSLMODE).
package provision
