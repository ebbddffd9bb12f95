# Only the required inputs: every other setting is the module's default.
module "tracking_pipeline" {
  source = "../../"

  name_prefix          = var.name_prefix
  environment          = "example"
  processor_zip_path   = "${var.lambda_zip_dir}/processor.zip"
  projector_zip_path   = "${var.lambda_zip_dir}/projector.zip"
  maintenance_zip_path = "${var.lambda_zip_dir}/maintenance.zip"
}
