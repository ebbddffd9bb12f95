# State in S3 with native lock files. Nothing here is hard-coded: pass the
# bucket, key and region at init, for example
#   terraform init -backend-config="bucket=acme-tfstate" \
#     -backend-config="key=tracking-pipeline/dev.tfstate" -backend-config="region=eu-west-1"
# (use_lockfile needs Terraform >= 1.10 or OpenTofu >= 1.10; on older
# versions pass -backend-config="dynamodb_table=<lock table>" instead.)
terraform {
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
