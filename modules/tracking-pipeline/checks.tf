# Cross-variable rules, as preconditions of a terraform_data resource: it is
# built into Terraform and OpenTofu, so the rules are checked at plan before
# any AWS resource, and a test can check them with no provider installed.

locals {
  # AWS's recommendation for an SQS event source (it requires only the
  # function timeout): the queue's visibility timeout is at least six times
  # the function timeout plus the batching window.
  min_visibility_timeout = 6 * var.processor_timeout_seconds + var.maximum_batching_window_seconds
  visibility_timeout     = coalesce(var.visibility_timeout_seconds, local.min_visibility_timeout)
}

resource "terraform_data" "settings_check" {
  input = {
    visibility_timeout = local.visibility_timeout
    batch_size         = var.batch_size
  }

  lifecycle {
    precondition {
      condition     = local.visibility_timeout >= local.min_visibility_timeout
      error_message = "visibility_timeout_seconds (${local.visibility_timeout}) must be at least 6 x processor_timeout_seconds + maximum_batching_window_seconds = ${local.min_visibility_timeout}, as AWS recommends for a Lambda SQS event source; leave it null to derive it."
    }
    precondition {
      condition     = var.dlq_message_retention_seconds > var.message_retention_seconds
      error_message = "dlq_message_retention_seconds (${var.dlq_message_retention_seconds}) must be longer than message_retention_seconds (${var.message_retention_seconds}): a message moved to the DLQ keeps its original enqueue time and would expire early."
    }
    precondition {
      condition     = var.create_kms_key == null || (var.create_kms_key ? var.kms_key_arn == null : var.kms_key_arn != null)
      error_message = "create_kms_key = false needs kms_key_arn; create_kms_key = true takes no kms_key_arn."
    }
    precondition {
      condition     = var.create_alert_topic == null || (var.create_alert_topic ? var.alert_topic_arn == null : var.alert_topic_arn != null)
      error_message = "create_alert_topic = false needs alert_topic_arn; create_alert_topic = true takes no alert_topic_arn."
    }
    precondition {
      condition     = var.batch_size <= 10 || var.maximum_batching_window_seconds >= 1
      error_message = "batch_size ${var.batch_size} needs maximum_batching_window_seconds of at least 1: AWS allows batches over 10 only with a batching window."
    }
  }
}
