# A validation rule that jit cannot evaluate (startswith is not among the
# functions package template knows), so only terraform rejects the value.
variable "value" {
  type = string
  validation {
    condition     = startswith(var.value, "ok")
    error_message = "The value must start with ok: only terraform knows."
  }
}

resource "terraform_data" "x" {
  input = var.value
}
