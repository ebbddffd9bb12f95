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
		{"maintenance_errors", "AWS/Lambda", "Errors", "FunctionName", cwtypes.StatisticSum, 300, 1, t.MaintenanceErrors, "maintenance_errors", gt, "notBreaching"},
	}
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

// alerts creates the alarms, their EventBridge rule and target, and the
// e-mail subscriptions, as alarms.tf, events.tf and alerts.tf do (alarm
// actions stay off: alarm_raw_notifications defaults to false).
func (st *Stack) alerts(ctx context.Context, out *outputs.Stack) (string, error) {
	cw := cloudwatch.NewFromConfig(st.cfg)
	var arns []string
	out.AlarmNames = map[string]string{}
	for _, a := range Alarms(st.s) {
		name := st.s.NamePrefix + "-" + strings.ReplaceAll(a.Key, "_", "-")
		out.AlarmNames[a.Key] = name // as the module's alarm_names output
		if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName: &name, Namespace: &a.Namespace, MetricName: &a.MetricName, Statistic: a.Statistic,
			Dimensions: []cwtypes.Dimension{{Name: &a.Dimension, Value: aws.String(a.dimensionValue(*out))}},
			Period:     &a.Period, EvaluationPeriods: &a.EvaluationPeriods, Threshold: &a.Threshold,
			ComparisonOperator: a.ComparisonOperator, TreatMissingData: &a.TreatMissingData,
		}); err != nil {
			return "", fmt.Errorf("create alarm %s: %w", name, err)
		}
		d, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
		if err != nil || len(d.MetricAlarms) != 1 {
			return "", fmt.Errorf("read alarm %s back: %w", name, err)
		}
		arns = append(arns, aws.ToString(d.MetricAlarms[0].AlarmArn))
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
		return "", fmt.Errorf("create the alarm state rule: %w", err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &rule, Targets: []ebtypes.Target{{
		Id: aws.String("alert-topic"), Arn: &out.AlertTopicARN,
		InputTransformer: &ebtypes.InputTransformer{InputPathsMap: AlertInputPaths, InputTemplate: aws.String(AlertTemplate(st.s.Environment))},
	}}}); err != nil {
		return "", fmt.Errorf("target the alert topic: %w", err)
	}
	for _, addr := range st.s.AlertEmailAddresses {
		if _, err := sns.NewFromConfig(st.cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: &out.AlertTopicARN, Protocol: aws.String("email"), Endpoint: aws.String(addr)}); err != nil {
			return "", fmt.Errorf("subscribe %s to the alert topic: %w", addr, err)
		}
	}
	return aws.ToString(created.RuleArn), nil
}
