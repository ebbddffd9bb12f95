package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/zclconf/go-cty/cty"
)

// queueAttributes are the aws_sqs_queue arguments the module sets that the
// provisioner passes on, by SQS attribute name (SQS API Reference,
// CreateQueue). kms_master_key_id and the redrive policies name resources
// the provisioner makes, so it passes their ARNs itself.
var queueAttributes = map[string]string{
	"visibility_timeout_seconds":        "VisibilityTimeout",
	"message_retention_seconds":         "MessageRetentionPeriod",
	"receive_wait_time_seconds":         "ReceiveMessageWaitTimeSeconds",
	"kms_data_key_reuse_period_seconds": "KmsDataKeyReusePeriodSeconds",
	"delay_seconds":                     "DelaySeconds",
	"max_message_size":                  "MaximumMessageSize",
}

// createModuleQueue creates the module's aws_sqs_queue.<resource> with
// extra attributes and returns its URL and ARN. vars are the settings as
// the module's inputs.
func (st *Stack) createModuleQueue(ctx context.Context, q *sqs.Client, vars map[string]cty.Value, resource string, extra map[string]string) (string, string, error) {
	name, attrs, err := st.s.queue(vars, resource)
	if err != nil {
		return "", "", err
	}
	for k, x := range extra {
		attrs[k] = x
	}
	return createQueue(ctx, q, name, attrs)
}

// queue is the module's aws_sqs_queue.<resource> as sqs.tf states it for
// the inputs vars (s.inputs()): its name and SQS attributes (read from the
// module, not copied).
func (s Settings) queue(vars map[string]cty.Value, resource string) (string, map[string]string, error) {
	names := make([]string, 0, len(queueAttributes)+1)
	names = append(names, "name")
	for a := range queueAttributes {
		names = append(names, a)
	}
	v, err := s.module.ResourceValues("aws_sqs_queue", resource, vars, nil, names...)
	if err != nil {
		return "", nil, fmt.Errorf("read the module's queue %s: %w", resource, err)
	}
	name, ok := v["name"]
	if !ok || name.Type() != cty.String || name.IsNull() {
		return "", nil, fmt.Errorf("the module's queue %s has no name", resource)
	}
	attrs := map[string]string{}
	for a, sqsName := range queueAttributes {
		if n, ok := v[a]; ok && !n.IsNull() && n.Type() == cty.Number {
			attrs[sqsName] = n.AsBigFloat().Text('f', -1)
		}
	}
	return name.AsString(), attrs, nil
}

func createQueue(ctx context.Context, q *sqs.Client, name string, attrs map[string]string) (string, string, error) {
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		return "", "", fmt.Errorf("create queue %s: %w", name, err)
	}
	a, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("read queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), a.Attributes["QueueArn"], nil
}
