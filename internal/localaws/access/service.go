package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/authz"
)

// ServicePublish decides an SNS Publish that an AWS service makes as its
// service principal for a source of this account (EventBridge for a rule,
// say): a service principal has only resource-based policies, so the
// topic's policy must allow it and, for an encrypted topic, the key policy
// must let it use the key through SNS ("Amazon EventBridge User Guide:
// Amazon SNS permissions"; "Encrypting messages published to Amazon SNS
// with AWS KMS", which the service principal's key use needs). AWS calls
// over TLS, so aws:SecureTransport is true; aws:SourceArn and
// aws:SourceAccount name the source. It returns why it is refused, or nil;
// in log mode a refusal is logged and nil returned.
func (g *Guard) ServicePublish(ctx context.Context, service, sourceARN, sourceAccount, topicARN string) error {
	if g.mode == Off {
		return nil
	}
	caller := authz.Caller{Service: service}
	calls, err := snsCalls(ctx, url.Values{"Action": {"Publish"}, "TopicArn": {topicARN}}, g.resources, g.region)
	if err != nil {
		return g.refuse(g.deny(caller, "sns", "sns:Publish", topicARN, "the topic could not be read: "+err.Error()))
	}
	reqCtx := map[string][]string{
		"aws:SourceArn": {sourceARN}, "aws:SourceAccount": {sourceAccount}, "aws:SecureTransport": {"true"},
		"aws:CurrentTime": {g.now().UTC().Format(time.RFC3339)}, "aws:PrincipalAccount": {sourceAccount},
	}
	return g.refuse(g.evaluate(ctx, caller, "sns", calls, nil, reqCtx, true))
}

// RoleMay decides whether a role's session (a function's, as Lambda's
// event source mapping acts with it) may call op on the queue at queueURL:
// its identity policies and the queue's policy, over TLS, without the
// key (Lambda checks the SQS permissions when a mapping is created:
// "The provided execution role does not have permissions to call
// ReceiveMessage on SQS"; how it checks the key then is not documented).
// It returns why it is refused, or nil; in log mode nil.
func (g *Guard) RoleMay(ctx context.Context, session, op, queueURL string) error {
	return g.roleCall(ctx, session, op, queueURL, g.region, false)
}

// RoleCalls decides a call a service makes with a role's session (Lambda
// sending a failed asynchronous invocation to its on-failure queue "uses
// the permissions of the function's execution role", Lambda Developer
// Guide, "Adding a destination"): as RoleMay, and on an encrypted queue
// the key use SQS makes on the role's behalf in region (kms:ViaService).
func (g *Guard) RoleCalls(ctx context.Context, session, region, op, queueURL string) error {
	return g.roleCall(ctx, session, op, queueURL, region, true)
}

func (g *Guard) roleCall(ctx context.Context, session, op, queueURL, region string, keys bool) error {
	if g.mode == Off {
		return nil
	}
	caller := authz.Caller{ARN: session}
	body, _ := json.Marshal(map[string]string{"QueueUrl": queueURL}) // a map of strings always encodes
	calls, err := sqsCalls(ctx, op, body, g.resources, region)
	if err != nil {
		return g.refuse(g.deny(caller, "sqs", "sqs:"+op, queueURL, err.Error()))
	}
	pols, err := g.rolePolicies(ctx, roleNameOf(session))
	if err != nil {
		return g.refuse(g.deny(caller, "sqs", "sqs:"+op, queueURL, "its role's policies could not be read: "+err.Error()))
	}
	return g.refuse(g.evaluate(ctx, caller, "sqs", calls, pols, g.context(caller, true), keys))
}

// ErrRefused is a call the policies refuse.
var ErrRefused = errors.New("refused")

// refuse turns a denial into an error; none (log mode) is nil.
func (g *Guard) refuse(d *Denial) error {
	if d == nil {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", ErrRefused, d.Code, d.Message)
}
