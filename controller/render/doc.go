// Package render turns a grant into the files of its terraform workspace:
// the variables as JSON (a *.tfvars.json file), jit's own bookkeeping module
// file, and the state backend configuration. It is pure: values in, bytes
// out, no I/O and no clock.
//
// Nothing here builds HCL or shell text from grant values. Grant values only
// ever appear as JSON string, number, bool, list or object values in the
// variables file, which terraform reads as literal values.
//
// # State backends
//
// Every grant has its own terraform workspace, named by WorkspaceName
// ("jit-" + a readable slug + "-" + 128 bits of the id's SHA-256 in base32);
// IsWorkspaceName also accepts the 40-bit names of older releases
// (LegacyWorkspaceName), so their workspaces stay listed and destroyable.
//
//   - local (default, for development): "local:DIR" keeps each workspace's
//     state in DIR/<workspace>/terraform.tfstate.
//
//   - pg: "pg:CONNSTR" keeps states in PostgreSQL (terraform's pg backend,
//     schema "jit_state" unless Backend.Schema says otherwise, one row per
//     workspace). The connection string reaches only `terraform init`,
//     through a private -backend-config file (Backend.InitConfig) that jit
//     removes once init is done; terraform keeps it in the data directory.
//     It is never in the environment of a command that runs provisioners,
//     and PG_CONN_STR is never inherited (SecretEnv).
//
//   - s3 (configuration only, not built in): to keep states in S3, use a
//     backend block equivalent to
//
//     {"terraform": {"backend": {"s3": {"bucket": "BUCKET", "key": "jit.tfstate",
//     "region": "REGION", "workspace_key_prefix": "jit", "use_lockfile": true}}}}
//
//     terraform then stores workspace W at s3://BUCKET/jit/W/jit.tfstate,
//     with credentials from the usual AWS environment variables.
package render
