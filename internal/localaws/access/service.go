package access

import (
	"context"
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
	for _, c := range calls {
		pol := authz.Policies{}
		if c.policy != "" {
			if pol.Resource, err = parseDocument(c.resource, c.policy); err != nil {
				return g.refuse(g.deny(caller, "sns", c.action, c.resource, "the local AWS cannot read the topic policy: "+err.Error()))
			}
		}
		if d := g.decide(caller, "sns", c.action, c.resource, reqCtx, pol); d != nil {
			return g.refuse(d)
		}
		if c.key != nil {
			if d := g.checkKey(ctx, caller, "sns", reqCtx, nil, c.key); d != nil {
				return g.refuse(d)
			}
		}
	}
	return nil
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
