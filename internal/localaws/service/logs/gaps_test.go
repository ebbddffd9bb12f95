package logs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// gaps are this service's rows of the local AWS's gap table (its README):
// each check fails on bare kumo and passes through the layer.
var gaps = []localawstest.Gap{
	{Name: "CloudWatch Logs refuses a key it may not use for the log group (CreateLogGroup, AssociateKmsKey)", Check: func(ctx context.Context, _ *testing.T, endpoint string) error {
		k, l := kms.NewFromConfig(localawstest.Config(endpoint)), cloudwatchlogs.NewFromConfig(localawstest.Config(endpoint))
		prefix := "/aws/lambda/" + localawstest.Unique("fn")
		admin := `{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}`
		logs := `{"Sid":"Logs","Effect":"Allow","Principal":{"Service":"logs.us-east-1.amazonaws.com"},"Action":["kms:Encrypt*","kms:Decrypt*","kms:ReEncrypt*","kms:GenerateDataKey*","kms:Describe*"],"Resource":"*",` +
			`"Condition":{"ArnLike":{"kms:EncryptionContext:aws:logs:arn":"arn:aws:logs:us-east-1:000000000000:log-group:` + prefix + `-*"}}}`
		without, err := k.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[` + admin + `]}`)})
		if err != nil {
			return err
		}
		with, err := k.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[` + admin + `,` + logs + `]}`)})
		if err != nil {
			return err
		}
		_, err = l.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(prefix + "-a"), KmsKeyId: without.KeyMetadata.Arn})
		if err := localawstest.RefusedWith("CreateLogGroup with a key that does not let CloudWatch Logs use it", err, "AccessDeniedException"); err != nil {
			return err
		}
		if _, err := l.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(prefix + "-a"), KmsKeyId: with.KeyMetadata.Arn}); err != nil {
			return fmt.Errorf("CreateLogGroup with a key that lets CloudWatch Logs use it: %w", err)
		}
		other := "/aws/lambda/" + localawstest.Unique("other")
		if _, err := l.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &other}); err != nil {
			return err
		}
		_, err = l.AssociateKmsKey(ctx, &cloudwatchlogs.AssociateKmsKeyInput{LogGroupName: &other, KmsKeyId: with.KeyMetadata.Arn})
		return localawstest.RefusedWith("AssociateKmsKey for a group outside the key policy's context condition", err, "AccessDeniedException")
	}},
	{Name: "CloudWatch Logs metric filters (Put, Describe, Delete; the log group must exist)", Check: func(ctx context.Context, _ *testing.T, endpoint string) error {
		l := cloudwatchlogs.NewFromConfig(localawstest.Config(endpoint))
		group := "/aws/lambda/" + localawstest.Unique("fn")
		if _, err := l.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil {
			return err
		}
		put := func(group string) error {
			_, err := l.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: &group, FilterName: aws.String("errors"),
				FilterPattern: aws.String(`{ $.level = "error" }`), MetricTransformations: []logstypes.MetricTransformation{{
					MetricName: aws.String("ErrorLines"), MetricNamespace: aws.String("Compat"), MetricValue: aws.String("1"),
				}}})
			return err
		}
		if err := put(group); err != nil {
			return err
		}
		var missing *logstypes.ResourceNotFoundException
		if err := put(group + "-missing"); !errors.As(err, &missing) {
			return fmt.Errorf("a filter on a missing log group: %w", err)
		}
		got, err := l.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: &group})
		if err != nil || len(got.MetricFilters) != 1 || aws.ToString(got.MetricFilters[0].FilterPattern) != `{ $.level = "error" }` {
			return fmt.Errorf("DescribeMetricFilters %+v: %w", got, err)
		}
		if _, err := l.DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{LogGroupName: &group, FilterName: aws.String("errors")}); err != nil {
			return err
		}
		got, err = l.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: &group})
		if err != nil || len(got.MetricFilters) != 0 {
			return fmt.Errorf("after delete %+v: %w", got, err)
		}
		return nil
	}},
	{Name: "CloudWatch Logs refuses a retention it does not offer (PutRetentionPolicy)", Check: func(ctx context.Context, _ *testing.T, url string) error {
		l := cloudwatchlogs.NewFromConfig(localawstest.Config(url))
		group := "/compat/" + localawstest.Unique("g")
		if _, err := l.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &group}); err != nil {
			return err
		}
		if _, err := l.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &group, RetentionInDays: aws.Int32(30)}); err != nil {
			return err
		}
		_, err := l.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &group, RetentionInDays: aws.Int32(31)})
		return localawstest.RefusedWith("PutRetentionPolicy of 31 days", err, "InvalidParameterException")
	}},
}

func TestGapsFilled(t *testing.T) { localawstest.CheckGaps(t, gaps) }
