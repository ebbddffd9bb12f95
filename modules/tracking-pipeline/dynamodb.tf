# The audit table. Keys, the index and the stream are those internal/audit
# needs (keys.go, schema.go); the module README's "Access patterns of the
# audit table" documents each. On-demand: the load is bursty. The audit row is
# the only item the processor commits an update with; the projector keeps
# the latest statuses, the status index and the day counters from the stream.

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
    name = "status_shard"
    type = "S"
  }

  attribute {
    name = "latest_order"
    type = "S"
  }

  # Packages by latest status, oldest first: sparse (only a package's LATEST
  # item carries status_shard, <status>#<shard 00-15>) and write-sharded,
  # so one status's writes spread over 16 partitions; "which packages are
  # in status X" is 16 Queries, never a Scan. Keys only: the package is in
  # pk, the event in latest_order.
  global_secondary_index {
    name            = local.audit_index_by_status
    hash_key        = "status_shard"
    range_key       = "latest_order"
    projection_type = "KEYS_ONLY"
  }

  # New images: the projector reads rows, conflicts and settled messages
  # from their INSERT records (a 24-hour retention).
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"

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
