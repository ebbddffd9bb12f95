// Package access decides, request by request, whether the principal that
// signed it may do what it asks, with the policies stored in the local
// AWS, as IAM does (authz). It covers the calls a Lambda function's role
// makes to DynamoDB, SQS, SNS and EventBridge (PutEvents); any other call of a role is refused in
// enforce mode as not evaluated, never allowed unseen. The admin key is the
// account itself and is not checked. Modes: enforce (refuse with the
// service's AccessDenied error), log (serve, and log what enforce would
// refuse), off.
package access

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/authz"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// Modes of the guard.
const (
	Enforce = "enforce"
	Log     = "log"
	Off     = "off"
)

// ParseMode checks a mode's name; "" is enforce.
func ParseMode(s string) (string, error) {
	switch s {
	case "", Enforce:
		return Enforce, nil
	case Log, Off:
		return s, nil
	}
	return "", fmt.Errorf("IAM mode %q: want enforce, log or off", s)
}

// Kumo is what the guard reads from kumo: role policies and queue ARNs.
type Kumo interface {
	RoleReader
	ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, opts ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, opts ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, opts ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	GetPolicy(ctx context.Context, in *iam.GetPolicyInput, opts ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, opts ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
}

// Guard decides requests. It is safe for concurrent use.
type Guard struct {
	mode      string
	iam       Kumo
	resources Resources
	region    string
	now       func() time.Time
	log       *zap.Logger

	mu       sync.Mutex
	policies map[string][]*authz.Policy // role name -> identity policies
	denied   []Denied
}

// Denied is one refusal the guard made (or, in log mode, would have made).
type Denied struct {
	Principal, Action, Resource, Reason string
}

// Denials returns the refusals so far.
func (g *Guard) Denials() []Denied {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Denied(nil), g.denied...)
}

// New returns a guard in mode.
func New(mode string, iamClient Kumo, resources Resources, region string, now func() time.Time, log *zap.Logger) *Guard {
	return &Guard{mode: mode, iam: iamClient, resources: resources, region: region, now: now, log: log,
		policies: map[string][]*authz.Policy{}}
}

// Mode is the guard's mode.
func (g *Guard) Mode() string { return g.mode }

// Denial is a refused request: its error code, HTTP status and message in
// the protocol of its service.
type Denial struct {
	Status        int
	Code, Message string
	QueryCode     string // SQS's x-amzn-query-error code where it differs from Code
}

// Check decides a request of caller (a role's session) with body already
// read; secure says it came over TLS. It returns nil to serve it.
func (g *Guard) Check(ctx context.Context, caller authz.Caller, r *http.Request, body []byte, secure bool) *Denial {
	if g.mode == Off {
		return nil
	}
	service, calls, err := g.calls(r, body)
	if err != nil {
		return g.deny(caller, service, "", "", err.Error())
	}
	roleName := roleNameOf(caller.ARN)
	pols, err := g.rolePolicies(ctx, roleName)
	if err != nil {
		return g.deny(caller, service, "", "", "its role's policies could not be read: "+err.Error())
	}
	return g.evaluate(ctx, caller, service, calls, pols, g.context(caller, secure), true)
}

// evaluate decides each call under the caller's policies pols (none for a
// service principal) and the resource's own, and, with keys, the key use
// on the caller's behalf.
func (g *Guard) evaluate(ctx context.Context, caller authz.Caller, service string, calls []call, pols []*authz.Policy, reqCtx map[string][]string, keys bool) *Denial {
	for _, c := range calls {
		pol := authz.Policies{Identity: pols}
		if c.policy != "" {
			var err error
			if pol.Resource, err = parseDocument(c.resource, c.policy); err != nil {
				return g.deny(caller, service, c.action, c.resource, "the local AWS cannot read its resource policy: "+err.Error())
			}
		}
		callCtx := reqCtx
		if len(c.context) > 0 {
			callCtx = make(map[string][]string, len(reqCtx)+len(c.context))
			for k, v := range reqCtx {
				callCtx[k] = v
			}
			for k, v := range c.context {
				callCtx[k] = v
			}
		}
		if d := g.decide(caller, service, c.action, c.resource, callCtx, pol); d != nil {
			return d
		}
	}
	if keys {
		return g.evaluateKeys(ctx, caller, service, calls, pols, reqCtx)
	}
	return nil
}

// evaluateKeys decides the key use of each call that has one.
func (g *Guard) evaluateKeys(ctx context.Context, caller authz.Caller, service string, calls []call, pols []*authz.Policy, reqCtx map[string][]string) *Denial {
	for _, c := range calls {
		if c.key == nil {
			continue
		}
		if d := g.checkKey(ctx, caller, service, reqCtx, pols, c.key); d != nil {
			return d
		}
	}
	return nil
}

// decide evaluates one action and refuses it in service's protocol.
func (g *Guard) decide(caller authz.Caller, service, action, resource string, reqCtx map[string][]string, pol authz.Policies) *Denial {
	d, err := authz.Evaluate(authz.Request{Caller: caller, Action: action, Resource: resource, Context: reqCtx, OneAccount: true}, pol)
	if err != nil {
		return g.deny(caller, service, action, resource, "the local AWS cannot evaluate it: "+err.Error())
	}
	if d.Effect != authz.Allow {
		return g.deny(caller, service, action, resource, d.Reason)
	}
	return nil
}

// checkKey decides a service's use of a KMS key on the caller's behalf:
// each action under the key policy and the caller's policies, with
// kms:ViaService, kms:CallerAccount and the encryption context ("AWS KMS
// condition keys"). A refusal is the service's KMS access error.
func (g *Guard) checkKey(ctx context.Context, caller authz.Caller, service string, reqCtx map[string][]string, pols []*authz.Policy, use *keyUse) *Denial {
	key, err := g.resources.Key(ctx, use.keyID)
	if err != nil {
		return g.denyKey(caller, service, use.actions[0], use.keyID, "its key could not be read: "+err.Error())
	}
	keyPolicy, err := parseDocument(key.ARN, key.Policy)
	if err != nil {
		return g.denyKey(caller, service, use.actions[0], key.ARN, "the local AWS cannot read the key policy: "+err.Error())
	}
	kctx := map[string][]string{}
	if use.viaService != "" { // a service using the key as itself has no kms:ViaService
		kctx["kms:ViaService"] = []string{use.viaService}
	}
	if account := reqCtx["aws:PrincipalAccount"]; len(account) > 0 {
		kctx["kms:CallerAccount"] = account
	}
	for k, v := range reqCtx {
		kctx[k] = v
	}
	for k, v := range use.context {
		kctx["kms:EncryptionContext:"+k] = []string{v}
	}
	for _, action := range use.actions {
		d, err := authz.Evaluate(authz.Request{Caller: caller, Action: action, Resource: key.ARN, Context: kctx, OneAccount: true},
			authz.Policies{Identity: pols, Resource: keyPolicy, KeyPolicy: true})
		if err != nil {
			return g.denyKey(caller, service, action, key.ARN, "the local AWS cannot evaluate it: "+err.Error())
		}
		if d.Effect != authz.Allow {
			return g.denyKey(caller, service, action, key.ARN, d.Reason)
		}
	}
	return nil
}

// calls derives the service and the actions of a request.
func (g *Guard) calls(r *http.Request, body []byte) (string, []call, error) {
	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(target, "DynamoDB_20120810."):
		c, err := dynamoDBCalls(strings.TrimPrefix(target, "DynamoDB_20120810."), body, g.tableARN)
		return "dynamodb", c, err
	case strings.HasPrefix(target, "AmazonSQS."):
		c, err := sqsCalls(r.Context(), strings.TrimPrefix(target, "AmazonSQS."), body, g.resources, g.regionOf(r))
		return "sqs", c, err
	case strings.HasPrefix(target, "AWSEvents."):
		c, err := eventsCalls(strings.TrimPrefix(target, "AWSEvents."), body, g.regionOf(r))
		return "events", c, err
	}
	if form, err := url.ParseQuery(string(body)); err == nil && awsapi.SigningService(r) == "sns" {
		c, err := snsCalls(r.Context(), form, g.resources, g.regionOf(r))
		return "sns", c, err
	}
	return awsapi.SigningService(r), nil, fmt.Errorf("the local AWS does not evaluate this call of a role (%s %s)", r.Method, r.URL.Path)
}

// regionOf is the region a request was signed for (the service endpoint's
// region in kms:ViaService), else the local AWS's.
func (g *Guard) regionOf(r *http.Request) string {
	if region := awsapi.SigningRegion(r); region != "" {
		return region
	}
	return g.region
}

// context is the request context the local AWS fills for a role's call
// ("AWS global condition context keys"): aws:SecureTransport is whether
// the request came over TLS.
func (g *Guard) context(caller authz.Caller, secure bool) map[string][]string {
	return map[string][]string{
		"aws:SecureTransport":  {strconv.FormatBool(secure)},
		"aws:PrincipalArn":     {roleARNOf(caller.ARN)},
		"aws:PrincipalAccount": {accountOf(caller.ARN)},
		"aws:CurrentTime":      {g.now().UTC().Format(time.RFC3339)},
	}
}

// tableARN names a table as kumo does (in awsapi.Account).
func (g *Guard) tableARN(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", g.region, awsapi.Account, name)
}

// Forget drops what the guard read of a role's policies (they changed).
func (g *Guard) Forget(roleName string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if roleName == "" {
		g.policies = map[string][]*authz.Policy{}
		return
	}
	delete(g.policies, roleName)
}

// rolePolicies reads a role's inline and attached policies from kumo, once
// until they change.
func (g *Guard) rolePolicies(ctx context.Context, role string) ([]*authz.Policy, error) {
	g.mu.Lock()
	pols, ok := g.policies[role]
	g.mu.Unlock()
	if ok {
		return pols, nil
	}
	inline, err := g.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &role})
	if err != nil {
		return nil, fmt.Errorf("list the inline policies of %s: %w", role, err)
	}
	for _, name := range inline.PolicyNames {
		got, err := g.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &role, PolicyName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("read policy %s of %s: %w", name, role, err)
		}
		p, err := parseDocument(role+"/"+name, aws.ToString(got.PolicyDocument))
		if err != nil {
			return nil, err
		}
		pols = append(pols, p)
	}
	attached, err := g.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: &role})
	if err != nil {
		return nil, fmt.Errorf("list the attached policies of %s: %w", role, err)
	}
	for _, a := range attached.AttachedPolicies {
		meta, err := g.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: a.PolicyArn})
		if err != nil {
			return nil, fmt.Errorf("read policy %s: %w", aws.ToString(a.PolicyArn), err)
		}
		v, err := g.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: a.PolicyArn, VersionId: meta.Policy.DefaultVersionId})
		if err != nil {
			return nil, fmt.Errorf("read policy %s: %w", aws.ToString(a.PolicyArn), err)
		}
		p, err := parseDocument(aws.ToString(a.PolicyName), aws.ToString(v.PolicyVersion.Document))
		if err != nil {
			return nil, err
		}
		pols = append(pols, p)
	}
	g.mu.Lock()
	g.policies[role] = pols
	g.mu.Unlock()
	return pols, nil
}

// parseDocument reads a policy document as IAM returns it (URL-encoded,
// "RFC 3986"), or plain.
func parseDocument(name, doc string) (*authz.Policy, error) {
	if decoded, err := url.QueryUnescape(doc); err == nil && strings.HasPrefix(strings.TrimSpace(decoded), "{") {
		doc = decoded
	}
	p, err := authz.Parse(name, []byte(doc))
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return p, nil
}

// deny builds the refusal AWS gives ("User: <arn> is not authorized to
// perform: <action> on resource: <arn> because ...") in the service's
// error code: DynamoDB AccessDeniedException (400), SQS AccessDenied (403),
// SNS AuthorizationError (403); it logs every refusal. In log mode it
// logs and serves.
func (g *Guard) deny(caller authz.Caller, service, action, resource, reason string) *Denial {
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", caller, action, resource, reason)
	if action == "" {
		msg = fmt.Sprintf("User: %s is not authorized: %s", caller, reason)
	}
	g.record(caller, action, resource, reason)
	return g.refusal(accessDenied[service], msg)
}

// accessDenied are the services' errors for a refused action.
var accessDenied = map[string]Denial{
	"dynamodb": {Status: http.StatusBadRequest, Code: "AccessDeniedException"},
	// A role without events:PutEvents: the whole call, 400 (seen:
	// "... is not authorized to perform: events:PutEvents on resource:
	// arn:aws:events:...:event-bus/... because no identity-based policy allows ...").
	"events": {Status: http.StatusBadRequest, Code: "AccessDeniedException"},
	"sns":    {Status: http.StatusForbidden, Code: "AuthorizationError"},
	"sqs":    {Status: http.StatusForbidden, Code: "AccessDenied"},
}

// keyDenied are the services' errors when the key refuses the caller: SQS
// KmsAccessDenied ("The caller doesn't have the required KMS access"; its
// query-compatible code KMS.AccessDeniedException), SNS KMSAccessDenied
// (both 400).
var keyDenied = map[string]Denial{
	"sqs": {Status: http.StatusBadRequest, Code: "KmsAccessDenied", QueryCode: "KMS.AccessDeniedException"},
	"sns": {Status: http.StatusBadRequest, Code: "KMSAccessDenied"},
}

// denyKey refuses a service's use of a key on the caller's behalf.
func (g *Guard) denyKey(caller authz.Caller, service, action, key, reason string) *Denial {
	msg := fmt.Sprintf("The caller doesn't have the required KMS access: User: %s is not authorized to perform: %s on resource: %s via %s %s", caller, action, key, service, reason)
	g.record(caller, action, key, reason)
	return g.refusal(keyDenied[service], msg)
}

// record logs and keeps a refusal.
func (g *Guard) record(caller authz.Caller, action, resource, reason string) {
	g.log.Warn("access denied", zap.String("mode", g.mode), zap.String("principal", caller.String()),
		zap.String("action", action), zap.String("resource", resource), zap.String("reason", reason))
	g.mu.Lock()
	g.denied = append(g.denied, Denied{Principal: caller.String(), Action: action, Resource: resource, Reason: reason})
	g.mu.Unlock()
}

// refusal is the answer to a refused call: none in log mode, else d
// (AccessDeniedException, 403, for a service without its own) with msg.
func (g *Guard) refusal(d Denial, msg string) *Denial {
	if g.mode == Log {
		return nil
	}
	if d.Code == "" {
		d = Denial{Status: http.StatusForbidden, Code: "AccessDeniedException"}
	}
	d.Message = msg
	if d.QueryCode == "" {
		d.QueryCode = d.Code
	}
	return &d
}

// roleNameOf is the role of an assumed-role session ARN.
func roleNameOf(arn string) string {
	_, rest, _ := strings.Cut(arn, ":assumed-role/")
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func roleARNOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return arn
	}
	return "arn:" + parts[1] + ":iam::" + parts[4] + ":role/" + roleNameOf(arn)
}

func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[4]
}
