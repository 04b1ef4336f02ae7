# Writes the whole environment its provisioner runs with to var.out.
variable "out" {
  type = string
}

resource "terraform_data" "dump" {
  provisioner "local-exec" {
    command     = "env > \"$OUT\""
    environment = { OUT = var.out }
  }
}
