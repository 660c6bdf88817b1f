# The orders service's data tier, as first written: it works, but breaks several guardrails.
# `tdv fix examples/terraform/orders` repairs what can be repaired mechanically.

variable "environment" {
  type    = string
  default = "prod"
}

# Encryption key for the database and its snapshots.
resource "aws_kms_key" "orders" {
  description             = "orders data at rest"
  deletion_window_in_days = 30 # the maximum, in case of mistakes
}

resource "aws_db_instance" "orders" {
  identifier          = "orders-${var.environment}"
  engine              = "postgres"
  instance_class      = "db.t4g.medium"
  allocated_storage   = 50
  kms_key_id          = aws_kms_key.orders.arn
  publicly_accessible = true

  tags = {
    team = "orders"
  }
}

# The worker that drains the order queue.
resource "aws_instance" "worker" {
  ami           = "ami-0abcdef1234567890"
  instance_type = "t3.small"

  root_block_device {
    encrypted = true
  }
}

# Nightly exports for the finance team.
resource "aws_s3_bucket" "exports" {
  bucket = "orders-exports-${var.environment}"
}

resource "aws_s3_bucket_public_access_block" "exports" {
  bucket = aws_s3_bucket.exports.id

  block_public_acls   = true
  block_public_policy = false
}
