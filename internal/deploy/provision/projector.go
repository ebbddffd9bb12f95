package provision

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/zclconf/go-cty/cty"

	"github.com/tracking-pipeline/tracking-pipeline/internal/config"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
)

// projector creates the projector function, its role and its mapping on the
// audit table's stream from lambda.tf's statement of them (read, not
// copied): the function's timeout and memory, the mapping's batching,
// window, retries, record age and filter, the events' source.
func (st *Stack) projector(ctx context.Context, fns lambdaFunctions, zip string, out *outputs.Stack, streamARN, dlqARN string) error {
	p := fns.policies
	fn, err := p.resource("aws_lambda_function", "projector", "timeout", "memory_size")
	if err != nil {
		return err
	}
	source, err := p.local("status_event_source")
	if err != nil {
		return err
	}
	if out.StatusChangeEventPattern, err = p.local("status_change_event_pattern"); err != nil {
		return err
	}
	filter, err := p.local("projector_filter_pattern")
	if err != nil {
		return err
	}
	s := st.s
	if _, err := fns.create(ctx, out.ProjectorFunctionName, "projector", zip, intOf(fn["timeout"]), intOf(fn["memory_size"]), map[string]string{
		config.EnvAuditTable:       out.AuditTableName,
		config.EnvEventBusName:     out.EventBusName,
		config.EnvEventSource:      source,
		config.EnvRetentionDays:    strconv.Itoa(s.RetentionDays),
		config.EnvLogLevel:         s.LogLevel,
		config.EnvMetricsNamespace: s.MetricsNamespace,
	}); err != nil {
		return err
	}
	m, err := p.resource("aws_lambda_event_source_mapping", "projector", "starting_position", "batch_size", "maximum_batching_window_in_seconds",
		"tumbling_window_in_seconds", "function_response_types", "bisect_batch_on_function_error", "maximum_retry_attempts", "maximum_record_age_in_seconds")
	if err != nil {
		return err
	}
	if len(m) != 8 {
		return fmt.Errorf("lambda.tf's projector mapping lacks a setting the provisioner makes: has %d of 8", len(m))
	}
	var responses []lambdatypes.FunctionResponseType
	for _, v := range m["function_response_types"].AsValueSlice() {
		responses = append(responses, lambdatypes.FunctionResponseType(v.AsString()))
	}
	i32 := func(k string) *int32 { return aws.Int32(int32(intOf(m[k]))) } //nolint:gosec // Lambda's small settings
	if _, err := fns.client.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		EventSourceArn:                 &streamARN,
		FunctionName:                   &out.ProjectorFunctionName,
		StartingPosition:               lambdatypes.EventSourcePosition(m["starting_position"].AsString()),
		BatchSize:                      i32("batch_size"),
		MaximumBatchingWindowInSeconds: i32("maximum_batching_window_in_seconds"),
		TumblingWindowInSeconds:        i32("tumbling_window_in_seconds"),
		FunctionResponseTypes:          responses,
		BisectBatchOnFunctionError:     aws.Bool(m["bisect_batch_on_function_error"].True()),
		MaximumRetryAttempts:           i32("maximum_retry_attempts"),
		MaximumRecordAgeInSeconds:      i32("maximum_record_age_in_seconds"),
		DestinationConfig:              &lambdatypes.DestinationConfig{OnFailure: &lambdatypes.OnFailure{Destination: &dlqARN}},
		FilterCriteria:                 &lambdatypes.FilterCriteria{Filters: []lambdatypes.Filter{{Pattern: &filter}}},
	}); err != nil {
		return fmt.Errorf("create the projector's event source mapping: %w", err)
	}
	return nil
}

func intOf(v cty.Value) int {
	n, _ := v.AsBigFloat().Int64()
	return int(n)
}
