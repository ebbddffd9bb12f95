# The functions run a prebuilt Go `bootstrap` on provided.al2023. The module
# never builds Go: `make build` produces the zips.

resource "aws_cloudwatch_log_group" "processor" {
  name              = "/aws/lambda/${local.processor_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_cloudwatch_log_group" "projector" {
  name              = "/aws/lambda/${local.projector_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_cloudwatch_log_group" "maintenance" {
  name              = "/aws/lambda/${local.maintenance_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms_key_arn
  tags              = local.tags
}

resource "aws_lambda_function" "processor" {
  function_name                  = local.processor_function_name
  description                    = "Consumes tracking updates from ${aws_sqs_queue.ingest.name} into the audit table"
  role                           = aws_iam_role.processor.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.lambda_architecture]
  filename                       = var.processor_zip_path
  source_code_hash               = filebase64sha256(var.processor_zip_path)
  timeout                        = var.processor_timeout_seconds
  memory_size                    = var.processor_memory_mb
  reserved_concurrent_executions = coalesce(var.processor_reserved_concurrency, -1)
  tags                           = local.tags

  environment {
    variables = {
      AUDIT_TABLE_NAME  = aws_dynamodb_table.audit.name
      DLQ_URL           = aws_sqs_queue.ingest_dlq.url
      RETENTION_DAYS    = tostring(var.retention_days)
      MAX_CONCURRENCY   = tostring(var.processor_worker_concurrency)
      LOG_LEVEL         = var.log_level
      METRICS_NAMESPACE = var.metrics_namespace
    }
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.processor.name
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.processor]
}

resource "aws_lambda_event_source_mapping" "ingest" {
  event_source_arn                   = aws_sqs_queue.ingest.arn
  function_name                      = aws_lambda_function.processor.arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.event_source_maximum_concurrency
  }

  dynamic "filter_criteria" {
    for_each = length(var.event_filter_patterns) > 0 ? [var.event_filter_patterns] : []
    content {
      dynamic "filter" {
        for_each = filter_criteria.value
        content {
          pattern = filter.value
        }
      }
    }
  }
}

# The projector: the audit row is the processor's only commit; the latest
# statuses, the status index, the day counters and the status-change events
# follow from the table's stream (internal/projection).
resource "aws_lambda_function" "projector" {
  function_name    = local.projector_function_name
  description      = "Projects ${aws_dynamodb_table.audit.name}'s stream: latest statuses, day counters, status-change events"
  role             = aws_iam_role.projector.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  filename         = var.projector_zip_path
  source_code_hash = filebase64sha256(var.projector_zip_path)
  timeout          = 60
  memory_size      = 256
  tags             = local.tags

  environment {
    variables = {
      AUDIT_TABLE_NAME    = aws_dynamodb_table.audit.name
      EVENT_BUS_NAME      = local.event_bus_name
      STATUS_EVENT_SOURCE = local.status_event_source
      RETENTION_DAYS      = tostring(var.retention_days)
      LOG_LEVEL           = var.log_level
      METRICS_NAMESPACE   = var.metrics_namespace
    }
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.projector.name
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.projector]
}

resource "aws_lambda_event_source_mapping" "projector" {
  event_source_arn  = aws_dynamodb_table.audit.stream_arn
  function_name     = aws_lambda_function.projector.arn
  starting_position = "TRIM_HORIZON"
  # No batching window: a batch is whatever the shard holds when the
  # previous one is done, up to 1,000 records, so a busy shard gets large
  # batches (the day counters are written once per batch) and a quiet one
  # gets its record within a poll (4 a second). Chosen by `make bench -only
  # lag` (2026-12-05): send to latest status at 1,000 updates/s, p99 0.37 s
  # this way, 1.5 s with a 1-second window, 4.2 s with batches of 100 (the
  # current figure: README, Performance). parallelization_factor
  # stays 1: the counters' high-water mark needs each shard read in order;
  # a busier table has more partitions, so more shards, each read apart.
  batch_size                         = 1000
  maximum_batching_window_in_seconds = 0
  # The window's event names the stream shard whose counters a batch adds to
  # (internal/projection); nothing is kept in the window's state.
  tumbling_window_in_seconds     = 60
  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = true
  # Retries never give up on their own; a record older than 12 hours (half
  # the stream's 24-hour retention) goes to the on-failure queue, where
  # trackctl rebuild repairs what it missed.
  maximum_retry_attempts        = -1
  maximum_record_age_in_seconds = 43200

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.projector_dlq.arn
    }
  }

  # Rows, conflicts and settled messages with a new image: never the
  # projector's own writes, never a TTL delete (internal/projection.FilterPattern).
  filter_criteria {
    filter {
      pattern = local.projector_filter_pattern
    }
  }
}

resource "aws_lambda_function" "maintenance" {
  function_name    = local.maintenance_function_name
  description      = "DLQ digest and redrive, daily stats of ${aws_dynamodb_table.audit.name}"
  role             = aws_iam_role.maintenance.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  filename         = var.maintenance_zip_path
  source_code_hash = filebase64sha256(var.maintenance_zip_path)
  timeout          = var.maintenance_timeout_seconds
  memory_size      = 256
  tags             = local.tags

  environment {
    variables = {
      AUDIT_TABLE_NAME  = aws_dynamodb_table.audit.name
      DLQ_URL           = aws_sqs_queue.ingest_dlq.url
      INGEST_QUEUE_URL  = aws_sqs_queue.ingest.url
      ALERT_TOPIC_ARN   = local.alert_topic_arn
      REDRIVE_TRANSIENT = tostring(var.maintenance_redrive_transient)
      REDRIVE_RATE      = tostring(var.maintenance_redrive_rate)
      RETENTION_DAYS    = tostring(var.retention_days)
      LOG_LEVEL         = var.log_level
      METRICS_NAMESPACE = var.metrics_namespace
      STUCK_AFTER_HOURS = tostring(var.stuck_after_hours)
      FINAL_STATUSES    = join(",", var.final_statuses)
    }
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.maintenance.name
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.maintenance]
}

# Asynchronous invocations (the schedule's) retry twice, then land in the
# maintenance DLQ with the error.
resource "aws_lambda_function_event_invoke_config" "maintenance" {
  function_name                = aws_lambda_function.maintenance.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.maintenance_dlq.arn
    }
  }
}
