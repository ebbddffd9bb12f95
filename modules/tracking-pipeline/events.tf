# Operational alerts: each time one of this stack's alarms goes into ALARM
# or leaves it, a readable sentence on the alert topic. Changes that do not
# touch ALARM (INSUFFICIENT_DATA to OK after every apply, for one) stay out
# of on-call's inbox; DescribeAlarmHistory still has them.

resource "aws_cloudwatch_event_rule" "alarm_state_change" {
  name        = "${local.name}-alarm-state-change"
  description = "The ${local.name} alarms going into or out of ALARM"
  tags        = local.tags

  event_pattern = jsonencode({
    source      = ["aws.cloudwatch"]
    detail-type = ["CloudWatch Alarm State Change"]
    resources   = [for a in aws_cloudwatch_metric_alarm.this : a.arn]
    detail = {
      "$or" = [
        { state = { value = ["ALARM"] } },
        { previousState = { value = ["ALARM"] } },
      ]
    }
  })
}

resource "aws_cloudwatch_event_target" "alarm_state_change" {
  rule      = aws_cloudwatch_event_rule.alarm_state_change.name
  target_id = "alert-topic"
  arn       = local.alert_topic_arn

  # A sentence EventBridge cannot deliver (a topic or key policy that
  # refuses it, a deleted topic) is kept here with the reason, not lost;
  # the alert-delivery alarm tells on-call (alarms.tf).
  dead_letter_config {
    arn = aws_sqs_queue.alert_dlq.arn
  }

  input_transformer {
    input_paths = {
      alarm    = "$.detail.alarmName"
      state    = "$.detail.state.value"
      previous = "$.detail.previousState.value"
      reason   = "$.detail.state.reason"
      time     = "$.time"
      region   = "$.region"
    }
    input_template = "\"[${upper(var.environment)}] <alarm> is <state> (was <previous>) at <time> in <region>: <reason>\""
  }
}

################################################################################
# Status-change events
################################################################################

# The bus the projector puts "Tracking Status Changed" events on, unless
# event_bus_name names one. Consumers add their own rules on it with the
# status_change_event_pattern output.
resource "aws_cloudwatch_event_bus" "status" {
  count = local.create_event_bus ? 1 : 0

  name = "${local.name}-tracking"
  tags = local.tags
}
