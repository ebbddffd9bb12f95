package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/tracking-pipeline/tracking-pipeline/internal/outputs"
)

// AlarmThresholds mirror the module's alarm_thresholds (the defaults of its
// optional attributes).
type AlarmThresholds struct {
	QueueDepth              float64 `hcl:"queue_depth"`
	OldestMessageAgeSeconds float64 `hcl:"oldest_message_age_seconds"`
	DLQMessages             float64 `hcl:"dlq_messages"`
	ProcessorErrors         float64 `hcl:"processor_errors"`
	ProcessorThrottles      float64 `hcl:"processor_throttles"`
	MaintenanceErrors       float64 `hcl:"maintenance_errors"`
	ProjectorErrors         float64 `hcl:"projector_errors"`
	ProjectorLagSeconds     float64 `hcl:"projector_lag_seconds"`
}

// Alarm is one of the module's metric alarms (alarms.tf, local.alarms).
type Alarm struct {
	Key                string // the local.alarms key; the alarm is named <prefix>-<key with dashes>
	Namespace          string
	MetricName         string
	Dimension          string // the dimension's name; its value is the resource's name
	Statistic          cwtypes.Statistic
	Period             int32
	EvaluationPeriods  int32
	Threshold          float64
	ThresholdVar       string // the alarm_thresholds attribute the threshold comes from
	ComparisonOperator cwtypes.ComparisonOperator
	TreatMissingData   string
}

// Alarms are the module's alarms with the thresholds of s; a parity test
// holds them equal to alarms.tf. resource names each alarm's dimension value.
func Alarms(s Settings) []Alarm {
	t := s.AlarmThresholds
	gte, gt := cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, cwtypes.ComparisonOperatorGreaterThanThreshold
	return []Alarm{
		{"queue_depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", cwtypes.StatisticMaximum, 60, 5, t.QueueDepth, "queue_depth", gte, "notBreaching"},
		{"oldest_message_age", "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", cwtypes.StatisticMaximum, 60, 5, t.OldestMessageAgeSeconds, "oldest_message_age_seconds", gte, "notBreaching"},
		{"dlq_not_empty", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", cwtypes.StatisticMaximum, 60, 1, t.DLQMessages, "dlq_messages", gt, "ignore"},
		{"processor_errors", "AWS/Lambda", "Errors", "FunctionName", cwtypes.StatisticSum, 300, 1, t.ProcessorErrors, "processor_errors", gte, "notBreaching"},
		{"processor_throttles", "AWS/Lambda", "Throttles", "FunctionName", cwtypes.StatisticSum, 300, 1, t.ProcessorThrottles, "processor_throttles", gte, "notBreaching"},
		{"projector_errors", "AWS/Lambda", "Errors", "FunctionName", cwtypes.StatisticSum, 300, 1, t.ProjectorErrors, "projector_errors", gte, "notBreaching"},
		{"projector_lag", "AWS/Lambda", "IteratorAge", "FunctionName", cwtypes.StatisticMaximum, 60, 5, t.ProjectorLagSeconds, "projector_lag_seconds", gt, "notBreaching"},
		{"maintenance_errors", "AWS/Lambda", "Errors", "FunctionName", cwtypes.StatisticSum, 300, 1, t.MaintenanceErrors, "maintenance_errors", gt, "notBreaching"},
	}
}

// ThresholdScale is what the alarm's threshold setting is multiplied by:
// IteratorAge is in milliseconds, its setting in seconds.
func (a Alarm) ThresholdScale() float64 {
	if a.MetricName == "IteratorAge" {
		return 1000
	}
	return 1
}

// dimensionValue is the resource an alarm watches.
func (a Alarm) dimensionValue(out outputs.Stack) string {
	switch a.Key {
	case "dlq_not_empty":
		return out.IngestDLQURL[strings.LastIndex(out.IngestDLQURL, "/")+1:]
	case "queue_depth", "oldest_message_age":
		return out.IngestQueueURL[strings.LastIndex(out.IngestQueueURL, "/")+1:]
	case "maintenance_errors":
		return out.MaintenanceFunctionName
	case "projector_errors", "projector_lag":
		return out.ProjectorFunctionName
	}
	return out.ProcessorFunctionName
}

// AlertInputPaths and AlertTemplate are events.tf's input transformer: the
// readable sentence on-call receives for an alarm going into or out of ALARM.
var AlertInputPaths = map[string]string{
	"alarm": "$.detail.alarmName", "state": "$.detail.state.value", "previous": "$.detail.previousState.value",
	"reason": "$.detail.state.reason", "time": "$.time", "region": "$.region",
}

// AlertTemplate is the input template for environment env.
func AlertTemplate(env string) string {
	return `"[` + strings.ToUpper(env) + `] <alarm> is <state> (was <previous>) at <time> in <region>: <reason>"`
}

// AlertPatternDetail is the detail part of events.tf's event pattern: the
// changes into or out of ALARM.
const AlertPatternDetail = `{"$or":[{"state":{"value":["ALARM"]}},{"previousState":{"value":["ALARM"]}}]}`

// alertDeliveryAlarm is the alarm_names key of the alarm on the alert
// rule's FailedInvocations (alarms.tf's aws_cloudwatch_metric_alarm.alert_delivery).
const alertDeliveryAlarm = "alert_delivery"

// alerts creates the alarms, their EventBridge rule and target (with the
// alert DLQ), the alert-delivery alarm and the e-mail subscriptions, as
// alarms.tf, events.tf and alerts.tf do (alarm actions of the other alarms
// stay off: alarm_raw_notifications defaults to false).
func (st *Stack) alerts(ctx context.Context, out *outputs.Stack, p *rolePolicies) error {
	cw := cloudwatch.NewFromConfig(st.cfg)
	var arns []string
	alarmARNs := map[string]string{}
	out.AlarmNames = map[string]string{}
	for _, a := range Alarms(st.s) {
		name := st.s.NamePrefix + "-" + strings.ReplaceAll(a.Key, "_", "-")
		out.AlarmNames[a.Key] = name // as the module's alarm_names output
		if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: &name, Namespace: &a.Namespace, MetricName: &a.MetricName, Statistic: a.Statistic,
			Dimensions: []cwtypes.Dimension{{Name: &a.Dimension, Value: aws.String(a.dimensionValue(*out))}},
			Period:     &a.Period, EvaluationPeriods: &a.EvaluationPeriods, Threshold: aws.Float64(a.Threshold * a.ThresholdScale()),
			ComparisonOperator: a.ComparisonOperator, TreatMissingData: &a.TreatMissingData,
		}); err != nil {
			return fmt.Errorf("create alarm %s: %w", name, err)
		}
		arn, err := alarmARN(ctx, cw, name)
		if err != nil {
			return err
		}
		arns = append(arns, arn)
		alarmARNs[a.Key] = arn
	}
	var detail any
	_ = json.Unmarshal([]byte(AlertPatternDetail), &detail)
	pattern, _ := json.Marshal(map[string]any{
		"source": []string{"aws.cloudwatch"}, "detail-type": []string{"CloudWatch Alarm State Change"}, "resources": arns, "detail": detail,
	})
	eb := eventbridge.NewFromConfig(st.cfg)
	rule := st.s.NamePrefix + "-alarm-state-change"
	created, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: &rule, EventPattern: aws.String(string(pattern))})
	if err != nil {
		return fmt.Errorf("create the alarm state rule: %w", err)
	}
	p.withRule(rule, aws.ToString(created.RuleArn))
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &rule, Targets: []ebtypes.Target{{
		Id: aws.String("alert-topic"), Arn: &out.AlertTopicARN,
		InputTransformer: &ebtypes.InputTransformer{InputPathsMap: AlertInputPaths, InputTemplate: aws.String(AlertTemplate(st.s.Environment))},
		DeadLetterConfig: &ebtypes.DeadLetterConfig{Arn: &out.AlertDLQARN},
	}}}); err != nil {
		return fmt.Errorf("target the alert topic: %w", err)
	}
	name, arn, err := st.alertDeliveryAlarm(ctx, cw, p)
	if err != nil {
		return err
	}
	out.AlarmNames[alertDeliveryAlarm] = name
	alarmARNs[alertDeliveryAlarm] = arn
	p.withAlarms(alarmARNs)
	for _, addr := range st.s.AlertEmailAddresses {
		if _, err := sns.NewFromConfig(st.cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: &out.AlertTopicARN, Protocol: aws.String("email"), Endpoint: aws.String(addr)}); err != nil {
			return fmt.Errorf("subscribe %s to the alert topic: %w", addr, err)
		}
	}
	return nil
}

// alertDeliveryAlarm creates the alarm on the alert rule's
// FailedInvocations exactly as alarms.tf states it (read from the module,
// not copied) and returns its name and ARN.
func (st *Stack) alertDeliveryAlarm(ctx context.Context, cw *cloudwatch.Client, p *rolePolicies) (string, string, error) {
	v, err := p.resource("aws_cloudwatch_metric_alarm", "alert_delivery", "alarm_name", "alarm_description", "namespace", "metric_name",
		"statistic", "period", "evaluation_periods", "threshold", "comparison_operator", "treat_missing_data", "dimensions", "alarm_actions")
	if err != nil {
		return "", "", err
	}
	if len(v) != 12 {
		return "", "", fmt.Errorf("alarms.tf's alert_delivery alarm lacks an attribute the provisioner sets: has %d of 12", len(v))
	}
	str := func(k string) *string { return aws.String(v[k].AsString()) }
	num := func(k string) *int32 {
		n, _ := v[k].AsBigFloat().Int64()
		return aws.Int32(int32(n)) //nolint:gosec // CloudWatch's small periods and counts
	}
	threshold, _ := v["threshold"].AsBigFloat().Float64()
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName: str("alarm_name"), AlarmDescription: str("alarm_description"), Namespace: str("namespace"), MetricName: str("metric_name"),
		Statistic: cwtypes.Statistic(v["statistic"].AsString()), Period: num("period"), EvaluationPeriods: num("evaluation_periods"),
		Threshold: &threshold, ComparisonOperator: cwtypes.ComparisonOperator(v["comparison_operator"].AsString()),
		TreatMissingData: str("treat_missing_data"),
	}
	for k, d := range v["dimensions"].AsValueMap() {
		in.Dimensions = append(in.Dimensions, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(d.AsString())})
	}
	for _, a := range v["alarm_actions"].AsValueSlice() {
		in.AlarmActions = append(in.AlarmActions, a.AsString())
	}
	if _, err := cw.PutMetricAlarm(ctx, in); err != nil {
		return "", "", fmt.Errorf("create alarm %s: %w", *in.AlarmName, err)
	}
	arn, err := alarmARN(ctx, cw, *in.AlarmName)
	return *in.AlarmName, arn, err
}

// alarmARN reads an alarm's ARN back.
func alarmARN(ctx context.Context, cw *cloudwatch.Client, name string) (string, error) {
	d, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil || len(d.MetricAlarms) != 1 {
		return "", fmt.Errorf("read alarm %s back: %w", name, err)
	}
	return aws.ToString(d.MetricAlarms[0].AlarmArn), nil
}
