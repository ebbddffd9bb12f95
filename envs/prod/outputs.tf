# Every output of the module, under the same name (TestRootsOutputEveryModuleOutput).
output "ingest_queue_url" {
  description = "URL of the ingest queue producers send tracking updates to."
  value       = module.pipeline.ingest_queue_url
}

output "ingest_queue_arn" {
  description = "ARN of the ingest queue."
  value       = module.pipeline.ingest_queue_arn
}

output "ingest_dlq_url" {
  description = "URL of the ingest dead-letter queue."
  value       = module.pipeline.ingest_dlq_url
}

output "ingest_dlq_arn" {
  description = "ARN of the ingest dead-letter queue."
  value       = module.pipeline.ingest_dlq_arn
}

output "maintenance_dlq_url" {
  description = "URL of the queue holding failed maintenance invocations."
  value       = module.pipeline.maintenance_dlq_url
}

output "maintenance_dlq_arn" {
  description = "ARN of the queue holding failed maintenance invocations."
  value       = module.pipeline.maintenance_dlq_arn
}

output "alert_dlq_url" {
  description = "URL of the queue holding alarm notifications EventBridge could not deliver to the alert topic."
  value       = module.pipeline.alert_dlq_url
}

output "alert_dlq_arn" {
  description = "ARN of the queue holding alarm notifications EventBridge could not deliver to the alert topic."
  value       = module.pipeline.alert_dlq_arn
}

output "producer_policy_json" {
  description = "The IAM identity policy a producer attaches to send tracking updates: sqs:SendMessage on the ingest queue and the key use SQS needs, through SQS only."
  value       = module.pipeline.producer_policy_json
}

output "processor_function_name" {
  description = "Name of the processor Lambda function."
  value       = module.pipeline.processor_function_name
}

output "processor_function_arn" {
  description = "ARN of the processor Lambda function."
  value       = module.pipeline.processor_function_arn
}

output "projector_function_name" {
  description = "Name of the projector Lambda function (the audit table's stream to latest statuses, day counters and status-change events)."
  value       = module.pipeline.projector_function_name
}

output "projector_dlq_url" {
  description = "URL of the queue holding the stream batches the projector gave up on (records older than 12 hours), for trackctl rebuild."
  value       = module.pipeline.projector_dlq_url
}

output "projector_dlq_arn" {
  description = "ARN of the queue holding the stream batches the projector gave up on."
  value       = module.pipeline.projector_dlq_arn
}

output "event_bus_name" {
  description = "Name of the EventBridge bus carrying the status-change events (created or supplied)."
  value       = module.pipeline.event_bus_name
}

output "event_bus_arn" {
  description = "ARN of the EventBridge bus carrying the status-change events."
  value       = module.pipeline.event_bus_arn
}

output "status_change_event_pattern" {
  description = "The event pattern of the status-change events (\"Tracking Status Changed\"), for a consumer's rule on the bus; narrow it on detail fields, for example detail.status."
  value       = module.pipeline.status_change_event_pattern
}

output "maintenance_function_name" {
  description = "Name of the maintenance Lambda function."
  value       = module.pipeline.maintenance_function_name
}

output "maintenance_function_arn" {
  description = "ARN of the maintenance Lambda function."
  value       = module.pipeline.maintenance_function_arn
}

output "audit_table_name" {
  description = "Name of the DynamoDB audit table."
  value       = module.pipeline.audit_table_name
}

output "audit_table_arn" {
  description = "ARN of the DynamoDB audit table."
  value       = module.pipeline.audit_table_arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting queues, table, topic and logs (created or supplied)."
  value       = module.pipeline.kms_key_arn
}

output "alert_topic_arn" {
  description = "ARN of the SNS topic receiving alarms and operational alerts (created or supplied)."
  value       = module.pipeline.alert_topic_arn
}

output "alarm_names" {
  description = "Alarm names by role: queue_depth, oldest_message_age, dlq_not_empty, processor_errors, processor_throttles, projector_errors, projector_lag, maintenance_errors, and alert_delivery (the alert path itself)."
  value       = module.pipeline.alarm_names
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard, or null when create_dashboard is false."
  value       = module.pipeline.dashboard_name
}

output "maintenance_schedule_name" {
  description = "Name of the EventBridge Scheduler schedule running the maintenance job."
  value       = module.pipeline.maintenance_schedule_name
}

output "log_group_names" {
  description = "Log group names by function: processor, projector, maintenance."
  value       = module.pipeline.log_group_names
}
