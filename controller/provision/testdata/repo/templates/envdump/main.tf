# Writes the whole environment its provisioners run with: at create to
# var.out, at destroy to var.out + ".destroy". For tests of what a template
# can see.
variable "out" {
  type = string
}

resource "terraform_data" "dump" {
  input = var.out

  provisioner "local-exec" {
    command     = "env > \"$OUT\""
    environment = { OUT = var.out }
  }

  provisioner "local-exec" {
    when        = destroy
    command     = "env > \"$OUT.destroy\""
    environment = { OUT = self.input }
  }
}
