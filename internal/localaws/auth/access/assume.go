package access

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/authz"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
)

// RoleReader reads a role (its ARN and trust policy) from kumo's IAM.
type RoleReader interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, opts ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// TrustPolicy reads the trust policy of the role roleARN names.
func TrustPolicy(ctx context.Context, roles RoleReader, roleARN string) (*authz.Policy, error) {
	i := strings.Index(roleARN, ":role/")
	if !strings.HasPrefix(roleARN, "arn:") || i < 0 {
		return nil, fmt.Errorf("%q is not a role ARN", roleARN)
	}
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	out, err := roles.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if err != nil {
		return nil, fmt.Errorf("read role %s: %w", name, err)
	}
	if aws.ToString(out.Role.Arn) != roleARN {
		return nil, fmt.Errorf("role %s is %s", roleARN, aws.ToString(out.Role.Arn))
	}
	doc := aws.ToString(out.Role.AssumeRolePolicyDocument)
	if decoded, err := url.QueryUnescape(doc); err == nil {
		doc = decoded
	}
	p, err := authz.Parse(name+" trust policy", []byte(doc))
	if err != nil {
		return nil, fmt.Errorf("read the trust policy of %s: %w", name, err)
	}
	return p, nil
}

// ServiceActsAs decides a call a service makes with a role it assumes for
// a source of this account (EventBridge Scheduler invoking a schedule's
// target "assumes the execution role", Scheduler User Guide, "Set up the
// execution role"): the role's trust policy must let the service principal
// assume it, with aws:SourceArn and aws:SourceAccount the source ("The
// confused deputy problem"), then the role's policies must allow action on
// resource. It returns why it is refused, or nil; in log mode nil.
func (g *Guard) ServiceActsAs(ctx context.Context, service, roleARN, sourceARN, sourceAccount, action, resource string) error {
	if g.mode == Off {
		return nil
	}
	principal := authz.Caller{Service: service}
	svc, _, _ := strings.Cut(action, ":")
	if d := g.mayAssume(ctx, service, svc, roleARN, sourceARN, sourceAccount); d != nil {
		return g.refuse(d)
	}
	arn, err := principals.SessionARN(roleARN, service)
	if err != nil {
		return g.refuse(g.deny(principal, svc, "sts:AssumeRole", roleARN, err.Error()))
	}
	session := authz.Caller{ARN: arn}
	pols, err := g.rolePolicies(ctx, roleNameOf(session.ARN))
	if err != nil {
		return g.refuse(g.deny(session, svc, action, resource, "its role's policies could not be read: "+err.Error()))
	}
	return g.refuse(g.decide(session, svc, action, resource, g.context(session, true), authz.Policies{Identity: pols}))
}

// ServiceMayAssume decides whether service may assume the role roleARN for
// a source of this account (Lambda a function's execution role): the
// role's trust policy must allow it, with aws:SourceArn and
// aws:SourceAccount the source. It returns why not, or nil.
func (g *Guard) ServiceMayAssume(ctx context.Context, service, roleARN, sourceARN, sourceAccount string) error {
	if g.mode == Off {
		return nil
	}
	svc, _, _ := strings.Cut(service, ".")
	return g.refuse(g.mayAssume(ctx, service, svc, roleARN, sourceARN, sourceAccount))
}

// mayAssume decides sts:AssumeRole of a role by a service principal under
// the role's trust policy, refusing in svc's protocol.
func (g *Guard) mayAssume(ctx context.Context, service, svc, roleARN, sourceARN, sourceAccount string) *Denial {
	principal := authz.Caller{Service: service}
	trust, err := TrustPolicy(ctx, g.iam, roleARN)
	if err != nil {
		return g.deny(principal, svc, "sts:AssumeRole", roleARN, err.Error())
	}
	reqCtx := map[string][]string{
		"aws:SourceArn": {sourceARN}, "aws:SourceAccount": {sourceAccount}, "aws:SecureTransport": {"true"},
		"aws:CurrentTime": {g.now().UTC().Format(time.RFC3339)},
	}
	// A trust policy is the role's resource policy and must allow itself.
	return g.decide(principal, svc, "sts:AssumeRole", roleARN, reqCtx, authz.Policies{Resource: trust, KeyPolicy: true})
}
