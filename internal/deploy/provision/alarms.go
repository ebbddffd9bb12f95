package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
)

// AlarmThresholds are the module's alarm_thresholds, by attribute (the json tag).
type AlarmThresholds struct {
	QueueDepth              float64 `json:"queue_depth"`
	OldestMessageAgeSeconds float64 `json:"oldest_message_age_seconds"`
	DLQMessages             float64 `json:"dlq_messages"`
	ProcessorErrors         float64 `json:"processor_errors"`
	ProcessorThrottles      float64 `json:"processor_throttles"`
	MaintenanceErrors       float64 `json:"maintenance_errors"`
	ProjectorErrors         float64 `json:"projector_errors"`
	ProjectorLagSeconds     float64 `json:"projector_lag_seconds"`
}

// alertDeliveryAlarm is the alarm_names key of the alarm on the alert
// rule's FailedInvocations (alarms.tf's aws_cloudwatch_metric_alarm.alert_delivery).
const alertDeliveryAlarm = "alert_delivery"

// alerts creates the alarms, their EventBridge rule and target (with the
// alert DLQ), the alert-delivery alarm and the e-mail subscriptions, as
// alarms.tf, events.tf and alerts.tf do (alarm actions of the other alarms
// stay off: alarm_raw_notifications defaults to false).
func (st *Stack) alerts(ctx context.Context, out *outputs.Stack, p *rolePolicies) error {
	cw := cloudwatch.NewFromConfig(st.cfg)
	keys, err := p.mod.InstanceKeys("aws_cloudwatch_metric_alarm", "this", p.vars, p.refs)
	if err != nil {
		return fmt.Errorf("read the module's alarms: %w", err)
	}
	alarmARNs := map[string]string{}
	out.AlarmNames = map[string]string{}
	for _, key := range keys {
		name, arn, err := st.putAlarm(ctx, cw, p, `this["`+key+`"]`)
		if err != nil {
			return err
		}
		out.AlarmNames[key] = name // as the module's alarm_names output
		alarmARNs[key] = arn
	}
	p.withAlarms(alarmARNs) // the rule's pattern names them
	if err := st.alertRule(ctx, p); err != nil {
		return err
	}
	name, arn, err := st.putAlarm(ctx, cw, p, alertDeliveryAlarm)
	if err != nil {
		return err
	}
	out.AlarmNames[alertDeliveryAlarm] = name
	alarmARNs[alertDeliveryAlarm] = arn
	p.withAlarms(alarmARNs)
	topic := sns.NewFromConfig(st.cfg)
	for _, addr := range st.s.AlertEmailAddresses {
		if _, err := topic.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &out.AlertTopicARN, Protocol: aws.String("email"), Endpoint: aws.String(addr)}); err != nil {
			return fmt.Errorf("subscribe %s to the alert topic: %w", addr, err)
		}
	}
	return nil
}

// alertRule creates the EventBridge rule on the alarms' state changes and
// its target, the alert topic with the readable sentence and the alert
// DLQ, as events.tf states them (read from the module, not copied).
func (st *Stack) alertRule(ctx context.Context, p *rolePolicies) error {
	rule, err := p.resource("aws_cloudwatch_event_rule", "alarm_state_change", "name", "description", "event_pattern")
	if err != nil {
		return err
	}
	eb := eventbridge.NewFromConfig(st.cfg)
	name := rule["name"].AsString()
	created, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: &name, Description: aws.String(rule["description"].AsString()), EventPattern: aws.String(rule["event_pattern"].AsString()),
	})
	if err != nil {
		return fmt.Errorf("create the alarm state rule: %w", err)
	}
	p.withRule(name, aws.ToString(created.RuleArn))
	target, err := p.resource("aws_cloudwatch_event_target", "alarm_state_change", "target_id", "arn",
		"dead_letter_config.arn", "input_transformer.input_paths", "input_transformer.input_template")
	if err != nil {
		return err
	}
	if len(target) != 5 {
		return fmt.Errorf("events.tf's alarm_state_change target lacks an attribute the provisioner sets: has %d of 5", len(target))
	}
	paths := map[string]string{}
	for k, v := range target["input_transformer.input_paths"].AsValueMap() {
		paths[k] = v.AsString()
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &name, Targets: []ebtypes.Target{{
		Id: aws.String(target["target_id"].AsString()), Arn: aws.String(target["arn"].AsString()),
		InputTransformer: &ebtypes.InputTransformer{InputPathsMap: paths, InputTemplate: aws.String(target["input_transformer.input_template"].AsString())},
		DeadLetterConfig: &ebtypes.DeadLetterConfig{Arn: aws.String(target["dead_letter_config.arn"].AsString())},
	}}}); err != nil {
		return fmt.Errorf("target the alert topic: %w", err)
	}
	return nil
}

// alarmAttributes are what the provisioner reads of an alarm; each but the
// actions must be set.
var alarmAttributes = []string{"alarm_name", "alarm_description", "namespace", "metric_name", "statistic", "period",
	"evaluation_periods", "threshold", "comparison_operator", "treat_missing_data", "dimensions", "alarm_actions", "ok_actions"}

// putAlarm creates the module's alarm aws_cloudwatch_metric_alarm.<address>
// (`this["queue_depth"]`, `alert_delivery`) exactly as alarms.tf states it
// (read from the module, not copied) and returns its name and ARN.
func (st *Stack) putAlarm(ctx context.Context, cw *cloudwatch.Client, p *rolePolicies, address string) (string, string, error) {
	v, err := p.resource("aws_cloudwatch_metric_alarm", address, alarmAttributes...)
	if err != nil {
		return "", "", err
	}
	for _, k := range alarmAttributes[:len(alarmAttributes)-2] {
		if _, ok := v[k]; !ok {
			return "", "", fmt.Errorf("alarms.tf's alarm %s does not set %s, which the provisioner needs", address, k)
		}
	}
	str := func(k string) *string { return aws.String(v[k].AsString()) }
	num := func(k string) *int32 { return aws.Int32(int32(intOf(v[k]))) } //nolint:gosec // CloudWatch's small periods and counts
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
	for attr, actions := range map[string]*[]string{"alarm_actions": &in.AlarmActions, "ok_actions": &in.OKActions} {
		if a, ok := v[attr]; ok {
			for _, arn := range a.AsValueSlice() {
				*actions = append(*actions, arn.AsString())
			}
		}
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
