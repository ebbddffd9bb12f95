output "ingest_queue_url" {
  description = "Where producers send tracking updates."
  value       = module.tracking_pipeline.ingest_queue_url
}

output "producer_policy_json" {
  description = "The identity policy a producer attaches to send."
  value       = module.tracking_pipeline.producer_policy_json
}
