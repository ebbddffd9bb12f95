// Package trackctl is the operator CLI: send updates, read a package's
// audit trail, list and redrive the DLQ, read daily stats, see and repair
// the projection, run maintenance.
package trackctl

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/tfrun"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
)

// Stack names the deployed resources, as the module's outputs do.
type Stack = outputs.Stack

// StackFlags are the ways to find the stack, in order of precedence: flags
// override an outputs file, which overrides an env directory.
type StackFlags struct {
	EnvDir, OutputsFile, Endpoint string
	Stack
}

// ErrNoStack is returned when a command needs a resource nobody named.
var ErrNoStack = errors.New("stack not found")

// resolve fills the stack from the env directory or outputs file, then flags.
func (f StackFlags) resolve(ctx context.Context) (Stack, error) {
	var s Stack
	switch {
	case f.OutputsFile != "":
		raw, err := os.ReadFile(f.OutputsFile)
		if err != nil {
			return s, fmt.Errorf("read outputs file: %w", err)
		}
		if s, err = outputs.Decode(raw); err != nil {
			return s, fmt.Errorf("outputs file %s: %w", f.OutputsFile, err)
		}
	case f.EnvDir != "":
		root, _ := os.Getwd()
		raw, err := tfrun.Run(ctx, tfrun.Binary(root), f.EnvDir, "output", "-json")
		if err != nil {
			return s, fmt.Errorf("read outputs of %s: %w", f.EnvDir, err)
		}
		if s, err = outputs.Decode([]byte(raw)); err != nil {
			return s, fmt.Errorf("outputs of %s: %w", f.EnvDir, err)
		}
	}
	override := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	override(&s.IngestQueueURL, f.IngestQueueURL)
	override(&s.IngestQueueARN, f.IngestQueueARN)
	override(&s.IngestDLQURL, f.IngestDLQURL)
	override(&s.IngestDLQARN, f.IngestDLQARN)
	override(&s.AuditTableName, f.AuditTableName)
	override(&s.MaintenanceFunctionName, f.MaintenanceFunctionName)
	override(&s.ProjectorFunctionName, f.ProjectorFunctionName)
	return s, nil
}

func need(name, value, flag string) error {
	if value == "" {
		return fmt.Errorf("%w: no %s; pass --env-dir, --outputs or %s", ErrNoStack, name, flag)
	}
	return nil
}

// clients are the AWS clients of one run, built once.
type clients struct {
	sqs    *sqs.Client
	ddb    *dynamodb.Client
	lambda *lambda.Client
	cw     *cloudwatch.Client
}

func newClients(ctx context.Context, endpoint string) (*clients, error) {
	var opts []func(*config.LoadOptions) error
	if endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(endpoint))
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
			opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(principals.AdminKey, principals.AdminKey, "")))
		}
		if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
			opts = append(opts, config.WithRegion("us-east-1"))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return &clients{sqs: sqs.NewFromConfig(cfg), ddb: dynamodb.NewFromConfig(cfg), lambda: lambda.NewFromConfig(cfg), cw: cloudwatch.NewFromConfig(cfg)}, nil
}

func (c *clients) store(s Stack) *audit.Store { return audit.NewStore(c.ddb, s.AuditTableName, 90) }
