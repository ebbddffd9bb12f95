package kms

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// malformedPolicy is KMS's refusal of a key policy "not syntactically or
// semantically correct" (MalformedPolicyDocumentException, 400; CreateKey
// and PutKeyPolicy in the KMS API Reference).
const malformedPolicy = "MalformedPolicyDocumentException"

// createKey refuses a key policy naming a principal that does not exist,
// then creates the key with kumo.
func (s *Service) createKey(w http.ResponseWriter, r *http.Request) {
	body, ok := s.checkPolicy(w, r)
	if !ok {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.keyMetadata(w, r)
}

// putKeyPolicy refuses a key policy naming a principal that does not
// exist, then lets kumo store it.
func (s *Service) putKeyPolicy(w http.ResponseWriter, r *http.Request) {
	body, ok := s.checkPolicy(w, r)
	if !ok {
		return
	}
	status, h, out, ok := s.kumo.Exchange(w, r, body)
	if ok {
		awsapi.Relay(w, status, h, out)
	}
}

// checkPolicy reads the request and refuses, in KMS's protocol, a Policy
// whose principals do not all exist: "The principals in the key policy
// must exist and be visible to KMS" (the console says "Policy contains a
// statement with one or more invalid principals").
func (s *Service) checkPolicy(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return nil, false
	}
	var req struct {
		Policy, KeyId                  string //nolint:revive // KMS's member name
		BypassPolicyLockoutSafetyCheck bool
	}
	if json.Unmarshal(body, &req) != nil || req.Policy == "" {
		return body, true // kumo answers a malformed request or gives the default policy
	}
	missing, err := principals.Missing(r.Context(), s.kumo.IAM, req.Policy)
	switch {
	case errors.Is(err, principals.ErrUnreadable):
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, malformedPolicy, "The policy is not syntactically correct: "+err.Error())
		return nil, false
	case err != nil:
		awsapi.WriteProtocolError(w, r, http.StatusInternalServerError, "KMSInternalException", err.Error())
		return nil, false
	case missing != "":
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, malformedPolicy, "Policy contains a statement with one or more invalid principals: "+missing)
		return nil, false
	case !req.BypassPolicyLockoutSafetyCheck && locksOutAdmin(r, req.Policy, req.KeyId):
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, malformedPolicy, lockedOut)
		return nil, false
	}
	return body, true
}
