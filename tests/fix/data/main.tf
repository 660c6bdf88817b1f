# Orders service: data tier and workers.
# Managed by the orders team.

variable "public" {
  type    = bool
  default = true # the reporting tool connects from outside
}

resource "aws_kms_key" "orders" {
  description             = "orders data at rest"
  deletion_window_in_days = 30

  tags = {
    team = "orders"
  }
}

resource "aws_db_instance" "orders" {
  identifier          = "orders"
  engine              = "postgres"
  instance_class      = "db.t4g.medium"
  storage_encrypted   = false # TODO: encrypt at the next maintenance window
  publicly_accessible = var.public

  lifecycle {
    prevent_destroy = true
  }
}

# tdv:skip=TDV-AWS-008 the analytics copy holds public data only
resource "aws_rds_cluster" "analytics" {
  cluster_identifier = "analytics"
  engine             = "aurora-postgresql"
}

resource "aws_launch_template" "workers" {
  name_prefix = "workers-"

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "optional" // legacy agent
    http_put_response_hop_limit = 2
  }
}

resource "aws_instance" "bastion" {
  ami           = "ami-0abcdef1234567890"
  instance_type = "t3.micro"
  user_data     = <<-EOT
    #!/bin/sh
    echo "${var.public}"
  EOT
}
