variable "value" {
  type = string
}

variable "sleep" {
  type    = number
  default = 0
}

resource "terraform_data" "a" {
  input = var.value

  provisioner "local-exec" {
    command     = "sleep \"$SLEEP\""
    environment = { SLEEP = var.sleep }
  }
}

resource "terraform_data" "b" {
  count = 2
  input = "${var.value}-${count.index}"
}

output "value" {
  value = var.value
}
