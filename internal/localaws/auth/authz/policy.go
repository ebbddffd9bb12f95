// Package authz evaluates AWS IAM policies as AWS documents the evaluation
// for one account's identity-based and resource-based policies (IAM User
// Guide, "Policy evaluation logic"): an explicit deny wins, then an allow
// from an identity policy or a resource policy, else the request is
// implicitly denied. Policies are read with micahhausler/aws-iam-policy; the
// matching and the evaluation are this package's. Not evaluated (the local
// AWS README's gap table): permissions boundaries, session policies, SCPs
// and RCPs, and condition operators and keys it does not know, which make
// Evaluate fail, naming them, instead of guessing.
package authz

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/micahhausler/aws-iam-policy/policy"
)

// Policy is one parsed policy document and the name errors and decisions give it.
type Policy struct {
	Name       string
	statements []statement
}

// statement is one statement with its condition values read as strings.
type statement struct {
	sid                     string
	allow                   bool
	actions, notActions     []string
	resources, notResources []string
	principal, notPrincipal *principalField
	conditions              []condition
	index                   int
}

// condition is one operator over one key, e.g. StringEquals aws:SourceAccount.
type condition struct {
	operator, key string
	values        []string
}

// Parse reads a policy document (the IAM JSON policy grammar).
func Parse(name string, doc []byte) (*Policy, error) {
	var p policy.Policy
	if err := json.Unmarshal(doc, &p); err != nil {
		return nil, fmt.Errorf("policy %s: %w", name, err)
	}
	if p.Statements == nil {
		return nil, fmt.Errorf("policy %s: no Statement", name)
	}
	out := &Policy{Name: name}
	for i, s := range p.Statements.Values() {
		st := statement{sid: s.Sid, index: i, principal: principalOf(s.Principal), notPrincipal: principalOf(s.NotPrincipal)}
		switch s.Effect {
		case policy.EffectAllow:
			st.allow = true
		case policy.EffectDeny:
		default:
			return nil, fmt.Errorf("policy %s, statement %d: Effect %q is neither Allow nor Deny", name, i, s.Effect)
		}
		st.actions, st.notActions = values(s.Action), values(s.NotAction)
		st.resources, st.notResources = values(s.Resource), values(s.NotResource)
		for op, keys := range s.Condition {
			for key, v := range keys {
				st.conditions = append(st.conditions, condition{operator: op, key: key, values: conditionStrings(v)})
			}
		}
		out.statements = append(out.statements, st)
	}
	return out, nil
}

// principalField is a Principal or NotPrincipal element: everyone, or AWS
// principals (accounts, roles, users) and service principals.
type principalField struct {
	all           bool
	aws, services []string
}

func principalOf(p *policy.Principal) *principalField {
	if p == nil {
		return nil
	}
	kinds := p.Kinds()
	if len(kinds) == 1 && kinds[0] == policy.PrincipalKindAll {
		return &principalField{all: true} // "Principal": "*"
	}
	f := &principalField{aws: values(p.AWS()), services: values(p.Service())}
	for _, a := range f.aws {
		if a == "*" { // {"AWS": "*"} is "*" (IAM User Guide, "All principals")
			f.all = true
		}
	}
	return f
}

func values(s *policy.StringOrSlice) []string {
	if s == nil {
		return nil
	}
	return s.Values()
}

// conditionStrings reads a condition's values as the strings the request
// context holds ("Bool": true and "true" alike).
func conditionStrings(v *policy.ConditionValue) []string {
	if v == nil {
		return nil
	}
	strs, bools, nums := v.Values()
	out := append([]string(nil), strs...)
	for _, b := range bools {
		out = append(out, strconv.FormatBool(b))
	}
	for _, n := range nums {
		out = append(out, strconv.FormatFloat(n, 'f', -1, 64))
	}
	return out
}

// label names a statement in decisions and errors.
func (s statement) label(p *Policy) string {
	if s.sid != "" {
		return p.Name + "/" + s.sid
	}
	return fmt.Sprintf("%s/statement %d", p.Name, s.index)
}

// AWSPrincipals are the AWS principals (accounts, roles, users, sessions)
// the policy's Principal and NotPrincipal elements name, "*" left out.
func (p *Policy) AWSPrincipals() []string {
	var out []string
	for _, s := range p.statements {
		for _, f := range []*principalField{s.principal, s.notPrincipal} {
			if f == nil {
				continue
			}
			for _, a := range f.aws {
				if a != "*" {
					out = append(out, a)
				}
			}
		}
	}
	return out
}
