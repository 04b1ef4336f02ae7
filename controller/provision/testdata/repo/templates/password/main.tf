variable "value" {
  type = string
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
}
