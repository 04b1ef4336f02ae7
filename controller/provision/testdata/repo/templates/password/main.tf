# A template that takes a password, without a real target: the verifier is
# kept in the state (so tests can check it against the delivered password).

variable "value" {
  type = string
}

variable "fail" {
  description = "Makes the provisioner fail, standing in for a target that refuses the apply."
  type        = bool
  default     = false
}

variable "connection_env" {
  description = "Becomes the connection_env output: credential keys filled from the environment."
  type        = map(string)
  default     = {}
}

variable "grant_id" {
  type = string
}

variable "requester" {
  type = string
}

variable "password_verifier" {
  type      = string
  sensitive = true
}

resource "terraform_data" "login" {
  input = {
    grant_id  = var.grant_id
    requester = var.requester
    verifier  = var.password_verifier
  }

  provisioner "local-exec" {
    command     = "test \"$FAIL\" != true"
    environment = { FAIL = var.fail }
  }
}

output "connection" {
  value = {
    user  = "user-of-${var.grant_id}"
    value = var.value
  }
}

output "connection_env" {
  value = var.connection_env
}
