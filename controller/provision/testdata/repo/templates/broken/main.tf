variable "value" {
  type = string
}

resource "terraform_data" "x" {
  input = var.value
