package authz

import (
	"fmt"
	"strings"
)

// Caller is who makes a request: an IAM principal (a role, a role's
// session, a user) by ARN, or an AWS service acting as itself.
type Caller struct {
	ARN     string // arn:aws:iam::111122223333:role/r or arn:aws:sts::111122223333:assumed-role/r/session
	Service string // a service principal, e.g. events.amazonaws.com; ARN is then empty
}

func (c Caller) String() string {
	if c.Service != "" {
		return c.Service
	}
	return c.ARN
}

// Request is one call to authorize.
type Request struct {
	Caller   Caller
	Action   string              // service:Operation, e.g. sqs:SendMessage
	Resource string              // the ARN the action is on
	Context  map[string][]string // condition keys and their values
	// OneAccount says caller and resource are in one account whatever
	// their ARNs say, and an account a policy names as a principal is the
	// caller's (kumo names IAM resources in another account than the rest,
	// and its default key policy a third; the local AWS is one account).
	OneAccount bool
}

// Policies are those that apply to a request.
type Policies struct {
	Identity []*Policy // the caller's inline and attached policies
	Resource *Policy   // the resource's own: a queue, topic or function policy, or a key policy
	// KeyPolicy says Resource is a KMS key policy: "no principal, including
	// the account root user, has permission to a KMS key unless the key
	// policy allows it" (AWS KMS Developer Guide, "Key policies"), so an
	// identity policy counts only where the key policy names the account.
	KeyPolicy bool
}

// Effect is what a decision is.
type Effect int

// Effects, as IAM names them.
const (
	ImplicitDeny Effect = iota
	Allow
	ExplicitDeny
)

func (e Effect) String() string {
	return [...]string{"implicit deny", "allow", "explicit deny"}[e]
}

// Decision is an effect and the statements that made it.
type Decision struct {
	Effect Effect
	By     []string // statements (policy/Sid) that allowed or denied
	Reason string   // why, in words, when denied
}

// Evaluate decides a request (IAM User Guide, "Policy evaluation logic"):
// any applicable Deny is an explicit deny; else, within one account, an
// allow from an identity policy or from a resource policy naming the
// caller allows; a resource policy naming only the caller's account
// delegates to identity policies; across accounts both sides must allow;
// a key policy must allow, directly or by naming the account; a service
// principal has only resource policies. Otherwise the deny is implicit.
func Evaluate(req Request, pol Policies) (Decision, error) {
	var denies, identityAllows []string
	for _, p := range pol.Identity {
		if p == nil {
			continue
		}
		for _, s := range p.statements {
			ok, err := s.applies(req)
			if err != nil {
				return Decision{}, fmt.Errorf("%s: %w", s.label(p), err)
			}
			switch {
			case !ok:
			case s.allow:
				identityAllows = append(identityAllows, s.label(p))
			default:
				denies = append(denies, s.label(p))
			}
		}
	}
	resourceAllow, resourceBy := noMatch, []string(nil)
	if p := pol.Resource; p != nil {
		for _, s := range p.statements {
			m := matchPrincipalOf(s, req.Caller, req.OneAccount)
			if m == noMatch {
				continue
			}
			ok, err := s.applies(req)
			if err != nil {
				return Decision{}, fmt.Errorf("%s: %w", s.label(p), err)
			}
			switch {
			case !ok:
			case s.allow:
				resourceBy = append(resourceBy, s.label(p))
				resourceAllow = max(resourceAllow, m)
			default:
				denies = append(denies, s.label(p))
			}
		}
	}
	if len(denies) > 0 {
		return Decision{Effect: ExplicitDeny, By: denies, Reason: "with an explicit deny in " + strings.Join(denies, ", ")}, nil
	}
	identity := len(identityAllows) > 0
	cross := !req.OneAccount && req.Caller.ARN != "" && accountOf(req.Resource) != "" && accountOf(req.Caller.ARN) != accountOf(req.Resource)
	var allowed bool
	var reason string
	switch {
	case req.Caller.Service != "":
		allowed, reason = resourceAllow == direct, "no resource-based policy allows the service"
	case pol.KeyPolicy:
		allowed = resourceAllow == direct && !cross || resourceAllow != noMatch && identity
		reason = "the key policy does not allow it, nor names the account while an identity-based policy allows it"
	case cross:
		allowed, reason = resourceAllow != noMatch && identity, "across accounts both an identity-based and a resource-based policy must allow it"
	default:
		allowed, reason = identity || resourceAllow == direct, "no identity-based policy allows it"
		if pol.Resource != nil {
			reason = "no identity-based or resource-based policy allows it"
		}
	}
	if !allowed {
		return Decision{Effect: ImplicitDeny, Reason: "because " + reason}, nil
	}
	return Decision{Effect: Allow, By: append(identityAllows, resourceBy...)}, nil
}

// matchPrincipalOf is how a resource policy statement names the caller.
func matchPrincipalOf(s statement, c Caller, oneAccount bool) principalMatch {
	switch {
	case s.principal != nil:
		return matchPrincipal(s.principal, c, oneAccount)
	case s.notPrincipal != nil:
		if matchPrincipal(s.notPrincipal, c, oneAccount) == noMatch {
			return direct
		}
		return noMatch
	}
	return noMatch // a resource policy statement without a principal names no one
}

// applies reports whether a statement covers the request: its action, its
// resource and every condition (the principal is matched apart).
func (s statement) applies(req Request) (bool, error) {
	switch {
	case s.actions != nil && !actionMatches(s.actions, req.Action):
		return false, nil
	case s.notActions != nil && actionMatches(s.notActions, req.Action):
		return false, nil
	case s.actions == nil && s.notActions == nil:
		return false, nil
	case s.resources != nil && !resourceMatches(s.resources, req.Resource):
		return false, nil
	case s.notResources != nil && resourceMatches(s.notResources, req.Resource):
		return false, nil
	}
	for _, c := range s.conditions {
		ok, err := c.holds(req.Context)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}
