package sqs

import (
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// attributeRanges are the queue attributes SQS bounds and their bounds
// (CreateQueue and SetQueueAttributes, Attributes: "DelaySeconds ... An
// integer from 0 to 900", "MaximumMessageSize ... from 1,024 bytes" up to
// 1 MiB, "MessageRetentionPeriod ... from 60 ... to 1,209,600",
// "ReceiveMessageWaitTimeSeconds ... An integer from 0 to 20",
// "VisibilityTimeout ... from 0 to 43,200", "KmsDataKeyReusePeriodSeconds
// ... between 60 seconds (1 minute) and 86,400 seconds (24 hours)").
var attributeRanges = map[string][2]int{
	"DelaySeconds": {0, 900}, "MaximumMessageSize": {1024, 1048576}, "MessageRetentionPeriod": {60, 1209600},
	"ReceiveMessageWaitTimeSeconds": {0, 20}, "VisibilityTimeout": {0, 43200}, "KmsDataKeyReusePeriodSeconds": {60, 86400},
}

// attributesInRange refuses a CreateQueue or SetQueueAttributes setting an
// attribute out of its range, as SQS does: InvalidAttributeValue
// ("Invalid value for the parameter <name>."). It answers the client
// itself and returns false when it refuses.
func attributesInRange(w http.ResponseWriter, r *http.Request, req queueRequest) bool {
	for name, v := range req.Attributes {
		bounds, ok := attributeRanges[name]
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(v); err != nil || n < bounds[0] || n > bounds[1] {
			awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "InvalidAttributeValue", "Invalid value for the parameter "+name+".")
			return false
		}
	}
	return true
}

// policyPrincipalsExist refuses a CreateQueue or SetQueueAttributes whose
// Policy names a principal that does not exist, as SQS does:
// InvalidAttributeValue, "Invalid value for the parameter Policy." (400;
// "A queue attribute value is invalid", SQS API Reference). It answers the
// client itself and returns false when it refuses.
func (s *Service) policyPrincipalsExist(w http.ResponseWriter, r *http.Request, req queueRequest) bool {
	if req.Attributes["Policy"] == "" {
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
