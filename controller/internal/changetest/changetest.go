// Package changetest holds a small access repository's files for the tests
// of packages change and validate: governing files (CODEOWNERS, two
// policies, one template) and grant files. Test-only.
package changetest

import (
	"maps"
	"testing/fstest"
)

// Governing is a small access repository's governing files: @acme/dba owns
// access/prod/ and (with @acme/developers) access/staging/, except
// access/staging/unowned/; policy prod needs a ticket and allows 4h (1h
// break-glass), policy staging 24h; template pg takes database and
// privileges.
var Governing = map[string]string{
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

// ProdGrant is a valid grant for alice under access/prod/.
const ProdGrant = `template: pg
requester: alice
duration: 2h
reason: Investigate stuck orders
ticket: INC-1234
scope:
  database: orders
`

// StagingGrant is a valid grant for bob under access/staging/.
const StagingGrant = `template: pg
requester: bob
duration: 8h
reason: Rehearse the migration
scope:
  database: orders
  privileges: write
`

// Tree returns the governing files plus extra (an empty value deletes).
func Tree(extra map[string]string) map[string]string {
	out := maps.Clone(Governing)
	for k, v := range extra {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// MapFS turns files into an fs.FS.
func MapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for k, v := range files {
		fsys[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return fsys
}
