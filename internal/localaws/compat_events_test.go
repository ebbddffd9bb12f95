package localaws_test

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
	"github.com/gruntwork-io/terratest/modules/retry"

	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
)

// eventsChecks are the EventBridge rows of the gap table.
var eventsChecks = []compatCheck{
	{"EventBridge parks what it cannot deliver in the target's DLQ and publishes its rules' AWS/Events metrics", func(ctx context.Context, t *testing.T, url string) error {
		cfg := configFor(url)
		topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(testenv.Unique("alerts"))})
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
		rule := testenv.Unique("alarms")
		created, err := ev.PutRule(ctx, &eventbridge.PutRuleInput{Name: &rule, EventPattern: aws.String(`{"source":["compat.test"]}`)})
		if err != nil {
			return err
		}
		q := sqs.NewFromConfig(cfg)
		dlqName := testenv.Unique("alerts-dlq")
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
}
