# Runs an executable script shipped with the template.
variable "out" {
  type = string
}

resource "terraform_data" "run" {
  input = var.out

  provisioner "local-exec" {
    command     = "./hello.sh"
    environment = { OUT = var.out }
  }
}
