package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// eventsPrincipal is EventBridge's service principal: it publishes to
// targets and sends to their dead-letter queues as this, for the rule
// ("Using resource-based policies for Amazon EventBridge").
const eventsPrincipal = "events.amazonaws.com"

// delivery is one event on its way to one SNS or SQS target of one rule.
type delivery struct {
	bus, rule, ruleARN string
	target             eventTarget
	event              map[string]any
}

// deliver publishes to the target as EventBridge, counts the invocation
// and, when it fails, parks the event in the target's dead-letter queue.
// Errors from missing permissions or a missing target are not retried:
// "EventBridge sends these events directly to the target DLQ" ("How
// EventBridge retries delivering events"); the layer retries nothing
// (README, gap table).
func (e *Service) deliver(d delivery) {
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	var code string
	var err error
	if strings.Contains(d.target.Arn, ":sqs:") {
		code, err = e.send(ctx, d)
	} else {
		err = e.auth.ServicePublish(ctx, eventsPrincipal, d.ruleARN, accountOf(d.ruleARN), d.target.Arn)
		code = "NO_PERMISSIONS"
		if err == nil {
			code = "NO_RESOURCE"
			err = e.publisher.Publish(ctx, d.target.Arn, "", transform(d.target, d.event))
		}
	}
	// "Invocations: ... This includes successful and failed invocations";
	// "FailedInvocations: The number of invocations that failed
	// permanently" ("Monitoring Amazon EventBridge", AWS/Events, RuleName).
	e.record(d.bus, d.rule, "Invocations", 1)
	if err == nil {
		return
	}
	e.record(d.bus, d.rule, "FailedInvocations", 1)
	e.log.Warn("event not delivered to its target", zap.String("rule", d.rule), zap.String("target", d.target.Arn), zap.String("code", code), zap.Error(err))
	if d.target.DeadLetterConfig == nil || d.target.DeadLetterConfig.Arn == "" {
		return
	}
	if dlqErr := e.park(ctx, d, code, err); dlqErr != nil {
		e.record(d.bus, d.rule, "InvocationsFailedToBeSentToDlq", 1)
		e.log.Error("undelivered event not sent to the target's dead-letter queue", zap.String("rule", d.rule),
			zap.String("queue", d.target.DeadLetterConfig.Arn), zap.Error(dlqErr))
		return
	}
	e.record(d.bus, d.rule, "InvocationsSentToDlq", 1)
}

// send delivers the event to an SQS target as EventBridge: under the
// queue's policy (sqs:SendMessage for events.amazonaws.com, aws:SourceArn
// the rule) and, for an encrypted queue, the key policy ("If your Amazon
// SQS queue is encrypted, you must create a customer-managed KMS key" that
// lets events.amazonaws.com kms:Decrypt and kms:GenerateDataKey;
// "Troubleshooting Amazon EventBridge", "Using resource-based policies for
// Amazon EventBridge"). The body is the whole event unless the target
// shapes it. It returns the DLQ error code of a failure.
func (e *Service) send(ctx context.Context, d delivery) (string, error) {
	url, err := e.kumo.QueueURL(ctx, d.target.Arn)
	if err != nil {
		return "NO_RESOURCE", err //nolint:wrapcheck // QueueURL names the queue
	}
	if err := e.auth.ServiceSend(ctx, eventsPrincipal, d.ruleARN, accountOf(d.ruleARN), url); err != nil {
		return "NO_PERMISSIONS", err //nolint:wrapcheck // the guard's refusal names the call
	}
	_, err = e.kumo.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(transform(d.target, d.event))})
	return "NO_RESOURCE", err //nolint:wrapcheck // the SDK's error names the call
}

// park sends the event to the target's dead-letter queue as EventBridge,
// under the queue's and its key's policies, with the attributes "Each
// message in your DLQ will include" (RULE_ARN, TARGET_ARN, ERROR_CODE,
// ERROR_MESSAGE, RETRY_ATTEMPTS; "Using dead-letter queues to process
// undelivered events").
func (e *Service) park(ctx context.Context, d delivery, code string, cause error) error {
	url, err := e.kumo.QueueURL(ctx, d.target.DeadLetterConfig.Arn)
	if err != nil {
		return err //nolint:wrapcheck // QueueURL names the queue
	}
	if err := e.auth.ServiceSend(ctx, eventsPrincipal, d.ruleARN, accountOf(d.ruleARN), url); err != nil {
		return err //nolint:wrapcheck // the guard's refusal names the call
	}
	body, err := json.Marshal(d.event)
	if err != nil {
		return fmt.Errorf("encode the event: %w", err)
	}
	attr := func(v string) sqstypes.MessageAttributeValue {
		return sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	_, err = e.kumo.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(string(body)),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"RULE_ARN": attr(d.ruleARN), "TARGET_ARN": attr(d.target.Arn), "ERROR_CODE": attr(code),
			"ERROR_MESSAGE": attr(msg), "RETRY_ATTEMPTS": {DataType: aws.String("Number"), StringValue: aws.String("0")},
		}})
	return err //nolint:wrapcheck // the SDK's error names the call
}

// record publishes one AWS/Events metric of a rule: "Metrics that specify
// only the RuleName dimension refer to the default event bus", a custom
// bus adds EventBusName ("Monitoring Amazon EventBridge").
func (e *Service) record(bus, ruleKey, name string, value float64) {
	if e.metrics == nil {
		return
	}
	dims := map[string]string{"RuleName": ruleKey[strings.LastIndex(ruleKey, "/")+1:]}
	if bus != "" && bus != "default" {
		dims["EventBusName"] = awsapi.ResourceName(bus)
	}
	e.metrics.Record("AWS/Events", name, dims, value, "Count")
}
