package soak

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
)

// Consumer is a downstream team's queue subscribed to a stack's
// status-change events with the module's event pattern, as the complete
// example's consumer.tf does: a rule on the bus, and a queue policy that
// lets EventBridge send for that rule alone.
type Consumer struct {
	sqs *sqs.Client
	url string
}

// NewConsumer subscribes a new queue named name to the stack's status changes.
func NewConsumer(ctx context.Context, cfg aws.Config, out outputs.Stack, name string) (*Consumer, error) {
	q := sqs.NewFromConfig(cfg)
	made, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name})
	if err != nil {
		return nil, fmt.Errorf("create the consumer queue: %w", err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: made.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return nil, fmt.Errorf("read the consumer queue: %w", err)
	}
	queueARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	eb := eventbridge.NewFromConfig(cfg)
	rule, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: &name, EventBusName: &out.EventBusName, EventPattern: &out.StatusChangeEventPattern})
	if err != nil {
		return nil, fmt.Errorf("create the consumer rule: %w", err)
	}
	policy, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{{ //nolint:errchkjson // strings always encode
		"Effect": "Allow", "Principal": map[string]string{"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": queueARN,
		"Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": aws.ToString(rule.RuleArn)}},
	}}})
	if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: made.QueueUrl, Attributes: map[string]string{"Policy": string(policy)}}); err != nil {
		return nil, fmt.Errorf("put the consumer queue policy: %w", err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &name, EventBusName: &out.EventBusName,
		Targets: []ebtypes.Target{{Id: aws.String("consumer"), Arn: &queueARN}}}); err != nil {
		return nil, fmt.Errorf("target the consumer queue: %w", err)
	}
	return &Consumer{sqs: q, url: aws.ToString(made.QueueUrl)}, nil
}

// Receive returns the status changes that have arrived, deleting what it
// read; none when the queue is empty.
func (c *Consumer) Receive(ctx context.Context) ([]contract.StatusChanged, error) {
	var out []contract.StatusChanged
	for {
		got, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &c.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			return out, fmt.Errorf("receive status changes: %w", err)
		}
		if len(got.Messages) == 0 {
			return out, nil
		}
		for _, m := range got.Messages {
			var ev struct {
				DetailType string                 `json:"detail-type"`
				Detail     contract.StatusChanged `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil || ev.DetailType != contract.StatusChangedDetailType {
				return out, fmt.Errorf("not a status change: %s (%w)", aws.ToString(m.Body), err)
			}
			out = append(out, ev.Detail)
			if _, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &c.url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				return out, fmt.Errorf("delete a status change: %w", err)
			}
		}
	}
}
