package localaws_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
)

// mappedFunction creates a function (tune changes its request) allowed to
// poll, and a queue with attrs; it returns the function's name and the
// queue's URL and ARN.
func mappedFunction(ctx context.Context, t *testing.T, url string, tune func(*lambda.CreateFunctionInput), attrs map[string]string) (name, queueURL, queueARN string, err error) {
	in, err := lambdaRequest(ctx, t, url, tune)
	if err != nil {
		return "", "", "", err
	}
	if _, err := lambda.NewFromConfig(configFor(url)).CreateFunction(ctx, in); err != nil {
		return "", "", "", err
	}
	// The mapping's role check needs the role to poll the queue.
	if _, err := iam.NewFromConfig(configFor(url)).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: in.FunctionName, PolicyName: aws.String("poll"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"*"}]}`)}); err != nil {
		return "", "", "", err
	}
	queue := testenv.Unique("source")
	created, err := sqs.NewFromConfig(configFor(url)).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &queue, Attributes: attrs})
	if err != nil {
		return "", "", "", err
	}
	return *in.FunctionName, *created.QueueUrl, "arn:aws:sqs:us-east-1:000000000000:" + queue, nil
}

func filterOf(pattern string) *lambdatypes.FilterCriteria {
	return &lambdatypes.FilterCriteria{Filters: []lambdatypes.Filter{{Pattern: aws.String(pattern)}}}
}

// filterChecks are the rows for event patterns: EventBridge rules' and
// the filter criteria of SQS event source mappings.
var filterChecks = []compatCheck{
	{"EventBridge refuses a rule whose event pattern is not valid (PutRule)", func(ctx context.Context, _ *testing.T, url string) error {
		eb := eventbridge.NewFromConfig(configFor(url))
		_, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(testenv.Unique("rule")), EventPattern: aws.String(`{"source":"aws.cloudwatch"}`)})
		if err := refusedWith("a pattern whose value is not in an array", err, "InvalidEventPatternException"); err != nil {
			return err
		}
		if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(testenv.Unique("rule")), EventPattern: aws.String(`{"source":["aws.cloudwatch"]}`)}); err != nil {
			return fmt.Errorf("a valid pattern: %w", err)
		}
		return nil
	}},
	{"Lambda refuses filter criteria whose pattern is not valid (CreateEventSourceMapping, UpdateEventSourceMapping)", func(ctx context.Context, t *testing.T, url string) error {
		fn, _, arn, err := mappedFunction(ctx, t, url, nil, nil)
		if err != nil {
			return err
		}
		l := lambda.NewFromConfig(configFor(url))
		_, err = l.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &fn, EventSourceArn: &arn, Enabled: aws.Bool(false),
			FilterCriteria: filterOf(`{"body":{"status":"DELIVERED"}}`)})
		if err := refusedWith("a filter whose value is not in an array", err, "InvalidParameterValueException"); err != nil {
			return err
		}
		m, err := l.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &fn, EventSourceArn: &arn, Enabled: aws.Bool(false),
			FilterCriteria: filterOf(`{"body":{"status":["DELIVERED"]}}`)})
		if err != nil {
			return fmt.Errorf("a valid filter: %w", err)
		}
		_, err = l.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: m.UUID, FilterCriteria: filterOf(`{"body":{"status":[]}}`)})
		return refusedWith("an update to a filter with an empty array", err, "InvalidParameterValueException")
	}},
	{"Lambda deletes SQS messages its mapping's filter criteria do not match, without invoking the function", func(ctx context.Context, t *testing.T, url string) error {
		fn, queueURL, arn, err := mappedFunction(ctx, t, url, nil, nil)
		if err != nil {
			return err
		}
		q := sqs.NewFromConfig(configFor(url))
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: aws.String(`{"status":"PICKED_UP"}`)}); err != nil {
			return err
		}
		if _, err := lambda.NewFromConfig(configFor(url)).CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &fn,
			EventSourceArn: &arn, FilterCriteria: filterOf(`{"body":{"status":["DELIVERED"]}}`)}); err != nil {
			return err
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &queueURL, AttributeNames: []sqstypes.QueueAttributeName{
				sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
			if err != nil {
				return err
			}
			if attrs.Attributes["ApproximateNumberOfMessages"] == "0" && attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
				break
			}
			if time.Now().After(deadline) {
				return errors.New("the message the filter does not match is still on the queue")
			}
			time.Sleep(100 * time.Millisecond) //nolint:forbidigo // polling a deadline; the failure is the finding
		}
		stats, err := cloudwatch.NewFromConfig(configFor(url)).GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/Lambda"),
			MetricName: aws.String("Invocations"), Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: &fn}},
			StartTime: aws.Time(time.Now().Add(-10 * time.Minute)), EndTime: aws.Time(time.Now().Add(time.Minute)), Period: aws.Int32(60),
			Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
		if err != nil {
			return err
		}
		for _, d := range stats.Datapoints {
			if aws.ToFloat64(d.Sum) > 0 {
				return fmt.Errorf("the function was invoked %v times for a message no filter matches", aws.ToFloat64(d.Sum))
			}
		}
		return nil
	}},
}
