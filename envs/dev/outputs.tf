output "pipeline" {
  description = "Every output of the module, under the module's names (its README lists them): `terraform output -json pipeline`. trackctl --env-dir reads it (internal/deploy/outputs)."
  value       = module.pipeline
}
