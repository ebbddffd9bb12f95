// Package iam fills gaps of kumo's IAM where it accepts what IAM refuses:
// trust policies naming principals that do not exist (CreateRole,
// UpdateAssumeRolePolicy), identity-based policies with a principal or a
// resource that is not an ARN (PutRolePolicy, CreatePolicy,
// CreatePolicyVersion), and deleting a role that has inline policies.
package iam

import (
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// signingService is IAM's name in SigV4 credential scopes.
const signingService = "iam"

// Service checks trust policies before kumo keeps them.
type Service struct {
	kumo *upstream.Kumo
	log  *zap.Logger
}

// New returns the IAM gap filler.
func New(k *upstream.Kumo, log *zap.Logger) *Service { return &Service{kumo: k, log: log} }

// Register adds the calls it checks (Query protocol).
func (s *Service) Register(r *awsapi.Router) {
	r.Query(signingService, "CreateRole", func(w http.ResponseWriter, r *http.Request, q awsapi.Query) {
		s.trustPolicyCall(w, r, q, q.Form.Get("AssumeRolePolicyDocument"))
	})
	r.Query(signingService, "UpdateAssumeRolePolicy", func(w http.ResponseWriter, r *http.Request, q awsapi.Query) {
		s.trustPolicyCall(w, r, q, q.Form.Get("PolicyDocument"))
	})
	for _, action := range []string{"PutRolePolicy", "CreatePolicy", "CreatePolicyVersion"} {
		r.Query(signingService, action, s.identityPolicyCall)
	}
	r.Query(signingService, "DeleteRole", s.deleteRole)
}

// trustPolicyCall refuses a trust policy naming an AWS principal that does
// not exist ("Invalid principal in policy", MalformedPolicyDocument, 400:
// IAM resolves each role or user principal to its unique ID when it
// stores the policy), then lets kumo serve the call.
func (s *Service) trustPolicyCall(w http.ResponseWriter, r *http.Request, q awsapi.Query, doc string) {
	if doc != "" {
		missing, err := principals.Missing(r.Context(), s.kumo.IAM, doc)
		switch {
		case errors.Is(err, principals.ErrUnreadable):
			awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "MalformedPolicyDocument", "Syntax errors in policy: "+err.Error())
			return
		case err != nil:
			awsapi.WriteProtocolError(w, r, http.StatusInternalServerError, "ServiceFailure", err.Error())
			return
		case missing != "":
			s.log.Warn("trust policy refused: a principal does not exist", zap.String("principal", missing))
			awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "MalformedPolicyDocument", `Invalid principal in policy: "AWS":"`+missing+`"`)
			return
		}
	}
	s.relay(w, r, q)
}

// relay lets kumo serve the call.
func (s *Service) relay(w http.ResponseWriter, r *http.Request, q awsapi.Query) {
	status, h, out, ok := s.kumo.Exchange(w, r, q.Body)
	if !ok {
		return
	}
	h.Del("Content-Length")
	awsapi.Relay(w, status, h, out)
}
