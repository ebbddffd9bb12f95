output "ingest_queue_url" {
  description = "Where producers send tracking updates."
  value       = module.pipeline.ingest_queue_url
}

output "ingest_queue_arn" {
  description = "ARN of the ingest queue."
  value       = module.pipeline.ingest_queue_arn
}

output "dlq_url" {
  description = "The ingest dead-letter queue."
  value       = module.pipeline.dlq_url
}

output "dlq_arn" {
  description = "ARN of the ingest dead-letter queue."
  value       = module.pipeline.dlq_arn
}

output "processor_function_name" {
  description = "The processor function."
  value       = module.pipeline.processor_function_name
}

output "maintenance_function_name" {
  description = "The maintenance function."
  value       = module.pipeline.maintenance_function_name
}

output "audit_table_name" {
  description = "The audit table."
  value       = module.pipeline.audit_table_name
}

output "alert_topic_arn" {
  description = "The alert topic."
  value       = module.pipeline.alert_topic_arn
}

output "alarm_names" {
  description = "Alarm names by role."
  value       = module.pipeline.alarm_names
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = module.pipeline.dashboard_name
}
