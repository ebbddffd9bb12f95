package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// gaps are this service's rows of the local AWS's gap table (its README):
// each check fails on bare kumo and passes through the layer.
var gaps = []localawstest.Gap{
	{Name: "Lambda refuses filter criteria whose pattern is not valid (CreateEventSourceMapping, UpdateEventSourceMapping)", Check: func(ctx context.Context, t *testing.T, url string) error {
		fn, _, arn, err := mappedFunction(ctx, t, url, nil, nil)
		if err != nil {
			return err
		}
		l := lambda.NewFromConfig(localawstest.Config(url))
		_, err = l.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &fn, EventSourceArn: &arn, Enabled: aws.Bool(false),
			FilterCriteria: filterOf(`{"body":{"status":"DELIVERED"}}`)})
		if err := localawstest.RefusedWith("a filter whose value is not in an array", err, "InvalidParameterValueException"); err != nil {
			return err
		}
		m, err := l.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &fn, EventSourceArn: &arn, Enabled: aws.Bool(false),
			FilterCriteria: filterOf(`{"body":{"status":["DELIVERED"]}}`)})
		if err != nil {
			return fmt.Errorf("a valid filter: %w", err)
		}
		_, err = l.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: m.UUID, FilterCriteria: filterOf(`{"body":{"status":[]}}`)})
		return localawstest.RefusedWith("an update to a filter with an empty array", err, "InvalidParameterValueException")
	}},
	{Name: "Lambda deletes SQS messages its mapping's filter criteria do not match, without invoking the function", Check: func(ctx context.Context, t *testing.T, url string) error {
		fn, queueURL, arn, err := mappedFunction(ctx, t, url, nil, nil)
		if err != nil {
			return err
		}
		q := sqs.NewFromConfig(localawstest.Config(url))
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: aws.String(`{"status":"PICKED_UP"}`)}); err != nil {
			return err
		}
		if _, err := lambda.NewFromConfig(localawstest.Config(url)).CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &fn,
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
		stats, err := cloudwatch.NewFromConfig(localawstest.Config(url)).GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/Lambda"),
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
	createRefused("a function timeout over 900 s (CreateFunction)", "ValidationException", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) }),
	createRefused("a memory size under 128 MB (CreateFunction)", "ValidationException", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(64) }),
	createRefused("environment variables over 4 KB (CreateFunction)", "InvalidParameterValueException", func(in *lambda.CreateFunctionInput) {
		in.Environment = &lambdatypes.Environment{Variables: map[string]string{"BIG": strings.Repeat("x", 4100)}}
	}),
	{Name: "Lambda refuses a role its trust policy does not let Lambda assume (CreateFunction)", Check: func(ctx context.Context, t *testing.T, url string) error {
		in, err := lambdaRequest(ctx, t, url, nil)
		if err != nil {
			return err
		}
		other := localawstest.Unique("ec2role")
		role, err := iam.NewFromConfig(localawstest.Config(url)).CreateRole(ctx, &iam.CreateRoleInput{RoleName: &other,
			AssumeRolePolicyDocument: aws.String(strings.ReplaceAll(localawstest.LambdaTrust, "lambda.amazonaws.com", "ec2.amazonaws.com"))})
		if err != nil {
			return err
		}
		in.Role = role.Role.Arn
		_, err = lambda.NewFromConfig(localawstest.Config(url)).CreateFunction(ctx, in)
		return localawstest.RefusedWith("CreateFunction with a role for EC2", err, "InvalidParameterValueException")
	}},
	{Name: "Lambda refuses an SQS mapping whose queue's visibility timeout is under the function's timeout (CreateEventSourceMapping)", Check: func(ctx context.Context, t *testing.T, url string) error {
		fn, _, arn, err := mappedFunction(ctx, t, url, func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(60) }, map[string]string{"VisibilityTimeout": "30"})
		if err != nil {
			return err
		}
		_, err = lambda.NewFromConfig(localawstest.Config(url)).CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &fn,
			EventSourceArn: &arn, Enabled: aws.Bool(false)})
		return localawstest.RefusedWith("a mapping of a 30 s queue to a 60 s function", err, "InvalidParameterValueException")
	}},
	{Name: "Lambda refuses reserved concurrency that leaves under 100 unreserved (PutFunctionConcurrency)", Check: func(ctx context.Context, t *testing.T, url string) error {
		in, err := lambdaRequest(ctx, t, url, nil)
		if err != nil {
			return err
		}
		l := lambda.NewFromConfig(localawstest.Config(url))
		if _, err := l.CreateFunction(ctx, in); err != nil {
			return err
		}
		_, err = l.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: in.FunctionName, ReservedConcurrentExecutions: aws.Int32(950)})
		if err := localawstest.RefusedWith("reserving 950 of the account's 1,000", err, "InvalidParameterValueException"); err != nil {
			return err
		}
		// Other checks on this server reserve a few: 10 more leaves plenty.
		if _, err := l.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: in.FunctionName, ReservedConcurrentExecutions: aws.Int32(10)}); err != nil {
			return fmt.Errorf("reserving 10 leaves the 100 AWS asks for: %w", err)
		}
		return nil
	}},
	{Name: "Lambda runs deployed code, keeps tracing/logging config, concurrency, event invoke config and event source settings", Check: func(ctx context.Context, t *testing.T, url string) error {
		l := lambda.NewFromConfig(localawstest.Config(url))
		name := localawstest.Unique("fn")
		code, err := os.ReadFile(testenv.LambdaZip(t, "maintenance"))
		if err != nil {
			return err
		}
		// The mapping below polls a queue with the function's role, which must allow it.
		queue := localawstest.Unique("source")
		if _, err := sqs.NewFromConfig(localawstest.Config(url)).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &queue}); err != nil {
			return err
		}
		role, err := iam.NewFromConfig(localawstest.Config(url)).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name),
			AssumeRolePolicyDocument: aws.String(localawstest.LambdaTrust)})
		if err != nil {
			return err
		}
		if _, err := iam.NewFromConfig(localawstest.Config(url)).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("poll"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"*"}]}`)}); err != nil {
			return err
		}
		if _, err := l.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: &name, Role: role.Role.Arn, Runtime: lambdatypes.RuntimeProvidedal2023,
			Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: code},
			TracingConfig: &lambdatypes.TracingConfig{Mode: lambdatypes.TracingModeActive},
		}); err != nil {
			return err
		}
		conf, err := l.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &name})
		if err != nil {
			return err
		}
		if conf.TracingConfig == nil || conf.TracingConfig.Mode != lambdatypes.TracingModeActive {
			return errors.New("tracing config dropped")
		}
		if _, err := l.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: &name, ReservedConcurrentExecutions: aws.Int32(3)}); err != nil {
			return err
		}
		c, err := l.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: &name})
		if err != nil || aws.ToInt32(c.ReservedConcurrentExecutions) != 3 {
			return fmt.Errorf("reserved concurrency reads back as %v: %w", c, err)
		}
		if _, err := l.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: &name, MaximumRetryAttempts: aws.Int32(1)}); err != nil {
			return err
		}
		if eic, err := l.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: &name}); err != nil || aws.ToInt32(eic.MaximumRetryAttempts) != 1 {
			return fmt.Errorf("event invoke config reads back as %v: %w", eic, err)
		}
		m, err := l.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
			FunctionName: &name, EventSourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:" + queue), Enabled: aws.Bool(false),
			FunctionResponseTypes: []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures},
			ScalingConfig:         &lambdatypes.ScalingConfig{MaximumConcurrency: aws.Int32(7)},
		})
		if err != nil {
			return err
		}
		got, err := l.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: m.UUID})
		if err != nil || len(got.FunctionResponseTypes) != 1 || got.ScalingConfig == nil || aws.ToInt32(got.ScalingConfig.MaximumConcurrency) != 7 {
			return fmt.Errorf("mapping reads back as %+v: %w", got, err)
		}
		// The maintenance job rejects an unknown task: proof the code ran with its environment missing.
		out, err := l.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Payload: []byte(`{"tasks":["x"]}`)})
		if err != nil {
			return err
		}
		if aws.ToString(out.FunctionError) == "" {
			return fmt.Errorf("expected the function's own error, got %s", out.Payload)
		}
		var fnErr struct{ ErrorType string }
		if json.Unmarshal(out.Payload, &fnErr) != nil || fnErr.ErrorType != "Runtime.ExitError" {
			return fmt.Errorf("unexpected function error %s", out.Payload)
		}
		return nil
	}},
}

func TestGapsFilled(t *testing.T) { localawstest.CheckGaps(t, gaps) }

func filterOf(pattern string) *lambdatypes.FilterCriteria {
	return &lambdatypes.FilterCriteria{Filters: []lambdatypes.Filter{{Pattern: aws.String(pattern)}}}
}

// mappedFunction creates a function (tune changes its request) allowed to
// poll, and a queue with attrs; it returns the function's name and the
// queue's URL and ARN.
func mappedFunction(ctx context.Context, t *testing.T, url string, tune func(*lambda.CreateFunctionInput), attrs map[string]string) (name, queueURL, queueARN string, err error) {
	in, err := lambdaRequest(ctx, t, url, tune)
	if err != nil {
		return "", "", "", err
	}
	if _, err := lambda.NewFromConfig(localawstest.Config(url)).CreateFunction(ctx, in); err != nil {
		return "", "", "", err
	}
	// The mapping's role check needs the role to poll the queue.
	if _, err := iam.NewFromConfig(localawstest.Config(url)).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: in.FunctionName, PolicyName: aws.String("poll"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"*"}]}`)}); err != nil {
		return "", "", "", err
	}
	queue := localawstest.Unique("source")
	created, err := sqs.NewFromConfig(localawstest.Config(url)).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &queue, Attributes: attrs})
	if err != nil {
		return "", "", "", err
	}
	return *in.FunctionName, *created.QueueUrl, "arn:aws:sqs:us-east-1:000000000000:" + queue, nil
}

// createRefused checks that Lambda refuses the CreateFunction tune makes with code.
func createRefused(what, code string, tune func(*lambda.CreateFunctionInput)) localawstest.Gap {
	return localawstest.Gap{Name: "Lambda refuses " + what, Check: func(ctx context.Context, t *testing.T, url string) error {
		in, err := lambdaRequest(ctx, t, url, tune)
		if err != nil {
			return err
		}
		_, err = lambda.NewFromConfig(localawstest.Config(url)).CreateFunction(ctx, in)
		return localawstest.RefusedWith(what, err, code)
	}}
}

// lambdaRequest is a CreateFunction request of the maintenance zip, with a
// role Lambda may assume, changed by tune.
func lambdaRequest(ctx context.Context, t *testing.T, url string, tune func(*lambda.CreateFunctionInput)) (*lambda.CreateFunctionInput, error) {
	t.Helper()
	name := localawstest.Unique("fn")
	role, err := iam.NewFromConfig(localawstest.Config(url)).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(localawstest.LambdaTrust)})
	if err != nil {
		return nil, err
	}
	code, err := os.ReadFile(testenv.LambdaZip(t, "maintenance"))
	if err != nil {
		return nil, err
	}
	in := &lambda.CreateFunctionInput{FunctionName: &name, Role: role.Role.Arn, Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: code}}
	if tune != nil {
		tune(in)
	}
	return in, nil
}
