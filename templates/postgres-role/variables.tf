# Inputs of the postgres-role template.
#
# Scope inputs (set in a grant file's `scope:`) are type-checked by
# `jit validate` against the declarations below. Reserved inputs are supplied
# by the controller and may not appear in a grant's scope.

variable "database" {
  description = "Database the temporary login role may connect to (a lower-case PostgreSQL identifier)."
  type        = string

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,56}$", var.database))
    error_message = "The database must be a lower-case PostgreSQL identifier: a letter or underscore, then letters, digits or underscores, at most 57 characters (so that its group roles fit in 63)."
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

variable "connection_limit" {
  description = "How many sessions the login role may have open at once."
  type        = number
  default     = 3

  validation {
    condition     = var.connection_limit >= 1 && var.connection_limit <= 20 && floor(var.connection_limit) == var.connection_limit
    error_message = "The connection_limit must be a whole number from 1 to 20."
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

  validation {
    condition     = can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", var.expires_at)) && can(formatdate("YYYY", var.expires_at))
    error_message = "The expires_at must be an RFC 3339 UTC time such as 2024-05-01T14:00:00Z."
  }
}

variable "password_verifier" {
  description = "SCRAM-SHA-256 verifier of the generated password; the plaintext never reaches terraform."
  type        = string
  sensitive   = true
  # Checked by a precondition in main.tf rather than a validation block:
  # terraform prints the value of a variable whose validation fails, even a
  # sensitive one, and this one would be a plaintext password by mistake.
}
