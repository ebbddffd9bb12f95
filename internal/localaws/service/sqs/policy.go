package sqs

import (
	"encoding/json"
	"net/http"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/principals"
)

// policyPrincipalsExist refuses a CreateQueue or SetQueueAttributes whose
// Policy names a principal that does not exist, as SQS does:
// InvalidAttributeValue, "Invalid value for the parameter Policy." (400;
// "A queue attribute value is invalid", SQS API Reference). It answers the
// client itself and returns false when it refuses.
func (s *Service) policyPrincipalsExist(w http.ResponseWriter, r *http.Request, body []byte) bool {
	var req queueRequest
	if json.Unmarshal(body, &req) != nil || req.Attributes["Policy"] == "" {
		return true
	}
	missing, err := principals.Missing(r.Context(), s.kumo.IAM, req.Attributes["Policy"])
	switch {
	case err != nil:
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "InvalidAttributeValue", "Invalid value for the parameter Policy.")
		s.log.Warn("queue policy refused", zap.String("queue", req.name()), zap.Error(err))
		return false
	case missing != "":
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "InvalidAttributeValue", "Invalid value for the parameter Policy.")
		s.log.Warn("queue policy refused: a principal does not exist", zap.String("queue", req.name()), zap.String("principal", missing))
		return false
	}
	return true
}
