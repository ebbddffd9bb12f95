package sts_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// gaps are this service's rows of the local AWS's gap table (its README):
// each check fails on bare kumo and passes through the layer.
var gaps = []localawstest.Gap{
	{Name: "A request signed with an access key the local AWS never issued is refused, in its service's protocol", Check: func(ctx context.Context, _ *testing.T, endpoint string) error {
		cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
			Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")}
		calls := []struct {
			service, want string
			call          func() error
		}{
			{"dynamodb", "UnrecognizedClientException", func() error {
				_, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
				return err
			}},
			{"sqs", "InvalidClientTokenId", func() error {
				_, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{})
				return err
			}},
			{"iam", "InvalidClientTokenId", func() error {
				_, err := iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
				return err
			}},
			{"lambda", "UnrecognizedClientException", func() error {
				_, err := lambda.NewFromConfig(cfg).ListFunctions(ctx, &lambda.ListFunctionsInput{})
				return err
			}},
		}
		for _, c := range calls {
			err := c.call()
			var apiErr smithy.APIError
			switch {
			case err == nil:
				return fmt.Errorf("%s accepted an unknown access key", c.service)
			case !errors.As(err, &apiErr) || apiErr.ErrorCode() != c.want:
				return fmt.Errorf("%s refused an unknown key with %w, not %s", c.service, err, c.want)
			}
		}
		return nil
	}},
}

func TestGapsFilled(t *testing.T) { localawstest.CheckGaps(t, gaps) }
