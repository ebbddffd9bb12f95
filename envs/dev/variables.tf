variable "region" {
  type        = string
  description = "AWS region of the stack."
  default     = "eu-west-1"
}

variable "environment" {
  type        = string
  description = "Environment name (tag and alert prefix)."
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every physical name."
}

variable "lambda_zip_dir" {
  type        = string
  description = "Folder holding processor.zip and maintenance.zip from `make build`."
  default     = "../../dist"
}

variable "lambda_architecture" {
  type        = string
  description = "Architecture the zips were built for (arm64 or x86_64)."
  default     = "arm64"
}

variable "retention_days" {
  type        = number
  description = "Days audit rows are kept."
  default     = 90
}

variable "log_retention_days" {
  type        = number
  description = "Days function logs are kept."
  default     = 30
}

variable "point_in_time_recovery" {
  type        = bool
  description = "Point-in-time recovery of the audit table (off in dev to save cost)."
  default     = false
}

variable "deletion_protection" {
  type        = bool
  description = "Deletion protection of the audit table."
  default     = false
}

variable "event_source_maximum_concurrency" {
  type        = number
  description = "Most concurrent processor invocations."
  default     = 10
}

variable "alert_email_addresses" {
  type        = list(string)
  description = "E-mail addresses for alerts."
  default     = []
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource."
  default     = {}
}
