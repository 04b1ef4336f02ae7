# A template with only terraform's built-in terraform_data resource, for
# fast tests of the workspace manager.

variable "value" {
  type = string
}

variable "sleep" {
  description = "Seconds the create provisioner sleeps (to test interrupted applies)."
  type        = number
  default     = 0
}

variable "marker_dir" {
  description = "When set, create writes DIR/<grant_id> and destroy removes it, standing in for a real target."
  type        = string
  default     = ""
}

variable "grant_id" {
  type = string
}

variable "expires_at" {
  type = string
}

resource "terraform_data" "grant" {
  input = {
    value      = var.value
    grant_id   = var.grant_id
    marker_dir = var.marker_dir
  }

  provisioner "local-exec" {
    command = "if [ -n \"$DIR\" ]; then printf '%s' \"$VALUE\" > \"$DIR/$(printf '%s' \"$GRANT\" | tr / _)\"; fi; sleep \"$SLEEP\""
    environment = {
      DIR   = var.marker_dir
      GRANT = var.grant_id
      VALUE = var.value
      SLEEP = var.sleep
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "if [ -n \"$DIR\" ]; then rm -f \"$DIR/$(printf '%s' \"$GRANT\" | tr / _)\"; fi"
    environment = {
      DIR   = self.input.marker_dir
      GRANT = self.input.grant_id
    }
  }
}

resource "terraform_data" "second" {
  input = var.expires_at
}
