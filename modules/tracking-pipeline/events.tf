# Operational alerts: every state change of this stack's alarms, as a
# readable sentence on the alert topic.

resource "aws_cloudwatch_event_rule" "alarm_state_change" {
  name        = "${local.name}-alarm-state-change"
  description = "State changes of the ${local.name} alarms"
  tags        = local.tags

  event_pattern = jsonencode({
    source      = ["aws.cloudwatch"]
    detail-type = ["CloudWatch Alarm State Change"]
    resources   = [for a in aws_cloudwatch_metric_alarm.this : a.arn]
  })
}

resource "aws_cloudwatch_event_target" "alarm_state_change" {
  rule      = aws_cloudwatch_event_rule.alarm_state_change.name
  target_id = "alert-topic"
  arn       = local.alert_topic_arn

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
