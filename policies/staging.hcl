# Staging databases: a working day of access, one approval, no ticket needed.
policy "staging" {
  description  = "Staging PostgreSQL access"
  paths        = ["access/staging/**"]
  templates    = ["postgres-role"]
  max_duration = "24h"
  approvals    = 1
  # targets    = ["staging"]   # see README "Targets": keeps staging grants off prod
}
