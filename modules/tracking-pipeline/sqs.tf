# Standard queues: the processor is idempotent per (tracking_id, event_id),
# so at-least-once delivery costs nothing and FIFO's throughput limits are avoided.

resource "aws_sqs_queue" "ingest" {
  name                              = "${local.name}-ingest"
  visibility_timeout_seconds        = local.visibility_timeout
  message_retention_seconds         = var.message_retention_seconds
  receive_wait_time_seconds         = 20
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_data_key_reuse_period_seconds
  tags                              = local.tags

  depends_on = [terraform_data.settings_check]
}

resource "aws_sqs_queue" "ingest_dlq" {
  name                              = "${local.name}-ingest-dlq"
  message_retention_seconds         = var.dlq_message_retention_seconds
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_data_key_reuse_period_seconds
  tags                              = local.tags
}

resource "aws_sqs_queue_redrive_policy" "ingest" {
  queue_url = aws_sqs_queue.ingest.id
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.ingest_dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "ingest_dlq" {
  queue_url = aws_sqs_queue.ingest_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.ingest.arn]
  })
}

# Failed asynchronous maintenance invocations (scheduler and Lambda on-failure).
resource "aws_sqs_queue" "maintenance_dlq" {
  name                              = "${local.name}-maintenance-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_data_key_reuse_period_seconds
  tags                              = local.tags
}

# Alarm sentences EventBridge could not deliver to the alert topic, with
# EventBridge's RULE_ARN, TARGET_ARN, ERROR_CODE and ERROR_MESSAGE attributes.
resource "aws_sqs_queue" "alert_dlq" {
  name                              = "${local.name}-alert-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_data_key_reuse_period_seconds
  tags                              = local.tags
}

# Stream batches the projector could not project within their record age:
# Lambda's DDBStreamBatchInfo (shard, first and last sequence numbers), for
# trackctl rebuild.
resource "aws_sqs_queue" "projector_dlq" {
  name                              = "${local.name}-projector-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_data_key_reuse_period_seconds
  tags                              = local.tags
}

# Every queue refuses requests that are not over TLS.
data "aws_iam_policy_document" "queue_tls_only" {
  for_each = {
    ingest          = local.ingest_queue_arn
    ingest_dlq      = local.ingest_dlq_arn
    maintenance_dlq = local.maintenance_dlq_arn
    alert_dlq       = local.alert_dlq_arn
    projector_dlq   = local.projector_dlq_arn
  }

  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    # A deny of every action by anyone is what makes the rule total.
    actions   = ["sqs:*"]
    resources = [each.value]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# The ingest queue: TLS only, and producers of other principals may send
# (var.producer_principal_arns); this account's principals send through IAM.
data "aws_iam_policy_document" "ingest" {
  source_policy_documents = [data.aws_iam_policy_document.queue_tls_only["ingest"].json]

  dynamic "statement" {
    for_each = length(var.producer_principal_arns) > 0 ? [1] : []
    content {
      sid       = "ProducersSend"
      actions   = ["sqs:SendMessage"] # SendMessageBatch is authorised as SendMessage
      resources = [local.ingest_queue_arn]
      principals {
        type        = "AWS"
        identifiers = var.producer_principal_arns
      }
    }
  }
}

resource "aws_sqs_queue_policy" "ingest" {
  queue_url = aws_sqs_queue.ingest.id
  policy    = data.aws_iam_policy_document.ingest.json
}

resource "aws_sqs_queue_policy" "ingest_dlq" {
  queue_url = aws_sqs_queue.ingest_dlq.id
  policy    = data.aws_iam_policy_document.queue_tls_only["ingest_dlq"].json
}

# The alert DLQ: TLS only, and EventBridge may send for the alarm state
# rule alone ("Granting permissions to the dead-letter queue", EventBridge
# User Guide).
data "aws_iam_policy_document" "alert_dlq" {
  source_policy_documents = [data.aws_iam_policy_document.queue_tls_only["alert_dlq"].json]

  statement {
    sid       = "EventBridgeUndeliveredAlerts"
    actions   = ["sqs:SendMessage"]
    resources = [local.alert_dlq_arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.alarm_state_change.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "alert_dlq" {
  queue_url = aws_sqs_queue.alert_dlq.id
  policy    = data.aws_iam_policy_document.alert_dlq.json
}

resource "aws_sqs_queue_policy" "projector_dlq" {
  queue_url = aws_sqs_queue.projector_dlq.id
  policy    = data.aws_iam_policy_document.queue_tls_only["projector_dlq"].json
}

resource "aws_sqs_queue_policy" "maintenance_dlq" {
  queue_url = aws_sqs_queue.maintenance_dlq.id
  policy    = data.aws_iam_policy_document.queue_tls_only["maintenance_dlq"].json
}

# What a producer attaches to send (output producer_policy_json): the queue,
# and the key through SQS only.
data "aws_iam_policy_document" "producer" {
  statement {
    sid       = "SendTrackingUpdates"
    actions   = ["sqs:SendMessage"] # SendMessageBatch is authorised as SendMessage
    resources = [local.ingest_queue_arn]
  }

  statement {
    sid       = "EncryptThroughSQS"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [local.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.sqs_via_service]
    }
  }
}
