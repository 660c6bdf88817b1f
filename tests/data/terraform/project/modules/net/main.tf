variable "color" {
  type = string
}

resource "terraform_data" "rule" {
  count = 1
  input = {
    cidr = "10.2.0.0/16"
    port = 8080
    name = var.color
  }
}

module "inner" {
  source = "./modules/inner"
}
