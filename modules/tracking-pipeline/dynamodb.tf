# The audit table. Keys and the index are those internal/audit needs (keys.go,
# schema.go); the module README's "Access patterns of the audit table"
# documents each. On-demand: the load is bursty.

resource "aws_dynamodb_table" "audit" {
  name                        = "${local.name}-audit"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection
  tags                        = local.tags

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "event_ts"
    type = "S"
  }

  attribute {
    name = "status_shard"
    type = "S"
  }

  attribute {
    name = "latest_order"
    type = "S"
  }

  # A package's trail in event-time order; sparse: only audit rows carry event_ts.
  local_secondary_index {
    name            = local.audit_index_by_time
    range_key       = "event_ts"
    projection_type = "ALL"
  }

  # Packages by latest status, oldest first: sparse (only a package's LATEST
  # item carries status_shard, <status>#<shard 00-15>) and write-sharded,
  # so one status's writes spread over 16 partitions; "which packages are
  # in status X" is 16 Queries, never a Scan.
  global_secondary_index {
    name            = local.audit_index_by_status
    hash_key        = "status_shard"
    range_key       = "latest_order"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = local.audit_ttl_attribute
    enabled        = true
  }

  # On by default; a caller may turn it off (envs/dev does, to save cost).
  #trivy:ignore:AVD-AWS-0024
  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = local.kms_key_arn
  }
}
