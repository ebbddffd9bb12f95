# A platform team's own KMS key and alert topic, shared with other stacks:
# the module creates neither and uses these. The key policy grants what the
# module's own key policy would (module README, "One KMS key").

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id # the region's name in provider 5.x and 6.x; 6.x deprecates name
  # The topic's ARN before it exists, for the key that encrypts it.
  topic_arn = "arn:${local.partition}:sns:${local.region}:${local.account_id}:${var.name_prefix}-oncall"
}

data "aws_iam_policy_document" "key" {
  # Administration and use by this account's principals, through IAM.
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts the stack's log groups.
  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${var.name_prefix}-*"]
    }
  }

  # EventBridge publishes alarm sentences to the encrypted topic. AWS does
  # not support aws:SourceAccount, aws:SourceArn or aws:SourceOrgID in a key
  # policy for EventBridge-to-encrypted topics (SNS Developer Guide,
  # "Managing Amazon SNS encryption keys and costs"): scope it by the
  # encryption context SNS passes, the topic.
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
      values   = [local.topic_arn]
    }
  }

  # EventBridge parks what it cannot deliver in the module's alert DLQ,
  # encrypted with this key.
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
      values   = ["arn:${local.partition}:sqs:${local.region}:${local.account_id}:${var.name_prefix}-alert-dlq"]
    }
  }

  # CloudWatch publishes the module's alert-delivery alarm to the topic.
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
      values   = [local.topic_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "shared" {
  description         = "Shared key of ${var.name_prefix}"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
}

resource "aws_sns_topic" "oncall" {
  name              = "${var.name_prefix}-oncall"
  kms_master_key_id = aws_kms_key.shared.arn
}

data "aws_iam_policy_document" "oncall" {
  statement {
    sid       = "EventBridgeAlerts"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.oncall.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  # The module's alert-delivery alarm tells on-call when EventBridge cannot
  # deliver: CloudWatch publishes it directly, not through the rule.
  statement {
    sid       = "CloudWatchAlertDelivery"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.oncall.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name_prefix}-alert-delivery"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.oncall.arn]
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

resource "aws_sns_topic_policy" "oncall" {
  arn    = aws_sns_topic.oncall.arn
  policy = data.aws_iam_policy_document.oncall.json
}

module "tracking_pipeline" {
  source = "../../"

  name_prefix          = var.name_prefix
  environment          = "example"
  processor_zip_path   = "${var.lambda_zip_dir}/processor.zip"
  projector_zip_path   = "${var.lambda_zip_dir}/projector.zip"
  maintenance_zip_path = "${var.lambda_zip_dir}/maintenance.zip"

  # Created in this root, so their ARNs are unknown at plan: say so.
  create_kms_key     = false
  kms_key_arn        = aws_kms_key.shared.arn
  create_alert_topic = false
  alert_topic_arn    = aws_sns_topic.oncall.arn
  create_dashboard   = false
}
