package provision

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/config"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
)

// maintenance creates the maintenance function, its asynchronous
// invocation settings, the scheduler's role and the daily schedule from
// lambda.tf's and schedule.tf's statement of them (read, not copied).
func (st *Stack) maintenance(ctx context.Context, fns lambdaFunctions, zip string, out *outputs.Stack) error {
	p, s := fns.policies, st.s
	fn, err := p.resource("aws_lambda_function", "maintenance", "timeout", "memory_size")
	if err != nil {
		return err
	}
	arn, err := fns.create(ctx, out.MaintenanceFunctionName, "maintenance", zip, intOf(fn["timeout"]), intOf(fn["memory_size"]), map[string]string{
		config.EnvAuditTable:       out.AuditTableName,
		config.EnvDLQURL:           out.IngestDLQURL,
		config.EnvIngestQueueURL:   out.IngestQueueURL,
		config.EnvAlertTopicARN:    out.AlertTopicARN,
		config.EnvRedriveTransient: strconv.FormatBool(s.MaintenanceRedriveTransient),
		config.EnvRedriveRate:      strconv.Itoa(s.MaintenanceRedriveRate),
		config.EnvRetentionDays:    strconv.Itoa(s.RetentionDays),
		config.EnvLogLevel:         s.LogLevel,
		config.EnvMetricsNamespace: s.MetricsNamespace,
	})
	if err != nil {
		return err
	}
	invoke, err := p.resource("aws_lambda_function_event_invoke_config", "maintenance", "maximum_retry_attempts", "maximum_event_age_in_seconds")
	if err != nil {
		return err
	}
	if len(invoke) != 2 {
		return fmt.Errorf("lambda.tf's maintenance invoke config lacks a setting the provisioner makes: has %d of 2", len(invoke))
	}
	if _, err := fns.client.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName:             &out.MaintenanceFunctionName,
		MaximumRetryAttempts:     aws.Int32(int32(intOf(invoke["maximum_retry_attempts"]))),       //nolint:gosec // 0-2
		MaximumEventAgeInSeconds: aws.Int32(int32(intOf(invoke["maximum_event_age_in_seconds"]))), //nolint:gosec // 60-21600
		DestinationConfig:        &lambdatypes.DestinationConfig{OnFailure: &lambdatypes.OnFailure{Destination: &out.MaintenanceDLQARN}},
	}); err != nil {
		return fmt.Errorf("configure maintenance async invocations: %w", err)
	}
	p.withFunction("maintenance", arn)
	role, err := fns.role(ctx, s.NamePrefix+"-maintenance-scheduler", "scheduler_assume", "scheduler")
	if err != nil {
		return err
	}
	sch, err := p.resource("aws_scheduler_schedule", "maintenance", "name", "description", "schedule_expression", "schedule_expression_timezone",
		"flexible_time_window.mode", "target.input", "target.retry_policy.maximum_retry_attempts", "target.retry_policy.maximum_event_age_in_seconds")
	if err != nil {
		return err
	}
	if len(sch) != 8 {
		return fmt.Errorf("schedule.tf's maintenance schedule lacks a setting the provisioner makes: has %d of 8", len(sch))
	}
	out.MaintenanceScheduleName = sch["name"].AsString()
	str := func(k string) *string { return aws.String(sch[k].AsString()) }
	if _, err := scheduler.NewFromConfig(st.cfg).CreateSchedule(ctx, &scheduler.CreateScheduleInput{
		Name: &out.MaintenanceScheduleName, Description: str("description"),
		ScheduleExpression: str("schedule_expression"), ScheduleExpressionTimezone: str("schedule_expression_timezone"),
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowMode(sch["flexible_time_window.mode"].AsString())},
		Target: &schedtypes.Target{
			Arn: &arn, RoleArn: &role, Input: str("target.input"),
			RetryPolicy: &schedtypes.RetryPolicy{
				MaximumRetryAttempts:     aws.Int32(int32(intOf(sch["target.retry_policy.maximum_retry_attempts"]))),       //nolint:gosec // 0-185
				MaximumEventAgeInSeconds: aws.Int32(int32(intOf(sch["target.retry_policy.maximum_event_age_in_seconds"]))), //nolint:gosec // 60-86400
			},
			DeadLetterConfig: &schedtypes.DeadLetterConfig{Arn: &out.MaintenanceDLQARN},
		},
	}); err != nil {
		return fmt.Errorf("create the maintenance schedule: %w", err)
	}
	return nil
}
