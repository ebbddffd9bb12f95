terraform {
  # Terraform >= 1.6 and OpenTofu >= 1.6 alike; cross-variable rules are
  # preconditions, which both support, rather than 1.9-only validations.
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.46, < 7.0"
    }
  }
}
