variable "value" {
  type = string
}

variable "sleep" {
  type    = number
  default = 0
}

variable "pidfile" {
  description = "When set, the provisioner sleeps in a background process whose pid it writes here."
  type        = string
  default     = ""
}

resource "terraform_data" "a" {
  input = var.value

  provisioner "local-exec" {
    command     = "if [ -n \"$PIDFILE\" ]; then sleep \"$SLEEP\" & echo $! > \"$PIDFILE\"; wait; else sleep \"$SLEEP\"; fi"
    environment = { SLEEP = var.sleep, PIDFILE = var.pidfile }
  }
}

resource "terraform_data" "b" {
  count = 2
  input = "${var.value}-${count.index}"
}

output "value" {
  value = var.value
}
