variable "region" {
  type        = string
  description = "AWS region of the stack."
  default     = "eu-west-1"
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every physical name; unique per stack."
  default     = "tracking-complete"
}

variable "lambda_zip_dir" {
  type        = string
  description = "Folder holding processor.zip and maintenance.zip from `make build` (linux/arm64)."
  default     = "../../../../dist"
}

variable "lambda_architecture" {
  type        = string
  description = "Architecture the zips were built for (arm64 or x86_64)."
  default     = "arm64"
}

variable "alert_email_addresses" {
  type        = list(string)
  description = "On-call e-mail addresses (each confirms its subscription)."
  default     = ["oncall@example.com"]
}

variable "producer_principal_arns" {
  type        = list(string)
  description = "Further producers allowed to send, beside the example's own producer role: roles or users of other accounts. Each must exist: KMS and SQS refuse a policy that names a principal that does not."
  default     = []
}

variable "processor_timeout_seconds" {
  type        = number
  description = "Processor timeout; the queue's visibility timeout follows it (the module's rule)."
  default     = 30
}

variable "max_receive_count" {
  type        = number
  description = "Receives before SQS parks a failing message in the DLQ."
  default     = 3
}
