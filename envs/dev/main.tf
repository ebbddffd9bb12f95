# The dev stack: the module's defaults but for the settings below. A module
# setting appears here only where dev overrides it (TestEnvsStateOnlyWhatDiffers).
locals {
  environment = "dev"
}

module "pipeline" {
  source = "../../modules/tracking-pipeline"

  name_prefix           = var.name_prefix
  environment           = local.environment
  processor_zip_path    = "${var.lambda_zip_dir}/processor.zip"
  projector_zip_path    = "${var.lambda_zip_dir}/projector.zip"
  maintenance_zip_path  = "${var.lambda_zip_dir}/maintenance.zip"
  lambda_architecture   = var.lambda_architecture
  alert_email_addresses = var.alert_email_addresses

  point_in_time_recovery = false # dev's rows can be replayed; saves the backup cost
}
