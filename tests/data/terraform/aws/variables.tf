variable "environment" {
  type    = string
  default = "prod"
}

variable "admin_cidr" {
  type    = string
  default = "10.20.0.0/16"
}

variable "db_password" {
  type      = string
  default   = "correct-horse-battery-staple"
  sensitive = true
}

locals {
  anywhere = "0.0.0.0/0"
  tags     = { Environment = var.environment, Team = "platform" }
}
