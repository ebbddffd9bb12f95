package localaws_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
)

// logsChecks are the CloudWatch Logs rows of the gap table.
var logsChecks = []compatCheck{
	{"CloudWatch Logs metric filters (Put, Describe, Delete; the log group must exist)", func(ctx context.Context, _ *testing.T, endpoint string) error {
		l := cloudwatchlogs.NewFromConfig(configFor(endpoint))
		group := "/aws/lambda/" + testenv.Unique("fn")
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
}
