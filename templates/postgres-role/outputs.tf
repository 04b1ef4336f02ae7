output "role" {
  description = "Name of the temporary login role."
  value       = terraform_data.role.output.role
}

output "database" {
  description = "Database the role may connect to."
  value       = terraform_data.role.output.database
}

output "group_role" {
  description = "Group role the login role is a member of."
  value       = local.group_role
}

# What jit puts into the credential it delivers to the requester, next to the
# password (see README.md, "The credential").
output "connection" {
  description = "Connection settings delivered to the requester with the password."
  value = {
    role     = terraform_data.role.output.role
    database = terraform_data.role.output.database
  }
}

output "connection_env" {
  description = "Credential keys jit fills from the environment terraform ran with: key = environment variable."
  value = {
    host = "PGHOST"
    port = "PGPORT"
  }
}
