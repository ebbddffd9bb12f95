variable "region" {
  type        = string
  description = "AWS region of the stack."
  default     = "eu-west-1"
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every physical name; unique per stack."
  default     = "tracking-byo"
}

variable "lambda_zip_dir" {
  type        = string
  description = "Folder holding processor.zip and maintenance.zip from `make build` (linux/arm64)."
  default     = "../../../../dist"
}
