data "aws_caller_identity" "current" {}
data "aws_partition" "current" {
  lifecycle {
    # The policies name service principals (events, cloudwatch, lambda,
    # scheduler, logs.<region>) and kms:ViaService values
    # (<service>.<region>.amazonaws.com) as the aws partition spells them;
    # other partitions' DNS suffixes and principals differ, and nothing here
    # has been proven there.
    postcondition {
      condition     = self.partition == "aws"
      error_message = "tracking-pipeline supports the aws partition only (this is ${self.partition}): its policies name service principals and kms:ViaService values with the aws partition's amazonaws.com suffix."
    }
  }
}
data "aws_region" "current" {}

locals {
  name       = var.name_prefix
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # `id` is the region's name in provider 5.x and 6.x alike; 6.x deprecates
  # `name` (for `region`, which 5.x lacks).
  region = data.aws_region.current.id

  tags = merge(var.tags, {
    Project     = "tracking-pipeline"
    Environment = var.environment
  })

  # The queues' ARNs, known before the queues exist, so that the policies
  # naming them are read (and can be checked) in a plan.
  queue_arn_prefix    = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.name}"
  ingest_queue_arn    = "${local.queue_arn_prefix}-ingest"
  ingest_dlq_arn      = "${local.queue_arn_prefix}-ingest-dlq"
  maintenance_dlq_arn = "${local.queue_arn_prefix}-maintenance-dlq"
  alert_dlq_arn       = "${local.queue_arn_prefix}-alert-dlq"
  projector_dlq_arn   = "${local.queue_arn_prefix}-projector-dlq"
  sqs_via_service     = "sqs.${local.region}.amazonaws.com"

  # An explicit create_* is known at plan even when the ARN it pairs with
  # is not (a key or topic created in the same root).
  create_kms_key = coalesce(var.create_kms_key, var.kms_key_arn == null)
  kms_key_arn    = local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn

  create_alert_topic = coalesce(var.create_alert_topic, var.alert_topic_arn == null)
  alert_topic_arn    = local.create_alert_topic ? aws_sns_topic.alerts[0].arn : var.alert_topic_arn
  # The topic's ARN before it exists, for the key policy that encrypts it.
  alert_topic_arn_planned = local.create_alert_topic ? "arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.name}-alerts" : var.alert_topic_arn

  processor_function_name   = "${local.name}-processor"
  projector_function_name   = "${local.name}-projector"
  maintenance_function_name = "${local.name}-maintenance"

  # Status-change events (contract: internal/contract/tracking-status-changed.v1.schema.json).
  create_event_bus            = var.event_bus_name == null
  event_bus_name              = local.create_event_bus ? aws_cloudwatch_event_bus.status[0].name : var.event_bus_name
  event_bus_arn               = "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${local.event_bus_name}"
  status_event_source         = "tracking-pipeline"
  status_event_detail_type    = "Tracking Status Changed"
  status_change_event_pattern = jsonencode({ source = [local.status_event_source], detail-type = [local.status_event_detail_type] })

  # The records the projector reads (internal/projection.FilterPattern).
  projector_filter_pattern = jsonencode({
    dynamodb = {
      Keys     = { sk = { S = [{ prefix = "EVT#" }, { prefix = "CONFLICT#" }, "SETTLED"] } }
      NewImage = { sent_at = { S = [{ exists = true }] } }
    }
  })

  # Attribute and index names the Go code uses (internal/audit/keys.go).
  # Packages by latest status (internal/audit.IndexByStatus).
  audit_index_by_status = "by_status"
  audit_ttl_attribute   = "expires_at"
}
