output "pipeline" {
  description = "Every output of the module, under the module's names (its README lists them): `terraform output -json pipeline`."
  value       = module.tracking_pipeline
}

# The example's own consumer (consumer.tf).
output "delivered_queue_url" {
  description = "URL of the example consumer's queue: a status-change event for each package whose latest status became DELIVERED."
  value       = aws_sqs_queue.delivered.url
}
