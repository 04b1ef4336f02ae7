# A login role made through psql that can be made to pause after the role
# exists (sleep), to test a terraform process killed mid-apply. Values reach
# psql only through the environment and psql variables.

variable "grant_id" {
  type = string
}

variable "sleep" {
  type    = number
  default = 0
}

locals {
  role = "jit_test_${substr(sha256(var.grant_id), 0, 12)}"
}

resource "terraform_data" "role" {
  input = { role = local.role }

  provisioner "local-exec" {
    command = "psql -X -q -v ON_ERROR_STOP=1 -f create.sql && sleep \"$SLEEP\""
    environment = {
      JIT_ROLE = local.role
      SLEEP    = var.sleep
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "psql -X -q -v ON_ERROR_STOP=1 -f destroy.sql"
    environment = {
      JIT_ROLE = self.input.role
    }
  }
}
