# A template whose target is a file: terraform_data.life creates and removes
# it, terraform_data.ensure (re-runnable: a create-time provisioner and no
# destroy-time one) writes its content again whenever it runs.

variable "path" {
  type = string
}

variable "value" {
  type = string
}

resource "terraform_data" "life" {
  input = var.path

  provisioner "local-exec" {
    when    = destroy
    command = "rm -f \"$TARGET\""
    environment = {
      TARGET = self.input
    }
  }
}

resource "terraform_data" "ensure" {
  depends_on = [terraform_data.life]
  input      = var.value

  provisioner "local-exec" {
    command = "printf '%s' \"$VALUE\" > \"$TARGET\""
    environment = {
      TARGET = var.path
      VALUE  = var.value
    }
  }
}
