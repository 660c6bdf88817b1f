# A small project for tdv's Terraform tests: `terraform_data` needs no cloud provider, so
# the plan next to it was made with a real `terraform plan` (see README.md).

locals {
  anywhere = "0.0.0.0/0"
}

resource "terraform_data" "firewall" {
  input = {
    cidr     = local.anywhere
    port     = 22
    password = var.db_password
    created  = timestamp()
  }
}

resource "terraform_data" "zones" {
  for_each = toset(["internal", "public"])
  input = {
    cidr = each.key == "public" ? "0.0.0.0/0" : "10.0.0.0/8"
    port = 443
  }
}

module "net" {
  source   = "./modules/net"
  for_each = toset(["blue", "green"])
  color    = each.key
}
