package iam

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/micahhausler/aws-iam-policy/policy"

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
// refuses, or "". A document the policy library cannot read is left to kumo.
func identityPolicyProblem(doc string) string {
	var p policy.Policy
	if json.Unmarshal([]byte(doc), &p) != nil || p.Statements == nil {
		return ""
	}
	for _, st := range p.Statements.Values() {
		if st.Principal != nil || st.NotPrincipal != nil {
			return "Policy document should not specify a principal."
		}
		for _, res := range [](*policy.StringOrSlice){st.Resource, st.NotResource} {
			if res == nil {
				continue
			}
			for _, v := range res.Values() {
				if v != "*" && !strings.HasPrefix(v, "arn:") {
					return "Resource " + v + ` must be in ARN format or "*".`
				}
			}
		}
	}
	return ""
}
