locals {
  dashboard_name = "${local.name}-pipeline"

  dashboard_widgets = [
    {
      title = "Queue depth"
      metrics = [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.ingest.name, { label = "ingest" }],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.ingest_dlq.name, { label = "DLQ" }],
      ]
      stat = "Maximum"
    },
    {
      title = "Age of oldest message (s)"
      metrics = [
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.ingest.name, { label = "ingest" }],
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.ingest_dlq.name, { label = "DLQ" }],
      ]
      stat = "Maximum"
    },
    {
      title = "Processor invocations, errors, throttles"
      metrics = [
        ["AWS/Lambda", "Invocations", "FunctionName", local.processor_function_name],
        ["AWS/Lambda", "Errors", "FunctionName", local.processor_function_name],
        ["AWS/Lambda", "Throttles", "FunctionName", local.processor_function_name],
      ]
      stat = "Sum"
    },
    {
      title = "Processor duration (ms)"
      metrics = [
        ["AWS/Lambda", "Duration", "FunctionName", local.processor_function_name, { stat = "p50" }],
        ["AWS/Lambda", "Duration", "FunctionName", local.processor_function_name, { stat = "p99" }],
      ]
      stat = "p50"
    },
    {
      title = "Projector: invocations, errors, lag behind the stream (ms)"
      metrics = [
        ["AWS/Lambda", "Invocations", "FunctionName", local.projector_function_name, { stat = "Sum" }],
        ["AWS/Lambda", "Errors", "FunctionName", local.projector_function_name, { stat = "Sum" }],
        ["AWS/Lambda", "IteratorAge", "FunctionName", local.projector_function_name, { stat = "Maximum", yAxis = "right" }],
      ]
      stat = "Sum"
    },
    {
      title = "Status changes and projected rows"
      metrics = [
        for m in ["StatusChanges", "Rows", "StaleRows", "Retried"] :
        [var.metrics_namespace, m, "FunctionName", local.projector_function_name]
      ]
      stat = "Sum"
    },
    {
      title = "Audit table capacity"
      metrics = [
        ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", aws_dynamodb_table.audit.name],
        ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", aws_dynamodb_table.audit.name],
        ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", aws_dynamodb_table.audit.name],
        ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", aws_dynamodb_table.audit.name],
      ]
      stat = "Sum"
    },
    {
      title = "Tracking updates (business metrics)"
      metrics = [
        for m in ["Processed", "Duplicates", "Conflicts", "Invalid", "Retried", "Redelivered"] :
        [var.metrics_namespace, m, "FunctionName", local.processor_function_name]
      ]
      stat = "Sum"
    },
    {
      title = "Update age (ms)"
      metrics = [
        [var.metrics_namespace, "EventAgeMax", "FunctionName", local.processor_function_name, { label = "now - event_time" }],
        [var.metrics_namespace, "QueueAgeMax", "FunctionName", local.processor_function_name, { label = "now - sent" }],
      ]
      stat = "Maximum"
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({
    widgets = [
      for i, w in local.dashboard_widgets : {
        type   = "metric"
        x      = (i % 2) * 12
        y      = floor(i / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = w.title
          metrics = w.metrics
          stat    = w.stat
          period  = 60
          region  = local.region
          view    = "timeSeries"
        }
      }
    ]
  })
}
