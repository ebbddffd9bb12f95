package iam

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// deleteRole refuses to delete a role that still has inline policies, as
// IAM does ("You must first remove the items attached to the role ...
// inline policies (DeleteRolePolicy)", IAM API Reference, DeleteRole:
// DeleteConflict, 409, "Cannot delete entity, must delete policies
// first."). kumo refuses one with attached managed policies itself.
func (s *Service) deleteRole(w http.ResponseWriter, r *http.Request, q awsapi.Query) {
	name := q.Form.Get("RoleName")
	out, err := s.kumo.IAM.ListRolePolicies(r.Context(), &iam.ListRolePoliciesInput{RoleName: &name})
	if err == nil && len(out.PolicyNames) > 0 {
		awsapi.WriteProtocolError(w, r, http.StatusConflict, "DeleteConflict", "Cannot delete entity, must delete policies first.")
		return
	}
	s.relay(w, r, q) // kumo answers a role it does not know
}
