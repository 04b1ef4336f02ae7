# Inputs of the postgres-role template.
#
# Scope inputs (set in a grant file's `scope:`) are type-checked by
# `jit validate` against the declarations below. Reserved inputs are supplied
# by the controller and may not appear in a grant's scope.

variable "database" {
  description = "Database the temporary login role may connect to (a lower-case PostgreSQL identifier)."
  type        = string

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.database))
    error_message = "The database must be a lower-case PostgreSQL identifier: a letter or underscore, then letters, digits or underscores, at most 63 characters."
  }
}

variable "privileges" {
  description = "\"read\" joins the database's read group role, \"write\" its write group role."
  type        = string
  default     = "read"

  validation {
    condition     = contains(["read", "write"], var.privileges)
    error_message = "The privileges must be \"read\" or \"write\"."
  }
}

# ---- reserved inputs, supplied by the controller ----

variable "grant_id" {
  description = "The grant's id (its path below access/ without .yaml)."
  type        = string
}

variable "requester" {
  description = "GitHub login of the person the access is for."
  type        = string
}

variable "expires_at" {
  description = "When access ends, RFC 3339 UTC; the role's VALID UNTIL."
  type        = string
}

variable "password_verifier" {
  description = "SCRAM-SHA-256 verifier of the generated password; the plaintext never reaches terraform."
  type        = string
  sensitive   = true
}
