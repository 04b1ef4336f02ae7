package validate_test

import (
	"maps"
	"testing/fstest"
)

// governing is a small access repository's governing files.
var governing = map[string]string{
	".github/CODEOWNERS": `# owners
/access/prod/     @acme/dba
/access/staging/  @acme/dba @acme/developers
/access/staging/unowned/
/policies/        @acme/security
/templates/       @acme/security
`,
	"policies/prod.hcl": `policy "prod" {
  paths        = ["access/prod/**"]
  templates    = ["pg"]
  max_duration = "4h"
  approvals    = 1
  ticket       = "^[A-Z]+-[0-9]+$"
  break_glass {
    allowed      = true
    max_duration = "1h"
  }
}
`,
	"policies/staging.hcl": `policy "staging" {
  paths        = ["access/staging/**", "access/unowned/**"]
  templates    = ["pg"]
  max_duration = "24h"
  approvals    = 1
}
`,
	"templates/pg/variables.tf": `variable "database" {
  type = string
  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.database))
    error_message = "The database must be a lower-case PostgreSQL identifier."
  }
}
variable "privileges" {
  type    = string
  default = "read"
}
variable "grant_id" {
  type = string
}
`,
	"templates/pg/main.tf": "resource \"terraform_data\" \"role\" {\n  input = var.database\n}\n",
}

const prodGrant = `template: pg
requester: alice
duration: 2h
reason: Investigate stuck orders
ticket: INC-1234
scope:
  database: orders
`

const stagingGrant = `template: pg
requester: bob
duration: 8h
reason: Rehearse the migration
scope:
  database: orders
  privileges: write
`

// tree returns the governing files plus extra (an empty value deletes).
func tree(extra map[string]string) map[string]string {
	out := maps.Clone(governing)
	for k, v := range extra {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for k, v := range files {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return fsys
}
