# One role per function, inline least-privilege policies, no managed policies.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

locals {
  # KMS use is limited to the services this stack calls through.
  kms_via_services = ["sqs.${local.region}.amazonaws.com", "dynamodb.${local.region}.amazonaws.com"]
}

################################################################################
# Processor
################################################################################

resource "aws_iam_role" "processor" {
  name               = local.processor_function_name
  description        = "Runs ${local.processor_function_name}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "processor" {
  statement {
    sid = "ConsumeIngestQueue"
    # Lambda's event source mapping polls, deletes and reads the queue with this role.
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.ingest.arn]
  }

  statement {
    sid       = "RejectToDLQ"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.ingest_dlq.arn]
  }

  statement {
    sid = "WriteAuditTrail"
    # One conditional PutItem per row, conflict or settled message; GetItem
    # tells a parked message's redelivery.
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem"]
    resources = [aws_dynamodb_table.audit.arn]
  }

  statement {
    sid = "UseKeyThroughQueuesAndTable"
    # Needed on AWS: the event source mapping receives (kms:Decrypt through SQS) and DynamoDB uses the key on the function's behalf; the local AWS checks neither yet.
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.kms_via_services
    }
  }

  statement {
    sid = "WriteOwnLogs"
    # Needed on AWS: Lambda writes the function's output to its log group as this role (the local AWS's executor writes it itself).
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.processor.arn}:*"]
  }

  statement {
    sid = "Tracing"
    # Needed on AWS: active tracing sends segments to X-Ray as this role (X-Ray is not emulated).
    # X-Ray has no resource-level permissions: AWS requires "*".
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] #trivy:ignore:AVD-AWS-0057
  }
}

resource "aws_iam_role_policy" "processor" {
  name   = "processor"
  role   = aws_iam_role.processor.id
  policy = data.aws_iam_policy_document.processor.json
}

################################################################################
# Projector
################################################################################

resource "aws_iam_role" "projector" {
  name               = local.projector_function_name
  description        = "Runs ${local.projector_function_name}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "projector" {
  statement {
    sid = "ReadAuditStream"
    # Lambda's event source mapping reads the stream with this role.
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
    resources = [aws_dynamodb_table.audit.stream_arn]
  }

  statement {
    sid       = "ListAuditStreams"
    actions   = ["dynamodb:ListStreams"]
    resources = ["${aws_dynamodb_table.audit.arn}/stream/*"]
  }

  statement {
    sid       = "ProjectLatestAndCounts"
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.audit.arn]
  }

  statement {
    sid       = "PublishStatusChanges"
    actions   = ["events:PutEvents"]
    resources = [local.event_bus_arn]
    condition {
      test     = "StringEquals"
      variable = "events:source"
      values   = [local.status_event_source]
    }
  }

  statement {
    sid = "FailedBatchesToQueue"
    # Lambda sends the record of a batch it gave up on to the mapping's on-failure destination as this role.
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.projector_dlq.arn]
  }

  statement {
    sid = "UseKeyThroughQueueAndTable"
    # SQS uses it as this role for the on-failure queue when a batch is given up on (checked locally).
    # Needed on AWS: DynamoDB uses the key on the function's behalf to read the stream and write items too (not checked locally).
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.kms_via_services
    }
  }

  statement {
    sid = "WriteOwnLogs"
    # Needed on AWS: Lambda writes the function's output to its log group as this role (the local AWS's executor writes it itself).
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.projector.arn}:*"]
  }

  statement {
    sid = "Tracing"
    # Needed on AWS: active tracing sends segments to X-Ray as this role (X-Ray is not emulated).
    # X-Ray has no resource-level permissions: AWS requires "*".
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] #trivy:ignore:AVD-AWS-0057
  }
}

resource "aws_iam_role_policy" "projector" {
  name   = "projector"
  role   = aws_iam_role.projector.id
  policy = data.aws_iam_policy_document.projector.json
}

################################################################################
# Maintenance
################################################################################

resource "aws_iam_role" "maintenance" {
  name               = local.maintenance_function_name
  description        = "Runs ${local.maintenance_function_name}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "maintenance" {
  statement {
    sid = "InspectAndRedriveDLQ"
    # Inspection receives (hiding what it reads) and gives back at once what
    # it does not redrive; a redriven message is deleted once sent.
    actions = [
      "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:DeleteMessage",
    ]
    resources = [aws_sqs_queue.ingest_dlq.arn]
  }

  statement {
    sid       = "RedriveToIngest"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.ingest.arn]
  }

  statement {
    sid = "FailedInvocationsToMaintenanceDLQ"
    # Lambda sends the record of a failed asynchronous invocation to its on-failure destination as this role.
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.maintenance_dlq.arn]
  }

  statement {
    sid       = "ReadDayCountersWriteReports"
    actions   = ["dynamodb:Query", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.audit.arn]
  }

  statement {
    sid       = "FindStuckPackages"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.audit.arn}/index/${local.audit_index_by_status}"]
  }

  statement {
    sid       = "PublishDigest"
    actions   = ["sns:Publish"]
    resources = [local.alert_topic_arn]
  }

  statement {
    sid = "UseKeyThroughQueuesTableAndTopic"
    # Needed on AWS: DynamoDB uses the key on the caller's behalf too (not checked locally); SQS's and SNS's use of it is, see make test-iam.
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = concat(local.kms_via_services, ["sns.${local.region}.amazonaws.com"])
    }
  }

  statement {
    sid = "WriteOwnLogs"
    # Needed on AWS: Lambda writes the function's output to its log group as this role (the local AWS's executor writes it itself).
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.maintenance.arn}:*"]
  }

  statement {
    sid = "Tracing"
    # Needed on AWS: active tracing sends segments to X-Ray as this role (X-Ray is not emulated).
    # X-Ray has no resource-level permissions: AWS requires "*".
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] #trivy:ignore:AVD-AWS-0057
  }
}

resource "aws_iam_role_policy" "maintenance" {
  name   = "maintenance"
  role   = aws_iam_role.maintenance.id
  policy = data.aws_iam_policy_document.maintenance.json
}

################################################################################
# Scheduler
################################################################################

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${local.name}-maintenance-scheduler"
  description        = "Lets EventBridge Scheduler invoke ${local.maintenance_function_name}"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "InvokeMaintenance"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.maintenance.arn]
  }

  statement {
    sid = "UndeliveredToMaintenanceDLQ"
    # Needed on AWS: EventBridge Scheduler sends an invocation it could not deliver to the schedule's DLQ as this role (the local AWS's scheduler has no DLQ).
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.maintenance_dlq.arn]
  }

  statement {
    sid = "UseKeyThroughSQS"
    # Needed on AWS: sending to the encrypted DLQ (above) uses the key through SQS as this role.
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [local.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "scheduler"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
