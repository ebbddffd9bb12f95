# The prod stack: the module's defaults but for the original specification's
# production settings below (TestProdCarriesTheSpecification; the module
# README says, per setting, where and why the module's own default differs).
# A module setting appears here only where prod overrides it
# (TestEnvsStateOnlyWhatDiffers).
locals {
  environment = "prod"
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

  processor_timeout_seconds        = 60 # the ingest queue's visibility timeout follows: 6 x 60 + 30 = 390 s
  processor_memory_mb              = 512
  max_receive_count                = 3
  maximum_batching_window_seconds  = 30
  event_source_maximum_concurrency = 50
  message_retention_seconds        = 604800 # 7 days
  maintenance_schedule_expression  = "cron(0 1 * * ? *)"
  retention_days                   = 400
  log_retention_days               = 365
  deletion_protection              = true
}
