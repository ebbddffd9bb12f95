# Only what differs per deployment of this env. Every module setting is a
# literal in main.tf (or the module's default).

variable "account_id" {
  type        = string
  description = "The AWS account this env deploys to; the provider refuses any other. null: no check."
  default     = null

  validation {
    condition     = var.account_id == null || can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the stack."
  default     = "eu-west-1"
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every physical name; one per stack of this env."
  default     = "tracking-dev"
}

variable "lambda_zip_dir" {
  type        = string
  description = "Folder holding processor.zip, projector.zip and maintenance.zip from `make build`."
  default     = "../../dist"
}

variable "lambda_architecture" {
  type        = string
  description = "CPU architecture the zips in lambda_zip_dir were built for (`make build ARCH=arm64|amd64`). null: the module's default."
  default     = null
}

variable "alert_email_addresses" {
  type        = list(string)
  description = "On-call e-mail addresses subscribed to the alert topic (each must confirm)."
  default     = []
}
