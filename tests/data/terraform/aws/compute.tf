resource "aws_db_instance" "orders" {
  identifier          = "orders-${var.environment}"
  engine              = "postgres"
  instance_class      = "db.t4g.medium"
  username            = "app"
  password            = var.db_password
  publicly_accessible = true
}

resource "aws_iam_policy" "ci" {
  name = "ci"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "*"
      Resource = "*"
    }]
  })
}

resource "aws_instance" "web" {
  ami           = "ami-0abcdef1234567890"
  instance_type = "t3.micro"
  count         = var.environment == "prod" ? 2 : 1

  metadata_options {
    http_tokens = "optional"
  }
}
