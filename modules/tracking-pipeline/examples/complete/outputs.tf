output "ingest_queue_url" {
  description = "Where producers send tracking updates."
  value       = module.tracking_pipeline.ingest_queue_url
}

output "producer_policy_json" {
  description = "The identity policy each producer attaches to send."
  value       = module.tracking_pipeline.producer_policy_json
}

output "alarm_names" {
  description = "Alarm names by role."
  value       = module.tracking_pipeline.alarm_names
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = module.tracking_pipeline.dashboard_name
}
