provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "tracking-pipeline"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
