package events_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/gruntwork-io/terratest/modules/retry"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// gaps are this service's rows of the local AWS's gap table (its README):
// each check fails on bare kumo and passes through the layer.
var gaps = []localawstest.Gap{
	{Name: "EventBridge keeps the tags a bus is created with (CreateEventBus Tags)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		ev := eventbridge.NewFromConfig(localawstest.Config(url))
		bus, err := ev.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(localawstest.Unique("bus")),
			Tags: []ebtypes.Tag{{Key: aws.String("Project"), Value: aws.String("tracking-pipeline")}}})
		if err != nil {
			return err
		}
		tags, err := ev.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: bus.EventBusArn})
		if err != nil {
			return err
		}
		if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "tracking-pipeline" {
			return fmt.Errorf("the bus reads back with tags %v", tags.Tags)
		}
		return nil
	}},
	{Name: "EventBridge PutEvents refuses what EventBridge refuses: more than 10 entries or over 256 KB (the call), an entry without source, detail-type or detail, or whose detail is not a JSON object (that entry)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		ev := eventbridge.NewFromConfig(localawstest.Config(url))
		entry := func(source, detailType, detail string) ebtypes.PutEventsRequestEntry {
			return ebtypes.PutEventsRequestEntry{Source: aws.String(source), DetailType: aws.String(detailType), Detail: aws.String(detail)}
		}
		eleven := make([]ebtypes.PutEventsRequestEntry, 11)
		for i := range eleven {
			eleven[i] = entry("compat.test", "t", "{}")
		}
		if _, err := ev.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: eleven}); !isCode(err, "ValidationException") {
			return fmt.Errorf("11 entries: %w, want ValidationException", err)
		}
		big := `{"a":"` + strings.Repeat("x", 256*1024) + `"}`
		if _, err := ev.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry("compat.test", "t", big)}}); !isCode(err, "ValidationException") {
			return fmt.Errorf("a 256 KB detail: %w, want ValidationException", err)
		}
		out, err := ev.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
			entry("compat.test", "t", `{"ok":true}`), {DetailType: aws.String("t"), Detail: aws.String("{}")},
			entry("compat.test", "t", "[]"), entry("compat.test", "", "{}"),
		}})
		if err != nil {
			return err
		}
		var codes []string
		for _, e := range out.Entries {
			codes = append(codes, aws.ToString(e.ErrorCode))
		}
		if out.FailedEntryCount != 3 || strings.Join(codes, ",") != ",InvalidArgument,MalformedDetail,InvalidArgument" || aws.ToString(out.Entries[0].EventId) == "" {
			return fmt.Errorf("entries answered %d failed, codes %q", out.FailedEntryCount, codes)
		}
		return nil
	}},
	{Name: "EventBridge delivers to an SQS target as events.amazonaws.com: the queue's policy must allow the rule, and the key policy of an encrypted queue must let EventBridge use the key", Check: func(ctx context.Context, t *testing.T, url string) error {
		cfg := localawstest.Config(url)
		q := sqs.NewFromConfig(cfg)
		ev := eventbridge.NewFromConfig(cfg)
		rule := localawstest.Unique("delivered")
		created, err := ev.PutRule(ctx, &eventbridge.PutRuleInput{Name: &rule, EventPattern: aws.String(`{"source":["compat.sqs"]}`)})
		if err != nil {
			return err
		}
		queue := func(policyFor string) (string, error) {
			made, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(localawstest.Unique("target"))})
			if err != nil {
				return "", err
			}
			arn := "arn:aws:sqs:us-east-1:000000000000:" + awsapiName(aws.ToString(made.QueueUrl))
			policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage",` +
				`"Resource":"` + arn + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + policyFor + `"}}}]}`
			if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: made.QueueUrl, Attributes: map[string]string{"Policy": policy}}); err != nil {
				return "", err
			}
			_, err = ev.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &rule, Targets: []ebtypes.Target{{Id: aws.String(localawstest.Unique("t")), Arn: &arn}}})
			return aws.ToString(made.QueueUrl), err
		}
		allowed, err := queue(aws.ToString(created.RuleArn))
		if err != nil {
			return err
		}
		refused, err := queue("arn:aws:events:us-east-1:000000000000:rule/other")
		if err != nil {
			return err
		}
		if _, err := ev.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("compat.sqs"), DetailType: aws.String("t"), Detail: aws.String(`{"n":1}`)}}}); err != nil {
			return err
		}
		got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &allowed, WaitTimeSeconds: 2})
		if err != nil || len(got.Messages) != 1 || !strings.Contains(aws.ToString(got.Messages[0].Body), `"detail":{"n":1}`) {
			return fmt.Errorf("the allowed queue got %v (%w), want the event with its detail", got, err)
		}
		if got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &refused, WaitTimeSeconds: 1}); err != nil || len(got.Messages) != 0 {
			return fmt.Errorf("a queue whose policy allows another rule got %d messages (%w)", len(got.Messages), err)
		}
		return nil
	}},
	{Name: "EventBridge parks what it cannot deliver in the target's DLQ and publishes its rules' AWS/Events metrics", Check: func(ctx context.Context, t *testing.T, url string) error {
		cfg := localawstest.Config(url)
		topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(localawstest.Unique("alerts"))})
		if err != nil {
			return err
		}
		// A topic whose policy lets only another rule publish: this rule's deliveries are refused.
		if _, err := sns.NewFromConfig(cfg).SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn, AttributeName: aws.String("Policy"),
			AttributeValue: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish",` +
				`"Resource":"` + aws.ToString(topic.TopicArn) + `","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:events:us-east-1:000000000000:rule/other"}}}]}`)}); err != nil {
			return err
		}
		ev := eventbridge.NewFromConfig(cfg)
		rule := localawstest.Unique("alarms")
		created, err := ev.PutRule(ctx, &eventbridge.PutRuleInput{Name: &rule, EventPattern: aws.String(`{"source":["compat.test"]}`)})
		if err != nil {
			return err
		}
		q := sqs.NewFromConfig(cfg)
		dlqName := localawstest.Unique("alerts-dlq")
		dlq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &dlqName, Attributes: map[string]string{
			// "Granting permissions to the dead-letter queue": EventBridge sends for the rule.
			"Policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage",` +
				`"Resource":"arn:aws:sqs:us-east-1:000000000000:` + dlqName + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + aws.ToString(created.RuleArn) + `"}}}]}`,
		}})
		if err != nil {
			return err
		}
		if _, err := ev.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &rule, Targets: []ebtypes.Target{{
			Id: aws.String("topic"), Arn: topic.TopicArn, DeadLetterConfig: &ebtypes.DeadLetterConfig{Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:" + dlqName)},
		}}}); err != nil {
			return err
		}
		if _, err := ev.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("compat.test"), DetailType: aws.String("Compat"), Detail: aws.String(`{"n":1}`),
		}}}); err != nil {
			return err
		}
		got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, MessageAttributeNames: []string{"All"}})
		if err != nil {
			return err
		}
		if len(got.Messages) != 1 {
			return fmt.Errorf("the DLQ holds %d message(s), want the undelivered event", len(got.Messages))
		}
		attrs := got.Messages[0].MessageAttributes
		if code := aws.ToString(attrs["ERROR_CODE"].StringValue); code != "NO_PERMISSIONS" || aws.ToString(attrs["RULE_ARN"].StringValue) != aws.ToString(created.RuleArn) ||
			!strings.Contains(aws.ToString(got.Messages[0].Body), `"source":"compat.test"`) {
			return fmt.Errorf("parked event %s with attributes %v", aws.ToString(got.Messages[0].Body), attrs)
		}
		// "Invocations: ... includes successful and failed invocations";
		// FailedInvocations, InvocationsSentToDlq (counted once the send is done).
		cw := cloudwatch.NewFromConfig(cfg)
		_, err = retry.DoWithRetryE(t, "the rule's metrics", 20, 100*time.Millisecond, func() (string, error) {
			for _, metric := range []string{"Invocations", "FailedInvocations", "InvocationsSentToDlq", "TriggeredRules"} {
				stats, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/Events"), MetricName: &metric,
					Dimensions: []cwtypes.Dimension{{Name: aws.String("RuleName"), Value: &rule}},
					StartTime:  aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.Now().Add(time.Minute)), Period: aws.Int32(7200),
					Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
				if err != nil {
					return "", err
				}
				if len(stats.Datapoints) != 1 || aws.ToFloat64(stats.Datapoints[0].Sum) != 1 {
					return "", errors.New(metric + ": want a sum of 1")
				}
			}
			return "", nil
		})
		return err
	}},
	{Name: "EventBridge refuses a rule whose event pattern is not valid (PutRule)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		eb := eventbridge.NewFromConfig(localawstest.Config(url))
		_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(localawstest.Unique("rule")), EventPattern: aws.String(`{"source":"aws.cloudwatch"}`)})
		if err := localawstest.RefusedWith("a pattern whose value is not in an array", err, "InvalidEventPatternException"); err != nil {
			return err
		}
		if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(localawstest.Unique("rule")), EventPattern: aws.String(`{"source":["aws.cloudwatch"]}`)}); err != nil {
			return fmt.Errorf("a valid pattern: %w", err)
		}
		return nil
	}},
	{Name: "EventBridge delivers to SNS targets through an input transformer", Check: func(ctx context.Context, t *testing.T, url string) error {
		cfg := localawstest.Config(url)
		topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(localawstest.Unique("alerts"))})
		if err != nil {
			return err
		}
		q := sqs.NewFromConfig(cfg)
		inbox, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(localawstest.Unique("inbox"))})
		if err != nil {
			return err
		}
		attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: inbox.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
		if err != nil {
			return err
		}
		if _, err := sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
			Endpoint: aws.String(attrs.Attributes["QueueArn"]), Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
			return err
		}
		ev := eventbridge.NewFromConfig(cfg)
		rule := localawstest.Unique("alarms")
		created, err := ev.PutRule(ctx, &eventbridge.PutRuleInput{Name: &rule,
			EventPattern: aws.String(`{"source":["compat.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"],` +
				`"detail":{"$or":[{"state":{"value":[{"prefix":"AL"}]}},{"previousState":{"value":["ALARM"]}}]}}`)})
		if err != nil {
			return err
		}
		// EventBridge publishes as its service principal: the topic's policy must let it, for this rule.
		if _, err := sns.NewFromConfig(cfg).SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn, AttributeName: aws.String("Policy"),
			AttributeValue: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish",` +
				`"Resource":"` + aws.ToString(topic.TopicArn) + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + aws.ToString(created.RuleArn) + `"}}}]}`)}); err != nil {
			return err
		}
		if _, err := ev.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &rule, Targets: []ebtypes.Target{{
			Id: aws.String("topic"), Arn: topic.TopicArn,
			InputTransformer: &ebtypes.InputTransformer{
				InputPathsMap: map[string]string{"alarm": "$.detail.alarmName", "state": "$.detail.state.value"},
				InputTemplate: aws.String(`"<alarm> is <state>"`),
			},
		}}}); err != nil {
			return err
		}
		for _, change := range [][2]string{{"OK", "INSUFFICIENT_DATA"}, {"ALARM", "OK"}} { // only the second matches
			if _, err := ev.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
				Source: aws.String("compat.cloudwatch"), DetailType: aws.String("CloudWatch Alarm State Change"), // "aws." sources are AWS's own
				Detail: aws.String(`{"alarmName":"tp-dlq-not-empty","state":{"value":"` + change[0] + `"},"previousState":{"value":"` + change[1] + `"}}`),
			}}}); err != nil {
				return err
			}
		}
		got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: inbox.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
		if err != nil {
			return err
		}
		if len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != `"tp-dlq-not-empty is ALARM"` {
			return fmt.Errorf("topic delivered %d message(s): %v", len(got.Messages), got.Messages)
		}
		return nil
	}},
}

func TestGapsFilled(t *testing.T) { localawstest.CheckGaps(t, gaps) }

// awsapiName is the last segment of a queue URL.
func awsapiName(queueURL string) string { return queueURL[strings.LastIndex(queueURL, "/")+1:] }

// isCode reports whether err is AWS's error code.
func isCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}
