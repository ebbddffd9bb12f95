package cloudwatch

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// Publisher publishes a message to an SNS topic (alarm actions).
type Publisher interface {
	Publish(ctx context.Context, topicARN, subject, message string) error
}

// Authorizer decides whether CloudWatch, as its service principal, may
// publish an alarm's action to a topic (the topic's and the key's policies).
type Authorizer interface {
	ServicePublish(ctx context.Context, service, sourceARN, sourceAccount, topicARN string) error
}

// EventBus takes an event for the default event bus (alarm state changes).
type EventBus interface {
	Deliver(event map[string]any)
}

// account is the account the local AWS reports.
const account = awsapi.Account

// evaluateEvery is how often alarms are evaluated: "CloudWatch evaluates
// metric alarms every minute" for periods of a minute or more.
const evaluateEvery = time.Minute

// run evaluates every alarm at each virtual minute until ctx ends.
func (s *Service) run(ctx context.Context) {
	s.clock.Every(ctx, evaluateEvery, func(at time.Time) { s.evaluateAll(ctx, at) })
}

// evaluateAll evaluates each alarm over its newest complete periods before at.
func (s *Service) evaluateAll(ctx context.Context, at time.Time) {
	s.alarms.mu.Lock()
	list := make([]metricAlarm, 0, len(s.alarms.byName))
	for _, a := range s.alarms.byName {
		list = append(list, *a)
	}
	s.alarms.mu.Unlock()
	for _, a := range list {
		if ctx.Err() != nil {
			return
		}
		if out := evaluate(a.rule(), s.samples(&a, at), at); out.state != "" {
			s.transition(a.AlarmName, out, at, false)
		}
	}
}

// samples returns the alarm's statistic for its newest EvaluationPeriods
// complete periods before at, oldest first; the local AWS evaluates
// complete periods aligned to the period (a 5-minute period ends at :00,
// :05, ...), so a breach is seen at most one period after it happened.
func (s *Service) samples(a *metricAlarm, at time.Time) []sample {
	period := time.Duration(a.Period) * time.Second
	end := at.Truncate(period)
	start := end.Add(-time.Duration(a.EvaluationPeriods) * period)
	m := Metric{Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions}
	got := map[time.Time]bucket{}
	for _, b := range s.metrics.buckets(m, start, end, period, a.Unit) {
		got[b.start] = b
	}
	out := make([]sample, 0, a.EvaluationPeriods)
	for t := start; t.Before(end); t = t.Add(period) {
		b, ok := got[t]
		v := 0.0
		if ok {
			v, _ = b.stat(a.Statistic)
		}
		out = append(out, sample{at: t, value: v, ok: ok})
	}
	return out
}

// transition sets an alarm's state and, when the state changed, records it,
// carries out the actions for the new state and puts a "CloudWatch Alarm
// State Change" event on the default bus. forced is a SetAlarmState call.
// It reports whether the alarm exists.
func (s *Service) transition(name string, out outcome, at time.Time, forced bool) bool {
	a := s.alarms
	a.mu.Lock()
	alarm, ok := a.byName[name]
	if !ok {
		a.mu.Unlock()
		return false
	}
	prev := *alarm
	if prev.StateValue == out.state && !forced {
		a.mu.Unlock()
		return true
	}
	alarm.StateValue, alarm.StateReason, alarm.StateReasonData, alarm.StateUpdatedTimestamp = out.state, out.reason, out.data, at
	if prev.StateValue == out.state {
		a.mu.Unlock()
		return true
	}
	alarm.StateTransitionedTimestamp = at
	now := *alarm
	history, _ := json.Marshal(map[string]any{
		"version":  "1.0",
		"oldState": map[string]any{"stateValue": prev.StateValue, "stateReason": prev.StateReason},
		"newState": map[string]any{"stateValue": now.StateValue, "stateReason": now.StateReason},
	})
	a.record(historyItem{AlarmName: name, Timestamp: at, HistoryItemType: "StateUpdate",
		HistorySummary: "Alarm updated from " + prev.StateValue + " to " + now.StateValue, HistoryData: string(history)})
	var actions []string
	if now.ActionsEnabled {
		actions = map[string][]string{stateAlarm: now.AlarmActions, stateOK: now.OKActions, stateInsufficient: now.InsufficientDataActions}[now.StateValue]
	}
	a.mu.Unlock()

	s.log.Info("alarm state changed", zap.String("alarm", name), zap.String("from", prev.StateValue), zap.String("to", now.StateValue), zap.String("reason", now.StateReason))
	s.events.Deliver(s.stateChangeEvent(&prev, &now, at))
	for _, action := range actions {
		s.act(name, action, &prev, &now, at)
	}
	return true
}

// act carries out one alarm action. Only SNS topics are emulated; any other
// action (EC2, Auto Scaling, Systems Manager, Lambda) is recorded as failed.
func (s *Service) act(name, action string, prev, now *metricAlarm, at time.Time) {
	summary := "Successfully executed action " + action
	if !strings.Contains(action, ":sns:") {
		summary = "Failed to execute action " + action + ": not emulated by the local AWS"
		s.log.Warn("alarm action not carried out", zap.String("alarm", name), zap.String("action", action))
	} else {
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		defer cancel()
		// The subject AWS gives alarm notifications: ALARM: "name" in <region>.
		subject := now.StateValue + `: "` + name + `" in ` + s.region
		if len(subject) > 100 {
			subject = subject[:100]
		}
		if err := s.authorize(ctx, now.AlarmArn, action); err != nil {
			summary = "Failed to execute action " + action + ": " + err.Error()
			s.log.Warn("alarm action refused", zap.String("alarm", name), zap.String("action", action), zap.Error(err))
		} else if err := s.publisher.Publish(ctx, action, subject, s.notification(prev, now)); err != nil {
			summary = "Failed to execute action " + action + ": " + err.Error()
			s.log.Warn("alarm action failed", zap.String("alarm", name), zap.String("action", action), zap.Error(err))
		}
	}
	s.alarms.mu.Lock()
	s.alarms.record(historyItem{AlarmName: name, Timestamp: at, HistoryItemType: "Action", HistorySummary: summary,
		HistoryData: `{"actionState":"` + map[bool]string{true: "Succeeded", false: "Failed"}[strings.HasPrefix(summary, "Success")] + `"}`})
	s.alarms.mu.Unlock()
}

// authorize decides an alarm's SNS action: CloudWatch publishes as
// cloudwatch.amazonaws.com for the alarm, so the topic's policy and an
// encrypted topic's key policy must allow it (SNS Developer Guide, "Enable
// compatibility between event sources from AWS services and encrypted
// topics", which lists CloudWatch).
func (s *Service) authorize(ctx context.Context, alarmARN, topicARN string) error {
	if s.auth == nil {
		return nil
	}
	return s.auth.ServicePublish(ctx, "cloudwatch.amazonaws.com", alarmARN, account, topicARN) //nolint:wrapcheck // the guard's refusal names the call
}

// notification is the JSON message CloudWatch publishes to an SNS action
// ("Using Amazon SNS notifications": AlarmName, NewStateValue, Trigger, ...).
func (s *Service) notification(prev, now *metricAlarm) string {
	dims := make([]map[string]string, 0, len(now.Dimensions))
	for _, d := range now.Dimensions {
		dims = append(dims, map[string]string{"name": d.Name, "value": d.Value})
	}
	msg, _ := json.Marshal(map[string]any{
		"AlarmName": now.AlarmName, "AlarmDescription": now.AlarmDescription, "AWSAccountId": account,
		"AlarmConfigurationUpdatedTimestamp": now.AlarmConfigurationUpdatedTimestamp.UTC().Format("2006-01-02T15:04:05.000+0000"),
		"NewStateValue":                      now.StateValue, "NewStateReason": now.StateReason, "OldStateValue": prev.StateValue,
		"StateChangeTime": now.StateUpdatedTimestamp.UTC().Format("2006-01-02T15:04:05.000+0000"),
		"Region":          s.region, "AlarmArn": now.AlarmArn,
		"AlarmActions": nonNil(now.AlarmActions), "OKActions": nonNil(now.OKActions), "InsufficientDataActions": nonNil(now.InsufficientDataActions),
		"Trigger": map[string]any{
			"MetricName": now.MetricName, "Namespace": now.Namespace, "StatisticType": "Statistic", "Statistic": strings.ToUpper(now.Statistic),
			"Unit": nil, "Dimensions": dims, "Period": now.Period, "EvaluationPeriods": now.EvaluationPeriods,
			"ComparisonOperator": now.ComparisonOperator, "Threshold": now.Threshold, "TreatMissingData": now.TreatMissingData,
		},
	})
	return string(msg)
}

// stateChangeEvent is the "CloudWatch Alarm State Change" event of
// aws.cloudwatch, in the shape EventBridge documents for it.
func (s *Service) stateChangeEvent(prev, now *metricAlarm, at time.Time) map[string]any {
	dims := map[string]any{}
	for _, d := range now.Dimensions {
		dims[d.Name] = d.Value
	}
	state := func(a *metricAlarm) map[string]any {
		st := map[string]any{"value": a.StateValue, "reason": a.StateReason, "timestamp": a.StateUpdatedTimestamp.UTC().Format("2006-01-02T15:04:05.000+0000")}
		if a.StateReasonData != "" {
			st["reasonData"] = a.StateReasonData
		}
		return st
	}
	config := map[string]any{
		"metrics": []any{map[string]any{
			"id": uuid.NewString(), "returnData": true,
			"metricStat": map[string]any{
				"metric": map[string]any{"namespace": now.Namespace, "name": now.MetricName, "dimensions": dims},
				"period": now.Period, "stat": now.Statistic,
			},
		}},
	}
	if now.AlarmDescription != "" {
		config["description"] = now.AlarmDescription
	}
	return map[string]any{
		"version": "0", "id": uuid.NewString(), "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
		"account": account, "time": at.UTC().Format(time.RFC3339), "region": s.region, "resources": []string{now.AlarmArn},
		"detail": map[string]any{
			"alarmName": now.AlarmName, "state": state(now), "previousState": state(prev), "configuration": config,
		},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
