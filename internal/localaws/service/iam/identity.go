package iam

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// malformed is IAM's refusal of a policy document (MalformedPolicyDocument, 400).
const malformed = "MalformedPolicyDocument"

// identityPolicyCall refuses an identity-based policy that IAM refuses,
// then lets kumo serve the call (PutRolePolicy, CreatePolicy,
// CreatePolicyVersion; IAM API Reference, MalformedPolicyDocument: "The
// request was rejected because the policy document was malformed"):
//   - a Principal or NotPrincipal: "Policy document should not specify a
//     principal." (an identity-based policy applies to whom it is attached
//     to; IAM User Guide, "IAM JSON policy elements: Principal");
//   - a Resource or NotResource neither an ARN nor "*": "Resource <value>
//     must be in ARN format or "*"." (IAM User Guide, "IAM JSON policy
//     elements: Resource").
func (s *Service) identityPolicyCall(w http.ResponseWriter, r *http.Request, q awsapi.Query) {
	if msg := identityPolicyProblem(q.Form.Get("PolicyDocument")); msg != "" {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, malformed, msg)
		return
	}
	s.relay(w, r, q)
}

// identityPolicyProblem is IAM's message for the first statement of doc it
// refuses, or "". A document that is not JSON is left to kumo.
func identityPolicyProblem(doc string) string {
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return ""
	}
	var statements []map[string]json.RawMessage
	if json.Unmarshal(p.Statement, &statements) != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(p.Statement, &one) != nil {
			return ""
		}
		statements = append(statements, one)
	}
	for _, st := range statements {
		if _, ok := st["Principal"]; ok {
			return "Policy document should not specify a principal."
		}
		if _, ok := st["NotPrincipal"]; ok {
			return "Policy document should not specify a principal."
		}
		for _, field := range []string{"Resource", "NotResource"} {
			for _, res := range stringOrList(st[field]) {
				if res != "*" && !strings.HasPrefix(res, "arn:") {
					return "Resource " + res + ` must be in ARN format or "*".`
				}
			}
		}
	}
	return ""
}

// stringOrList reads a policy element that is a string or a list of them.
func stringOrList(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many) // anything else is left to kumo
	return many
}
