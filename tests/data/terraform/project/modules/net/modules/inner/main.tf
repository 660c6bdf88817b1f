resource "terraform_data" "deep" {
  input = {
    port = 3389
    cidr = "::/0"
  }
}
