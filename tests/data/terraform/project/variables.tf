variable "db_password" {
  type      = string
  default   = "hunter2-do-not-print"
  sensitive = true
}
