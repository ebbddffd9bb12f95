output "ingest_queue_url" {
  description = "URL of the ingest queue producers send tracking updates to."
  value       = aws_sqs_queue.ingest.url
}

output "ingest_queue_arn" {
  description = "ARN of the ingest queue."
  value       = aws_sqs_queue.ingest.arn
}

output "ingest_dlq_url" {
  description = "URL of the ingest dead-letter queue."
  value       = aws_sqs_queue.ingest_dlq.url
}

output "ingest_dlq_arn" {
  description = "ARN of the ingest dead-letter queue."
  value       = aws_sqs_queue.ingest_dlq.arn
}

output "maintenance_dlq_url" {
  description = "URL of the queue holding failed maintenance invocations."
  value       = aws_sqs_queue.maintenance_dlq.url
}

output "maintenance_dlq_arn" {
  description = "ARN of the queue holding failed maintenance invocations."
  value       = aws_sqs_queue.maintenance_dlq.arn
}

output "alert_dlq_url" {
  description = "URL of the queue holding alarm notifications EventBridge could not deliver to the alert topic."
  value       = aws_sqs_queue.alert_dlq.url
}

output "alert_dlq_arn" {
  description = "ARN of the queue holding alarm notifications EventBridge could not deliver to the alert topic."
  value       = aws_sqs_queue.alert_dlq.arn
}

output "producer_policy_json" {
  description = "The IAM identity policy a producer attaches to send tracking updates: sqs:SendMessage on the ingest queue and the key use SQS needs, through SQS only."
  value       = data.aws_iam_policy_document.producer.json
}

output "processor_function_name" {
  description = "Name of the processor Lambda function."
  value       = aws_lambda_function.processor.function_name
}

output "processor_function_arn" {
  description = "ARN of the processor Lambda function."
  value       = aws_lambda_function.processor.arn
}

output "projector_function_name" {
  description = "Name of the projector Lambda function (the audit table's stream to latest statuses, day counters and status-change events)."
  value       = aws_lambda_function.projector.function_name
}

output "projector_dlq_url" {
  description = "URL of the queue holding the stream batches the projector gave up on (records older than 12 hours), for trackctl rebuild."
  value       = aws_sqs_queue.projector_dlq.url
}

output "projector_dlq_arn" {
  description = "ARN of the queue holding the stream batches the projector gave up on."
  value       = aws_sqs_queue.projector_dlq.arn
}

output "event_bus_name" {
  description = "Name of the EventBridge bus carrying the status-change events (created or supplied)."
  value       = local.event_bus_name
}

output "event_bus_arn" {
  description = "ARN of the EventBridge bus carrying the status-change events."
  value       = local.event_bus_arn
}

output "status_change_event_pattern" {
  description = "The event pattern of the status-change events (\"Tracking Status Changed\"), for a consumer's rule on the bus; narrow it on detail fields, for example detail.status."
  value       = local.status_change_event_pattern
}

output "maintenance_function_name" {
  description = "Name of the maintenance Lambda function."
  value       = aws_lambda_function.maintenance.function_name
}

output "maintenance_function_arn" {
  description = "ARN of the maintenance Lambda function."
  value       = aws_lambda_function.maintenance.arn
}

output "audit_table_name" {
  description = "Name of the DynamoDB audit table."
  value       = aws_dynamodb_table.audit.name
}

output "audit_table_arn" {
  description = "ARN of the DynamoDB audit table."
  value       = aws_dynamodb_table.audit.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting queues, table, topic and logs (created or supplied)."
  value       = local.kms_key_arn
}

output "alert_topic_arn" {
  description = "ARN of the SNS topic receiving alarms and operational alerts (created or supplied)."
  value       = local.alert_topic_arn
}

output "alarm_names" {
  description = "Alarm names by role: queue_depth, oldest_message_age, dlq_not_empty, processor_errors, processor_throttles, projector_errors, projector_lag, maintenance_errors, and alert_delivery (the alert path itself)."
  value       = merge({ for k, a in aws_cloudwatch_metric_alarm.this : k => a.alarm_name }, { alert_delivery = aws_cloudwatch_metric_alarm.alert_delivery.alarm_name })
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard, or null when create_dashboard is false."
  value       = var.create_dashboard ? aws_cloudwatch_dashboard.this[0].dashboard_name : null
}

output "maintenance_schedule_name" {
  description = "Name of the EventBridge Scheduler schedule running the maintenance job."
  value       = aws_scheduler_schedule.maintenance.name
}

output "log_group_names" {
  description = "Log group names by function: processor, projector, maintenance."
  value = {
    processor   = aws_cloudwatch_log_group.processor.name
    projector   = aws_cloudwatch_log_group.projector.name
    maintenance = aws_cloudwatch_log_group.maintenance.name
  }
}
