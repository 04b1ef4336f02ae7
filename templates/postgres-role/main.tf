# A temporary PostgreSQL login role for one grant.
#
# Values reach psql only through each provisioner's `environment` and psql
# variables (:"name" for identifiers, :'value' for literals) read with
# \getenv in the .sql files next to this one. No value is ever part of a
# command line or of SQL text. See README.md.

terraform {
  required_version = ">= 1.5.0"
}

locals {
  # The role name: "jit_" + a slug of the grant id (lower-case letters,
  # digits and "_", at most 26 bytes) + "_" + the first 32 hex digits (128
  # bits) of sha256(grant_id). At most 63 bytes, so PostgreSQL never
  # truncates it; two grant ids share a name only if their hashes collide in
  # 128 bits. The slug is for people; the hash makes it unique.
  slug = trim(substr(trim(replace(lower(var.grant_id), "/[^a-z0-9]+/", "_"), "_"), 0, 26), "_")
  role = join("_", compact(["jit", local.slug, substr(sha256(var.grant_id), 0, 32)]))

  # The pre-existing group role the login role joins: <database>_read or
  # <database>_write (see README.md).
  group_role = "${var.database}_${var.privileges}"

  # What an auditor sees in psql's \du+ (whose "Attributes" column also shows
  # the expiry, "Password valid until"), and how ensure.sql recognises the
  # grant's own role. The expiry is not part of the comment, so an extension
  # does not replace the role.
  comment = "jit grant ${var.grant_id} for ${var.requester}"

  # Sessions of the role that stay idle this long (in or out of a
  # transaction) are ended by PostgreSQL; see README.md for what this does
  # and does not cover.
  idle_timeout = "15min"

  # psql's connection comes from the environment terraform runs in (PGHOST,
  # PGPORT, PGUSER, PGPASSWORD, PGSSLMODE, ...); only the database is ours.
  psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"]

  # What ensure.sql needs.
  ensure_env = {
    PGDATABASE           = var.database
    JIT_ROLE             = local.role
    JIT_DATABASE         = var.database
    JIT_GROUP_ROLE       = local.group_role
    JIT_CONNECTION_LIMIT = tostring(var.connection_limit)
    JIT_COMMENT          = local.comment
    JIT_EXPIRES_AT       = var.expires_at
    JIT_IDLE_TIMEOUT     = local.idle_timeout
    # Stays sensitive: terraform then hides the provisioner's streamed
    # output, but still reports psql's output when the command fails.
    JIT_PASSWORD_VERIFIER = var.password_verifier
  }
}

# The role's life: created (through ensure.sql) with its password verifier,
# expiry, group and connection limit; on destroy its sessions are terminated
# and it is dropped. Replaced (dropped and created again) when its name,
# database, group, connection limit or comment would change.
resource "terraform_data" "role" {
  # Everything the destroy provisioner needs, since it may only use self.
  input = {
    role     = local.role
    database = var.database
  }

  triggers_replace = [local.role, var.database, local.group_role, var.connection_limit, local.comment]

  lifecycle {
    precondition {
      condition     = can(regex("^SCRAM-SHA-256\\$[0-9]+:[A-Za-z0-9+/]+={0,2}\\$[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$", var.password_verifier))
      error_message = "The password_verifier must be a SCRAM-SHA-256 verifier (SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>), never a plaintext password."
    }
  }

  provisioner "local-exec" {
    interpreter = local.psql
    command     = "${path.module}/ensure.sql"
    environment = merge(local.ensure_env, { PGAPPNAME = "jit postgres-role create" })
  }

  provisioner "local-exec" {
    when        = destroy
    interpreter = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"]
    command     = "${path.module}/destroy.sql"
    environment = {
      PGDATABASE = self.input.database
      PGAPPNAME  = "jit postgres-role destroy"
      JIT_ROLE   = self.input.role
    }
  }
}

# Keeps the role as the grant says. Runs ensure.sql again when the expiry (an
# extension) or the password changes, and whenever jit re-asserts the grant:
# it has a create-time provisioner and no destroy-time one, so jit replaces
# it to re-run ensure.sql (see README.md, "Drift"). It never drops the role:
# open sessions survive.
resource "terraform_data" "login" {
  depends_on       = [terraform_data.role]
  triggers_replace = [var.expires_at, sha256(var.password_verifier)]

  provisioner "local-exec" {
    interpreter = local.psql
    command     = "${path.module}/ensure.sql"
    environment = merge(local.ensure_env, { PGAPPNAME = "jit postgres-role ensure" })
  }
}
