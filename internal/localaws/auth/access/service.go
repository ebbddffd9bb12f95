package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/authz"
)

// ServicePublish decides an SNS Publish that an AWS service makes as its
// service principal for a source of this account (EventBridge for a rule,
// CloudWatch for an alarm): a service principal has only resource-based
// policies, so the topic's policy must allow it and, for an encrypted
// topic, the key policy must let it use the key through SNS ("Amazon
// EventBridge User Guide: Amazon SNS permissions"; "Encrypting messages
// published to Amazon SNS with AWS KMS", which the service principal's key
// use needs). AWS calls over TLS, so aws:SecureTransport is true;
// aws:SourceArn and aws:SourceAccount name the source. It returns why it
// is refused, or nil; in log mode a refusal is logged and nil returned.
func (g *Guard) ServicePublish(ctx context.Context, service, sourceARN, sourceAccount, topicARN string) error {
	if g.mode == Off {
		return nil
	}
	calls, err := snsCalls(ctx, url.Values{"Action": {"Publish"}, "TopicArn": {topicARN}}, g.resources, g.region)
	if err != nil {
		return g.refuse(g.deny(authz.Caller{Service: service}, "sns", "sns:Publish", topicARN, "the topic could not be read: "+err.Error()))
	}
	if defaultPolicyUnjudged[service] && len(calls) == 1 && calls[0].defaultPolicy {
		calls[0].policy, calls[0].unjudged = "", true
	}
	return g.serviceCall(ctx, service, sourceARN, sourceAccount, "sns", calls)
}

// defaultPolicyUnjudged are the services whose publishing to a topic with
// kumo's default policy is not judged on the topic's policy: AWS's default
// policy admits the owner's account through AWS:SourceOwner, which AWS
// does not document for service principals (README, gap table). The key
// policy still decides.
var defaultPolicyUnjudged = map[string]bool{"cloudwatch.amazonaws.com": true}

// ServiceSend decides an SQS SendMessage that an AWS service makes as its
// service principal for a source of this account (EventBridge parking an
// event it could not deliver in a target's dead-letter queue): the
// queue's policy must allow it ("Granting permissions to the dead-letter
// queue", EventBridge User Guide) and, for an encrypted queue, the key
// policy must let it use the key through SQS ("If your target, such as an
// Amazon SQS queue, uses AWS KMS encryption, you must include the
// following section in your KMS key policy", EventBridge User Guide).
func (g *Guard) ServiceSend(ctx context.Context, service, sourceARN, sourceAccount, queueURL string) error {
	if g.mode == Off {
		return nil
	}
	body, _ := json.Marshal(map[string]string{"QueueUrl": queueURL}) // a map of strings always encodes
	calls, err := sqsCalls(ctx, "SendMessage", body, g.resources, g.region)
	if err != nil {
		return g.refuse(g.deny(authz.Caller{Service: service}, "sqs", "sqs:SendMessage", queueURL, "the queue could not be read: "+err.Error()))
	}
	return g.serviceCall(ctx, service, sourceARN, sourceAccount, "sqs", calls)
}

// serviceCall decides calls a service principal makes for a source: the
// resources' policies, then the key use with what the key policy sees.
func (g *Guard) serviceCall(ctx context.Context, service, sourceARN, sourceAccount, svc string, calls []call) error {
	caller := authz.Caller{Service: service}
	reqCtx := map[string][]string{
		"aws:SourceArn": {sourceARN}, "aws:SourceAccount": {sourceAccount}, "aws:SecureTransport": {"true"},
		"aws:CurrentTime": {g.now().UTC().Format(time.RFC3339)}, "aws:PrincipalAccount": {sourceAccount},
	}
	var judged []call
	for _, c := range calls {
		if !c.unjudged {
			judged = append(judged, c)
		}
	}
	if d := g.evaluate(ctx, caller, svc, judged, nil, reqCtx, false); d != nil {
		return g.refuse(d)
	}
	return g.refuse(g.evaluateKeys(ctx, caller, svc, calls, nil, keyContextOf(service, svc, reqCtx)))
}

// ServiceUsesKey decides a service principal's use of a KMS key as itself,
// such as CloudWatch Logs encrypting a log group: only the key policy
// counts (a service principal has no identity-based policies), with the
// encryption context the service passes ("AWS KMS condition keys"); AWS
// calls over TLS. It returns why it is refused, or nil; in log mode a
// refusal is logged and nil returned.
func (g *Guard) ServiceUsesKey(ctx context.Context, service, keyID string, actions []string, encryptionContext map[string]string) error {
	if g.mode == Off {
		return nil
	}
	reqCtx := map[string][]string{"aws:SecureTransport": {"true"}, "aws:CurrentTime": {g.now().UTC().Format(time.RFC3339)}}
	use := &keyUse{keyID: keyID, actions: actions, context: encryptionContext}
	return g.refuse(g.checkKey(ctx, authz.Caller{Service: service}, service, reqCtx, nil, use))
}

// sourceKeysUnsupported are the services whose key use on an encrypted
// topic carries no aws:SourceAccount, aws:SourceArn or aws:SourceOrgID to
// the key policy: "Adding the aws:SourceAccount, aws:SourceArn, and
// aws:SourceOrgID to a AWS KMS policy is not supported for
// EventBridge-to-encrypted topics" (Amazon SNS Developer Guide, "Managing
// Amazon SNS encryption keys and costs", step 3 of "Enable compatibility
// between event sources from AWS services and encrypted topics"). A key
// policy statement conditioned on them does not match, so the delivery fails.
var sourceKeysUnsupported = map[string]bool{"events.amazonaws.com": true}

// keyContextOf is the request context the key policy sees when svc uses
// the key for service: the resource's, less the source keys where AWS does
// not support them (SNS's key use for EventBridge).
func keyContextOf(service, svc string, reqCtx map[string][]string) map[string][]string {
	if svc != "sns" || !sourceKeysUnsupported[service] {
		return reqCtx
	}
	out := make(map[string][]string, len(reqCtx))
	for k, v := range reqCtx {
		switch k {
		case "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID":
		default:
			out[k] = v
		}
	}
	return out
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

// RoleMayAct decides one action of a role's session on a resource by the
// role's identity policies alone: a service acting with the role where no
// resource policy applies (a DynamoDB stream event source mapping reading
// its stream).
func (g *Guard) RoleMayAct(ctx context.Context, session, service, action, resource string) error {
	if g.mode == Off {
		return nil
	}
	caller := authz.Caller{ARN: session}
	pols, err := g.rolePolicies(ctx, roleNameOf(session))
	if err != nil {
		return g.refuse(g.deny(caller, service, action, resource, "its role's policies could not be read: "+err.Error()))
	}
	return g.refuse(g.evaluate(ctx, caller, service, []call{{action: action, resource: resource}}, pols, g.context(caller, true), false))
}
