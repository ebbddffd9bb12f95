package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
)

// sumOf adds the Sum of datapoints (a range may span two periods).
func sumOf(dps []cwtypes.Datapoint) float64 {
	total := 0.0
	for _, dp := range dps {
		total += aws.ToFloat64(dp.Sum)
	}
	return total
}

// alarmScale runs the local AWS's clock 60 times real time: an alarm's
// 60-second period lasts a second, the processor's 300-second one five.
const alarmScale = 60

// alertInbox subscribes a queue to the alert topic (raw delivery) and
// returns a reader of the readable sentences on-call receives.
func (s *stack) alertInbox(t *testing.T) func(t *testing.T) []string {
	t.Helper()
	read := s.topicInbox(t)
	return func(t *testing.T) []string {
		t.Helper()
		var got []string
		for _, body := range read(t) {
			var sentence string
			require.NoError(t, json.Unmarshal([]byte(body), &sentence), "an alert is a JSON string: %s", body)
			got = append(got, sentence)
		}
		return got
	}
}

// topicInbox subscribes a queue to the alert topic (raw delivery) and
// returns a reader of every message's body.
func (s *stack) topicInbox(t *testing.T) func(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	q, err := s.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.Unique("oncall"))})
	require.NoError(t, err)
	attrs, err := s.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	require.NoError(t, err)
	_, err = sns.NewFromConfig(s.srv.ClientConfig()).Subscribe(ctx, &sns.SubscribeInput{TopicArn: &s.out.AlertTopicARN, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes["QueueArn"]), Attributes: map[string]string{"RawMessageDelivery": "true"}})
	require.NoError(t, err)
	// Each read long-polls 2 s: two evaluations of the alarms at this scale.
	return func(t *testing.T) []string {
		t.Helper()
		out, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
		require.NoError(t, err)
		var got []string
		for _, m := range out.Messages {
			got = append(got, aws.ToString(m.Body))
			_, err := s.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
		return got
	}
}

func (s *stack) alarmState(t *testing.T, key string) (cwtypes.StateValue, string) {
	t.Helper()
	name := strings.TrimSuffix(s.out.ProcessorFunctionName, "-processor") + "-" + strings.ReplaceAll(key, "_", "-")
	out, err := cloudwatch.NewFromConfig(s.srv.ClientConfig()).DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}})
	require.NoError(t, err)
	require.Len(t, out.MetricAlarms, 1, "alarm %s", name)
	return out.MetricAlarms[0].StateValue, aws.ToString(out.MetricAlarms[0].StateReason)
}

func (s *stack) waitForAlarm(t *testing.T, key string, want cwtypes.StateValue) {
	t.Helper()
	eventually(t, key+" in "+string(want), func() error {
		if got, reason := s.alarmState(t, key); got != want {
			return fmt.Errorf("%s is %s (%s)", key, got, reason)
		}
		return nil
	})
}

// TestDLQAlarmAlertsOnceEachWay: a poison message drives the DLQ alarm to
// ALARM and on-call receives exactly one readable alert, from the module's
// EventBridge rule; emptying the DLQ returns it to OK with one OK alert.
// Alarms settling from INSUFFICIENT_DATA to OK after the deploy alert no one.
func TestDLQAlarmAlertsOnceEachWay(t *testing.T) {
	t.Parallel()
	s := deployAt(t, alarmScale, func(st *provision.Settings) { st.AlertEmailAddresses = []string{"oncall@example.com"} })
	read := s.alertInbox(t)
	ctx := context.Background()
	s.waitForAlarm(t, "dlq_not_empty", cwtypes.StateValueOk)
	assert.Empty(t, read(t), "settling to OK after the deploy alerts no one")

	s.send(t, `{"tracking_id":"P1"}`) // a contract violation: the processor parks it in the DLQ
	s.waitForAlarm(t, "dlq_not_empty", cwtypes.StateValueAlarm)
	// The processor's embedded-metric-format line counted it, under the
	// namespace and dimensions it declares.
	now := s.srv.Clock.Now()
	stats, err := cloudwatch.NewFromConfig(s.srv.ClientConfig()).GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("TrackingPipeline"), MetricName: aws.String("Invalid"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: &s.out.ProcessorFunctionName}},
		StartTime:  aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Minute)), Period: aws.Int32(3600), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	require.NoError(t, err)
	assert.InDelta(t, 1, sumOf(stats.Datapoints), 0, "Invalid records counted from the processor's EMF line")
	// SQS's own message counts of the ingest queue: the poison was sent,
	// received by the poller and deleted once parked.
	queue := s.out.IngestQueueURL[strings.LastIndex(s.out.IngestQueueURL, "/")+1:]
	for _, metric := range []string{"NumberOfMessagesSent", "NumberOfMessagesReceived", "NumberOfMessagesDeleted"} {
		got, err := cloudwatch.NewFromConfig(s.srv.ClientConfig()).GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
			Namespace: aws.String("AWS/SQS"), MetricName: &metric,
			Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: &queue}},
			StartTime:  aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Minute)), Period: aws.Int32(7200), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
		})
		require.NoError(t, err)
		assert.InDelta(t, 1, sumOf(got.Datapoints), 0, metric)
	}
	var alerts []string
	eventually(t, "the ALARM alert", func() error {
		if alerts = append(alerts, read(t)...); len(alerts) == 0 {
			return fmt.Errorf("no alert yet")
		}
		return nil
	})
	alerts = append(alerts, read(t)...) // two more evaluations: nothing more may come
	require.Len(t, alerts, 1, "one alert per transition: %q", alerts)
	dlqAlarm := strings.TrimSuffix(s.out.ProcessorFunctionName, "-processor") + "-dlq-not-empty"
	assert.Regexp(t, `^\[DEV\] `+dlqAlarm+` is ALARM \(was OK\) at \S+ in us-east-1: Threshold Crossed: 1 out of the last 1 datapoints \[1\.0 .*was greater than the threshold \(0\.0\)`, alerts[0])

	_, err = s.sqs.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &s.out.IngestDLQURL})
	require.NoError(t, err)
	s.waitForAlarm(t, "dlq_not_empty", cwtypes.StateValueOk)
	alerts = nil
	eventually(t, "the OK alert", func() error {
		if alerts = append(alerts, read(t)...); len(alerts) == 0 {
			return fmt.Errorf("no alert yet")
		}
		return nil
	})
	alerts = append(alerts, read(t)...)
	require.Len(t, alerts, 1, "one alert per transition: %q", alerts)
	assert.Regexp(t, `^\[DEV\] `+dlqAlarm+` is OK \(was ALARM\) at .*was not greater than the threshold`, alerts[0])

	mail := s.srv.SNS.Mailbox("oncall@example.com")
	require.Len(t, mail, 2, "the on-call mailbox holds the two alerts")
	assert.Contains(t, mail[0].Body, "is ALARM (was OK)")
	assert.Contains(t, mail[1].Body, "is OK (was ALARM)")

	// The alert path worked: nothing undelivered, its alarm quiet.
	assert.Empty(t, s.alertDLQ(t), "no undelivered alert")
	state, _ := s.alarmState(t, "alert_delivery")
	assert.NotEqual(t, cwtypes.StateValueAlarm, state)
}

// alertDLQ reads what EventBridge parked in the alert DLQ.
func (s *stack) alertDLQ(t *testing.T) []sqstypes.Message {
	t.Helper()
	out, err := s.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: &s.out.AlertDLQURL, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}, VisibilityTimeout: 1,
	})
	require.NoError(t, err)
	return out.Messages
}

// editStatement returns a policy edit that changes statement sid of
// document policy with change (nil removes it); a policy left with no
// statement is no policy, "" (AWS refuses an empty one).
func editStatement(policy, sid string, change func(map[string]any)) func(string, string) string {
	return func(name, doc string) string {
		if name != policy {
			return doc
		}
		var d struct {
			Version   string
			Statement []map[string]any
		}
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			panic(err) // the provisioner rendered it
		}
		kept := d.Statement[:0]
		for _, st := range d.Statement {
			switch {
			case st["Sid"] != sid:
				kept = append(kept, st)
			case change != nil:
				change(st)
				kept = append(kept, st)
			}
		}
		if len(kept) == 0 {
			return ""
		}
		d.Statement = kept
		b, _ := json.Marshal(d)
		return string(b)
	}
}

// TestBrokenAlertPathReachesOnCallOnce: with the key or the topic refusing
// EventBridge, the DLQ alarm's readable sentence is not delivered; the
// rule's FailedInvocations fires the alert-delivery alarm, which CloudWatch
// publishes to the topic itself, so on-call gets exactly one message, about
// the broken path, and the undelivered sentence waits in the alert DLQ
// with EventBridge's reason. The first case is kms.tf as it was before the
// SNS guide's rule was applied (aws:SourceAccount on EventBridge's key
// statement): on AWS that statement never matches, and the sentence is lost.
func TestBrokenAlertPathReachesOnCallOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(policy, doc string) string
	}{
		{"the key statement under aws:SourceAccount (kms.tf before)", editStatement("kms", "EventBridgeToAlertTopic", func(st map[string]any) {
			st["Condition"] = map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "000000000000"}}
		})},
		{"a topic policy without EventBridge", editStatement("alerts", "EventBridgeAlarmStateRule", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := deployWith(t, localaws.Options{Log: zaptest.NewLogger(t), FunctionOutput: testWriter{t}, TimeScale: alarmScale}, nil, tt.edit)
			read := s.topicInbox(t)
			s.waitForAlarm(t, "dlq_not_empty", cwtypes.StateValueOk)
			s.send(t, `{"tracking_id":"P1"}`) // a contract violation: the DLQ alarm fires
			s.waitForAlarm(t, "dlq_not_empty", cwtypes.StateValueAlarm)
			s.waitForAlarm(t, "alert_delivery", cwtypes.StateValueAlarm)

			var got []string
			eventually(t, "on-call hears of the broken alert path", func() error {
				if got = append(got, read(t)...); len(got) == 0 {
					return fmt.Errorf("nothing on the topic yet")
				}
				return nil
			})
			got = append(got, read(t)...) // two more evaluations: nothing more may come
			require.Len(t, got, 1, "one message, about the alert path: %q", got)
			var notification struct{ AlarmName, NewStateValue string }
			require.NoError(t, json.Unmarshal([]byte(got[0]), &notification), "CloudWatch's own JSON: %s", got[0])
			assert.Equal(t, s.out.AlarmNames["alert_delivery"], notification.AlarmName)
			assert.Equal(t, "ALARM", notification.NewStateValue)

			parked := s.alertDLQ(t)
			require.Len(t, parked, 1, "the undelivered sentence's event waits in the alert DLQ")
			attrs := parked[0].MessageAttributes
			assert.Equal(t, "NO_PERMISSIONS", aws.ToString(attrs["ERROR_CODE"].StringValue))
			assert.Contains(t, aws.ToString(attrs["RULE_ARN"].StringValue), "-alarm-state-change")
			assert.Equal(t, s.out.AlertTopicARN, aws.ToString(attrs["TARGET_ARN"].StringValue))
			assert.Contains(t, aws.ToString(parked[0].Body), s.out.AlarmNames["dlq_not_empty"], "the event of the DLQ alarm's change")
		})
	}
}

// TestTableOutageFiresTheProcessorErrorsAlarm: with the table gone every
// record of every batch fails, the processor fails the invocation (not only
// its items) and the errors alarm goes to ALARM within one of its periods.
func TestTableOutageFiresTheProcessorErrorsAlarm(t *testing.T) {
	t.Parallel()
	// SQS's visibility timeout runs in real time (kumo's), so a failed batch
	// comes back after 30 s, six of the alarm's periods at this scale: one
	// failed invocation is the threshold here.
	s := deployAt(t, alarmScale, func(st *provision.Settings) { st.AlarmThresholds.ProcessorErrors = 1 })
	read := s.alertInbox(t)
	s.waitForAlarm(t, "processor_errors", cwtypes.StateValueOk)
	// A root's metric filter on the processor's log group counts its error lines.
	ctx := context.Background()
	_, err := cloudwatchlogs.NewFromConfig(s.srv.ClientConfig()).PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String(s.out.LogGroupNames["processor"]), FilterName: aws.String("error-lines"),
		FilterPattern:         aws.String(`{ $.level = "error" }`),
		MetricTransformations: []logstypes.MetricTransformation{{MetricName: aws.String("ErrorLines"), MetricNamespace: aws.String("E2E"), MetricValue: aws.String("1")}},
	})
	require.NoError(t, err)

	_, err = s.ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &s.out.AuditTableName})
	require.NoError(t, err)
	s.send(t, update("P1", "e1", "DELIVERED", "2026-11-25T10:00:00Z"), update("P2", "e1", "DELIVERED", "2026-11-25T10:00:00Z"))
	s.waitForAlarm(t, "processor_errors", cwtypes.StateValueAlarm)
	_, reason := s.alarmState(t, "processor_errors")
	assert.Contains(t, reason, "was greater than or equal to the threshold (1.0)")
	var alerts []string
	eventually(t, "the processor errors alert", func() error {
		for _, a := range read(t) {
			if strings.Contains(a, "-processor-errors is ALARM") {
				alerts = append(alerts, a)
			}
		}
		if len(alerts) == 0 {
			return fmt.Errorf("no processor errors alert yet")
		}
		return nil
	})
	assert.Len(t, alerts, 1)

	now := s.srv.Clock.Now()
	stats, err := cloudwatch.NewFromConfig(s.srv.ClientConfig()).GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("E2E"), MetricName: aws.String("ErrorLines"), StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
		Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	require.NoError(t, err)
	assert.NotEmpty(t, stats.Datapoints, "the metric filter counted the processor's error lines")
}

// setMapping turns the processor's event source mapping on or off.
func (s *stack) setMapping(t *testing.T, enabled bool) {
	t.Helper()
	l := lambda.NewFromConfig(s.srv.ClientConfig())
	list, err := l.ListEventSourceMappings(context.Background(), &lambda.ListEventSourceMappingsInput{FunctionName: &s.out.ProcessorFunctionName})
	require.NoError(t, err)
	require.Len(t, list.EventSourceMappings, 1)
	_, err = l.UpdateEventSourceMapping(context.Background(), &lambda.UpdateEventSourceMappingInput{UUID: list.EventSourceMappings[0].UUID, Enabled: &enabled})
	require.NoError(t, err)
}

// TestOldestMessageAgeAlarmFiresAndClears: an update nobody processes
// grows old on the ingest queue; the local AWS derives the queue's
// ApproximateAgeOfOldestMessage from what it saw sent and not deleted, so
// the module's oldest-message-age alarm fires (threshold 300 s for five
// periods) and, once the processor has the update, clears.
func TestOldestMessageAgeAlarmFiresAndClears(t *testing.T) {
	t.Parallel()
	s := deployAt(t, alarmScale, nil)
	read := s.alertInbox(t)
	s.waitForAlarm(t, "oldest_message_age", cwtypes.StateValueOk)
	s.setMapping(t, false)
	s.send(t, update("P1", "e1", "IN_TRANSIT", "2026-11-25T10:00:00Z"))
	s.waitForAlarm(t, "oldest_message_age", cwtypes.StateValueAlarm)
	_, reason := s.alarmState(t, "oldest_message_age")
	assert.Contains(t, reason, "Threshold Crossed: 5 out of the last 5 datapoints")

	s.setMapping(t, true)
	s.waitForTrail(t, "P1", "e1")
	s.waitForAlarm(t, "oldest_message_age", cwtypes.StateValueOk)
	var alerts []string
	eventually(t, "both alerts", func() error {
		if alerts = append(alerts, read(t)...); len(alerts) < 2 {
			return fmt.Errorf("%d alert(s) so far: %q", len(alerts), alerts)
		}
		return nil
	})
	assert.Contains(t, alerts[0], "-oldest-message-age is ALARM")
	assert.Contains(t, alerts[1], "-oldest-message-age is OK (was ALARM)")
}
