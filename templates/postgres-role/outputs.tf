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
