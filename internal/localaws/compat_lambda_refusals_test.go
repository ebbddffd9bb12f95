package localaws_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
)

// lambdaRequest is a CreateFunction request of the maintenance zip, with a
// role Lambda may assume, changed by tune.
func lambdaRequest(ctx context.Context, t *testing.T, url string, tune func(*lambda.CreateFunctionInput)) (*lambda.CreateFunctionInput, error) {
	t.Helper()
	name := testenv.Unique("fn")
	role, err := iam.NewFromConfig(configFor(url)).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(lambdaTrust)})
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

// createRefused checks that Lambda refuses the CreateFunction tune makes with code.
func createRefused(what, code string, tune func(*lambda.CreateFunctionInput)) compatCheck {
	return compatCheck{"Lambda refuses " + what, func(ctx context.Context, t *testing.T, url string) error {
		in, err := lambdaRequest(ctx, t, url, tune)
		if err != nil {
			return err
		}
		_, err = lambda.NewFromConfig(configFor(url)).CreateFunction(ctx, in)
		return refusedWith(what, err, code)
	}}
}

// lambdaRefusals are the Lambda rows of the refusal table: requests AWS
// refuses that a root could make.
var lambdaRefusals = []compatCheck{
	createRefused("a function timeout over 900 s (CreateFunction)", "ValidationException", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) }),
	createRefused("a memory size under 128 MB (CreateFunction)", "ValidationException", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(64) }),
	createRefused("environment variables over 4 KB (CreateFunction)", "InvalidParameterValueException", func(in *lambda.CreateFunctionInput) {
		in.Environment = &lambdatypes.Environment{Variables: map[string]string{"BIG": strings.Repeat("x", 4100)}}
	}),
	{"Lambda refuses a role its trust policy does not let Lambda assume (CreateFunction)", func(ctx context.Context, t *testing.T, url string) error {
		in, err := lambdaRequest(ctx, t, url, nil)
		if err != nil {
			return err
		}
		other := testenv.Unique("ec2role")
		role, err := iam.NewFromConfig(configFor(url)).CreateRole(ctx, &iam.CreateRoleInput{RoleName: &other,
			AssumeRolePolicyDocument: aws.String(strings.ReplaceAll(lambdaTrust, "lambda.amazonaws.com", "ec2.amazonaws.com"))})
		if err != nil {
			return err
		}
		in.Role = role.Role.Arn
		_, err = lambda.NewFromConfig(configFor(url)).CreateFunction(ctx, in)
		return refusedWith("CreateFunction with a role for EC2", err, "InvalidParameterValueException")
	}},
	{"Lambda refuses an SQS mapping whose queue's visibility timeout is under the function's timeout (CreateEventSourceMapping)", func(ctx context.Context, t *testing.T, url string) error {
		fn, _, arn, err := mappedFunction(ctx, t, url, func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(60) }, map[string]string{"VisibilityTimeout": "30"})
		if err != nil {
			return err
		}
		_, err = lambda.NewFromConfig(configFor(url)).CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &fn,
			EventSourceArn: &arn, Enabled: aws.Bool(false)})
		return refusedWith("a mapping of a 30 s queue to a 60 s function", err, "InvalidParameterValueException")
	}},
	{"Lambda refuses reserved concurrency that leaves under 100 unreserved (PutFunctionConcurrency)", func(ctx context.Context, t *testing.T, url string) error {
		in, err := lambdaRequest(ctx, t, url, nil)
		if err != nil {
			return err
		}
		l := lambda.NewFromConfig(configFor(url))
		if _, err := l.CreateFunction(ctx, in); err != nil {
			return err
		}
		_, err = l.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: in.FunctionName, ReservedConcurrentExecutions: aws.Int32(950)})
		if err := refusedWith("reserving 950 of the account's 1,000", err, "InvalidParameterValueException"); err != nil {
			return err
		}
		// Other checks on this server reserve a few: 10 more leaves plenty.
		if _, err := l.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: in.FunctionName, ReservedConcurrentExecutions: aws.Int32(10)}); err != nil {
			return fmt.Errorf("reserving 10 leaves the 100 AWS asks for: %w", err)
		}
		return nil
	}},
}
