module "pipeline" {
  source = "../../modules/tracking-pipeline"

  name_prefix          = var.name_prefix
  environment          = var.environment
  processor_zip_path   = "${var.lambda_zip_dir}/processor.zip"
  maintenance_zip_path = "${var.lambda_zip_dir}/maintenance.zip"
  lambda_architecture  = var.lambda_architecture

  retention_days                   = var.retention_days
  log_retention_days               = var.log_retention_days
  point_in_time_recovery           = var.point_in_time_recovery
  deletion_protection              = var.deletion_protection
  event_source_maximum_concurrency = var.event_source_maximum_concurrency
  alert_email_addresses            = var.alert_email_addresses
  tags                             = var.tags
}
