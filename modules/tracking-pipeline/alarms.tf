# Alarms on the symptoms operators act on. treat_missing_data per alarm:
# - queue metrics stop when a queue is idle for hours: an idle queue is
#   healthy, so missing data is notBreaching;
# - the DLQ alarm ignores missing data: once messages are there it stays in
#   ALARM until a datapoint shows the DLQ empty;
# - Lambda publishes Errors/Throttles only when invoked: no invocations is no
#   errors, so notBreaching; IteratorAge only when it delivers a batch: an
#   idle stream is not behind, so notBreaching.

locals {
  # Every transition reaches the topic once, as the EventBridge rule's
  # readable sentence (events.tf); CloudWatch's own JSON only on request.
  alarm_actions = var.alarm_raw_notifications ? [local.alert_topic_arn] : []

  alarms = {
    queue_depth = {
      description         = "More than ${var.alarm_thresholds.queue_depth} tracking updates wait on ${aws_sqs_queue.ingest.name}: the processor is not keeping up."
      namespace           = "AWS/SQS"
      metric_name         = "ApproximateNumberOfMessagesVisible"
      dimensions          = tomap({ QueueName = aws_sqs_queue.ingest.name })
      statistic           = "Maximum"
      period              = 60
      evaluation_periods  = 5
      threshold           = var.alarm_thresholds.queue_depth
      comparison_operator = "GreaterThanOrEqualToThreshold"
      treat_missing_data  = "notBreaching"
    }
    oldest_message_age = {
      description         = "The oldest message on ${aws_sqs_queue.ingest.name} is over ${var.alarm_thresholds.oldest_message_age_seconds} s old: updates are late."
      namespace           = "AWS/SQS"
      metric_name         = "ApproximateAgeOfOldestMessage"
      dimensions          = tomap({ QueueName = aws_sqs_queue.ingest.name })
      statistic           = "Maximum"
      period              = 60
      evaluation_periods  = 5
      threshold           = var.alarm_thresholds.oldest_message_age_seconds
      comparison_operator = "GreaterThanOrEqualToThreshold"
      treat_missing_data  = "notBreaching"
    }
    dlq_not_empty = {
      description         = "Messages are in ${aws_sqs_queue.ingest_dlq.name}: see their ErrorCode attribute or run trackctl dlq list."
      namespace           = "AWS/SQS"
      metric_name         = "ApproximateNumberOfMessagesVisible"
      dimensions          = tomap({ QueueName = aws_sqs_queue.ingest_dlq.name })
      statistic           = "Maximum"
      period              = 60
      evaluation_periods  = 1
      threshold           = var.alarm_thresholds.dlq_messages
      comparison_operator = "GreaterThanThreshold"
      treat_missing_data  = "ignore"
    }
    processor_errors = {
      description         = "${local.processor_function_name} failed ${var.alarm_thresholds.processor_errors} or more invocations in 5 minutes."
      namespace           = "AWS/Lambda"
      metric_name         = "Errors"
      dimensions          = tomap({ FunctionName = aws_lambda_function.processor.function_name })
      statistic           = "Sum"
      period              = 300
      evaluation_periods  = 1
      threshold           = var.alarm_thresholds.processor_errors
      comparison_operator = "GreaterThanOrEqualToThreshold"
      treat_missing_data  = "notBreaching"
    }
    processor_throttles = {
      description         = "${local.processor_function_name} was throttled ${var.alarm_thresholds.processor_throttles} or more times in 5 minutes: raise its concurrency."
      namespace           = "AWS/Lambda"
      metric_name         = "Throttles"
      dimensions          = tomap({ FunctionName = aws_lambda_function.processor.function_name })
      statistic           = "Sum"
      period              = 300
      evaluation_periods  = 1
      threshold           = var.alarm_thresholds.processor_throttles
      comparison_operator = "GreaterThanOrEqualToThreshold"
      treat_missing_data  = "notBreaching"
    }
    projector_errors = {
      description         = "${local.projector_function_name} failed ${var.alarm_thresholds.projector_errors} or more invocations in 5 minutes: latest statuses, day counters and status-change events lag until it recovers (its batches are retried)."
      namespace           = "AWS/Lambda"
      metric_name         = "Errors"
      dimensions          = tomap({ FunctionName = aws_lambda_function.projector.function_name })
      statistic           = "Sum"
      period              = 300
      evaluation_periods  = 1
      threshold           = var.alarm_thresholds.projector_errors
      comparison_operator = "GreaterThanOrEqualToThreshold"
      treat_missing_data  = "notBreaching"
    }
    projector_lag = {
      description         = "${local.projector_function_name} is more than ${var.alarm_thresholds.projector_lag_seconds} s behind the audit table's stream (IteratorAge); records older than 12 hours go to ${aws_sqs_queue.projector_dlq.name}, and the stream keeps them 24 hours."
      namespace           = "AWS/Lambda"
      metric_name         = "IteratorAge"
      dimensions          = tomap({ FunctionName = aws_lambda_function.projector.function_name })
      statistic           = "Maximum"
      period              = 60
      evaluation_periods  = 5
      threshold           = var.alarm_thresholds.projector_lag_seconds * 1000
      comparison_operator = "GreaterThanThreshold"
      treat_missing_data  = "notBreaching"
    }
    maintenance_errors = {
      description         = "The maintenance job ${local.maintenance_function_name} failed; see its log group and ${aws_sqs_queue.maintenance_dlq.name}."
      namespace           = "AWS/Lambda"
      metric_name         = "Errors"
      dimensions          = tomap({ FunctionName = aws_lambda_function.maintenance.function_name })
      statistic           = "Sum"
      period              = 300
      evaluation_periods  = 1
      threshold           = var.alarm_thresholds.maintenance_errors
      comparison_operator = "GreaterThanThreshold"
      treat_missing_data  = "notBreaching"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${local.name}-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison_operator
  treat_missing_data  = each.value.treat_missing_data
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

# The alert path watched: EventBridge failing to deliver an alarm sentence
# to the topic shows only in the rule's FailedInvocations ("Monitoring
# Amazon EventBridge": published only when not zero, so missing data is
# none). This alarm publishes to the topic itself, as CloudWatch, not
# through the rule it watches; on-call gets one message per episode (no OK
# action: quiet does not mean repaired, the alert DLQ tells).
resource "aws_cloudwatch_metric_alarm" "alert_delivery" {
  alarm_name          = "${local.name}-alert-delivery"
  alarm_description   = "EventBridge could not deliver alarm notifications of ${local.name} to the alert topic: they are in ${aws_sqs_queue.alert_dlq.name} with ERROR_CODE and ERROR_MESSAGE. Check the topic's and the key's policies."
  namespace           = "AWS/Events"
  metric_name         = "FailedInvocations"
  dimensions          = { RuleName = aws_cloudwatch_event_rule.alarm_state_change.name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alert_topic_arn]
  tags                = local.tags
}
