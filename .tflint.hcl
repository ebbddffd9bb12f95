# tflint with its bundled Terraform rules, all of them: documented and typed
# variables and outputs, naming convention, standard module structure,
# unused declarations, pinned versions.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
