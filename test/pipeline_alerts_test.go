package test

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
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/gruntwork-io/terratest/modules/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
)

// validateAlerts drives the applied module's DLQ alarm both ways and checks
// what a subscriber of the alert topic receives: for each transition one
// readable sentence, from the module's own EventBridge rule. It starts
// after validatePipeline, which leaves a poison message in the DLQ.
func validateAlerts(t *testing.T, tgt target, out outputs.Stack) {
	t.Helper()
	ctx := context.Background()
	q := sqs.NewFromConfig(tgt.cfg)
	read := subscribeInbox(t, tgt, out.AlertTopicARN)
	alarm := out.AlarmNames["dlq_not_empty"]
	require.NotEmpty(t, alarm, "the alarm_names output has dlq_not_empty")
	waitAlarm := func(want cwtypes.StateValue) {
		// A sample a minute, evaluated at the next one; AWS may take a few.
		retry.DoWithRetry(t, alarm+" in "+string(want), 60, tgt.minute()/4+time.Second, func() (string, error) {
			a, err := cloudwatch.NewFromConfig(tgt.cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarm}})
			if err != nil || len(a.MetricAlarms) != 1 {
				return "", fmt.Errorf("describe: %w", err)
			}
			if got := a.MetricAlarms[0].StateValue; got != want {
				return "", fmt.Errorf("%s (%s)", got, aws.ToString(a.MetricAlarms[0].StateReason))
			}
			return "", nil
		})
	}
	// drain reads for two alarm minutes: what the alarm did before.
	drain := func() {
		for deadline := time.Now().Add(2 * tgt.minute()); time.Now().Before(deadline); {
			read(alarm)
		}
	}
	// alertsFor collects this alarm's sentences until one came and two more
	// alarm minutes brought nothing else.
	alertsFor := func() []string {
		var got []string
		retry.DoWithRetry(t, "an alert for "+alarm, 30, time.Second, func() (string, error) {
			got = append(got, read(alarm)...)
			if len(got) == 0 {
				return "", fmt.Errorf("none yet")
			}
			return "", nil
		})
		deadline := time.Now().Add(2 * tgt.minute())
		for time.Now().Before(deadline) {
			got = append(got, read(alarm)...)
		}
		return got
	}

	waitAlarm(cwtypes.StateValueAlarm)
	drain() // the pipeline checks moved the poison out and back: the alarm may have alerted since we subscribed
	_, err := q.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(out.IngestDLQURL)})
	require.NoError(t, err)
	waitAlarm(cwtypes.StateValueOk)
	got := alertsFor()
	require.Len(t, got, 1, "one alert per transition: %q", got)
	assert.Regexp(t, `^\[EXAMPLE\] `+alarm+` is OK \(was ALARM\) at \S+ in \S+: Threshold Crossed: `, got[0])

	body := `{"tracking_id":"T3","status":"DELIVERED"}` // a contract violation
	_, err = q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(out.IngestQueueURL), MessageBody: &body})
	require.NoError(t, err)
	waitAlarm(cwtypes.StateValueAlarm)
	got = alertsFor()
	require.Len(t, got, 1, "one alert per transition: %q", got)
	assert.Regexp(t, `^\[EXAMPLE\] `+alarm+` is ALARM \(was OK\) at \S+ in \S+: Threshold Crossed: .*greater than the threshold \(0\.0\)`, got[0])
}

// subscribeInbox subscribes a new queue (raw delivery) to the topic and
// returns a reader of the alert sentences naming an alarm; one read waits
// up to a second. The queue and subscription are removed when the test ends.
func subscribeInbox(t *testing.T, tgt target, topic string) func(alarm string) []string {
	t.Helper()
	ctx := context.Background()
	q := sqs.NewFromConfig(tgt.cfg)
	inbox, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("tp-inbox-" + strings.ToLower(random.UniqueId()))})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: inbox.QueueUrl}) })
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: inbox.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	require.NoError(t, err)
	arn := attrs.Attributes["QueueArn"]
	// On AWS the queue's policy must let the topic send to it.
	policy, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Principal": map[string]string{"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": arn,
		"Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": topic}},
	}}})
	_, err = q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: inbox.QueueUrl, Attributes: map[string]string{"Policy": string(policy)}})
	require.NoError(t, err)
	n := sns.NewFromConfig(tgt.cfg)
	sub, err := n.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"), Endpoint: &arn,
		Attributes: map[string]string{"RawMessageDelivery": "true"}, ReturnSubscriptionArn: true})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = n.Unsubscribe(context.Background(), &sns.UnsubscribeInput{SubscriptionArn: sub.SubscriptionArn})
	})
	return func(alarm string) []string {
		msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: inbox.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Logf("reading the alert inbox: %v", err) // retried by the caller's loop
			return nil
		}
		var out []string
		for _, m := range msgs.Messages {
			var sentence string
			if json.Unmarshal([]byte(aws.ToString(m.Body)), &sentence) == nil && strings.Contains(sentence, "] "+alarm+" is ") {
				out = append(out, sentence)
			}
			_, _ = q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: inbox.QueueUrl, ReceiptHandle: m.ReceiptHandle})
		}
		return out
	}
}
