# One customer-managed key encrypts the queues, the table, the alert topic and
# the log groups, unless the caller brings its own (var.kms_key_arn).

data "aws_iam_policy_document" "kms" {
  count = local.create_kms_key ? 1 : 0

  # Key administration and use by this account's IAM principals, through
  # their IAM policies. In a key policy "*" means this key; kms:* is AWS's
  # default key-policy statement, without which the key can become unmanageable.
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts this stack's log groups only.
  statement {
    sid = "CloudWatchLogs"
    # Needed on AWS: CloudWatch Logs uses the key as its service principal for the log groups' events, as it writes and reads them (the local AWS judges kms:GenerateDataKey when a group is given the key, and stores events unencrypted).
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.name}-*"]
    }
  }

  # EventBridge delivers the alarm sentences to the encrypted alert topic,
  # and SNS uses the key for it. No aws:SourceAccount, aws:SourceArn or
  # aws:SourceOrgID here: "Adding the aws:SourceAccount, aws:SourceArn, and
  # aws:SourceOrgID to a AWS KMS policy is not supported for
  # EventBridge-to-encrypted topics" (SNS Developer Guide, "Managing Amazon
  # SNS encryption keys and costs"), and every delivery would fail. The
  # encryption context SNS passes names the topic: only this one.
  statement {
    sid       = "EventBridgeToAlertTopic"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:sns:topicArn"
      values   = [local.alert_topic_arn_planned]
    }
  }

  # EventBridge parks the alarm sentences it cannot deliver in the alert
  # DLQ, encrypted with this key ("Using dead-letter queues to process
  # undelivered events" and the key statement of "Event bus targets" in the
  # EventBridge User Guide); the encryption context SQS passes names the queue.
  statement {
    sid       = "EventBridgeToAlertDLQ"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:sqs:arn"
      values   = [local.alert_dlq_arn]
    }
  }

  # CloudWatch publishes this stack's alarm actions to the encrypted topic:
  # always the alert-delivery alarm (which must not depend on EventBridge),
  # every alarm when alarm_raw_notifications is on.
  statement {
    sid       = "CloudWatchAlarmsToAlertTopic"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:sns:topicArn"
      values   = [local.alert_topic_arn_planned]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  # Producers (var.producer_principal_arns) send to the encrypted ingest
  # queue: SQS generates and reads data keys on their behalf, and only SQS
  # may (kms:ViaService). Other accounts' producers need this statement;
  # this account's would do with IAM alone, but the grant is the same.
  dynamic "statement" {
    for_each = length(var.producer_principal_arns) > 0 ? [1] : []
    content {
      sid       = "ProducersThroughSQS"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = ["*"]
      principals {
        type        = "AWS"
        identifiers = var.producer_principal_arns
      }
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.sqs_via_service]
      }
    }
  }
}

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = "tracking-pipeline ${local.name}: queues, audit table, alert topic and logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.kms[0].json
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.this[0].key_id
}
