output "ingest_queue_url" {
  description = "Where producers send tracking updates."
  value       = module.tracking_pipeline.ingest_queue_url
}

output "kms_key_arn" {
  description = "The shared key the stack uses (the module's output echoes it)."
  value       = module.tracking_pipeline.kms_key_arn
}

output "alert_topic_arn" {
  description = "The shared on-call topic the stack's alerts go to."
  value       = module.tracking_pipeline.alert_topic_arn
}
