# Every feature on: the module's own key and alert topic, on-call e-mails,
# a named producer role (and producers of other accounts, when given),
# automatic redrive of transient failures, tuned batching and alarms, the
# dashboard.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# The producer this example demonstrates: a role that a carrier's webhook
# bridge assumes, named in producer_principal_arns and given exactly
# producer_policy_json. It exists before the module's key and queue
# policies name it, as AWS requires of a policy's principals.
data "aws_iam_policy_document" "producer_trust" {
  statement {
    sid     = "BridgeAssumes"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_iam_role" "producer" {
  name               = "${var.name_prefix}-carrier-bridge"
  description        = "Sends tracking updates to ${var.name_prefix} (example producer)"
  assume_role_policy = data.aws_iam_policy_document.producer_trust.json
}

resource "aws_iam_role_policy" "producer" {
  name   = "send-tracking-updates"
  role   = aws_iam_role.producer.id
  policy = module.tracking_pipeline.producer_policy_json
}

module "tracking_pipeline" {
  source = "../../"

  name_prefix          = var.name_prefix
  environment          = "example"
  processor_zip_path   = "${var.lambda_zip_dir}/processor.zip"
  projector_zip_path   = "${var.lambda_zip_dir}/projector.zip"
  maintenance_zip_path = "${var.lambda_zip_dir}/maintenance.zip"
  lambda_architecture  = var.lambda_architecture

  batch_size                       = 25
  maximum_batching_window_seconds  = 5
  event_source_maximum_concurrency = 20
  processor_memory_mb              = 512
  max_receive_count                = var.max_receive_count
  processor_timeout_seconds        = var.processor_timeout_seconds
  log_level                        = "warn"

  point_in_time_recovery = true
  deletion_protection    = false # an example: destroy must work

  maintenance_redrive_transient   = true
  maintenance_redrive_rate        = 20
  maintenance_schedule_expression = "cron(0 1 * * ? *)"
  maintenance_schedule_timezone   = "UTC"

  alert_email_addresses   = var.alert_email_addresses
  producer_principal_arns = concat([aws_iam_role.producer.arn], var.producer_principal_arns)
  alarm_thresholds = {
    queue_depth                = 5000
    oldest_message_age_seconds = 600
  }
  create_dashboard = true

  tags = { CostCentre = "logistics" }
}
