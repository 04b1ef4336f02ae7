# Production databases: short grants, a ticket, one approval from a code owner
# of the grant file (see .github/CODEOWNERS). Break-glass is allowed for up to
# an hour and must be reviewed within a day.
policy "prod" {
  description  = "Production PostgreSQL access"
  paths        = ["access/prod/**"]
  templates    = ["postgres-role"]
  max_duration = "4h"
  approvals    = 1
  ticket       = "^[A-Z]+-[0-9]+$"
  # Bind prod grants to the operator's named targets (README "Targets") so
  # that they can reach only the production servers, for example:
  # targets    = ["prod-orders"]

  break_glass {
    allowed       = true
    max_duration  = "1h"
    review_window = "24h"
  }
}
