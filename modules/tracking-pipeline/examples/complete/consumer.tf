# A downstream team's consumer of the status-change events: the packages
# delivered, on a queue of its own, from a rule on the pipeline's bus with
# the module's event pattern narrowed to one status. EventBridge sends to the
# queue as events.amazonaws.com, for this rule alone, and uses the queue's
# key for it: the key is a customer managed one whose policy lets
# EventBridge use it ("Troubleshooting Amazon EventBridge": an encrypted
# target queue needs it; SQS's AWS managed key cannot be given to a service).

data "aws_iam_policy_document" "delivered_key" {
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "EventBridgeSendsToTheQueue"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "delivered" {
  description             = "${var.name_prefix} delivered packages queue"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.delivered_key.json
}

resource "aws_sqs_queue" "delivered" {
  name                              = "${var.name_prefix}-delivered"
  kms_master_key_id                 = aws_kms_key.delivered.arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_cloudwatch_event_rule" "delivered" {
  name           = "${var.name_prefix}-delivered"
  description    = "Packages of ${var.name_prefix} whose latest status became DELIVERED"
  event_bus_name = module.tracking_pipeline.event_bus_name
  event_pattern = jsonencode(merge(jsondecode(module.tracking_pipeline.status_change_event_pattern), {
    detail = { status = ["DELIVERED"] }
  }))
}

resource "aws_cloudwatch_event_target" "delivered" {
  rule           = aws_cloudwatch_event_rule.delivered.name
  event_bus_name = module.tracking_pipeline.event_bus_name
  target_id      = "delivered-queue"
  arn            = aws_sqs_queue.delivered.arn
}

data "aws_iam_policy_document" "delivered_queue" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["sqs:*"]
    # A deny of every action by anyone is what makes the rule total.
    resources = [aws_sqs_queue.delivered.arn]
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

  statement {
    sid       = "EventBridgeDeliveredPackages"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.delivered.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.delivered.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "delivered" {
  queue_url = aws_sqs_queue.delivered.id
  policy    = data.aws_iam_policy_document.delivered_queue.json
}
