# The daily maintenance run: EventBridge Scheduler, with a time zone, retries
# and a DLQ for invocations it could not deliver.

resource "aws_scheduler_schedule" "maintenance" {
  name                         = "${local.name}-maintenance"
  description                  = "Daily DLQ digest and stats of ${local.name}"
  schedule_expression          = var.maintenance_schedule_expression
  schedule_expression_timezone = var.maintenance_schedule_timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.maintenance.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ tasks = ["dlq-digest", "daily-stats", "redrive"] })

    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }

    dead_letter_config {
      arn = aws_sqs_queue.maintenance_dlq.arn
    }
  }
}
