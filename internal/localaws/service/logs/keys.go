package logs

import (
	"context"
	"encoding/json"
	"net/http"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// KeyJudge decides a service principal's use of a KMS key as itself (the
// access guard's ServiceUsesKey).
type KeyJudge interface {
	ServiceUsesKey(ctx context.Context, service, keyID string, actions []string, encryptionContext map[string]string) error
}

// groupKeyUse is the key use judged when a log group is given a key: the
// data key CloudWatch Logs encrypts the group's events with. The page
// lists kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*
// and kms:Describe* for the service; when AWS checks each of the others
// is not documented, and they are not judged here (refusal table).
var groupKeyUse = []string{"kms:GenerateDataKey"}

// withKey refuses to give a log group a key that CloudWatch Logs may not
// use for it, as AWS does: the key policy must let logs.<region>.amazonaws.com
// use it with the encryption context aws:logs:arn set to the group's ARN
// ("Encrypt log data in CloudWatch Logs using AWS Key Management Service",
// step 2, and AssociateKmsKey: "The specified KMS key does not exist or is
// not allowed to be used with Arn ...", AccessDeniedException). Then kumo
// serves the call (CreateLogGroup, AssociateKmsKey).
func (s *Service) withKey(w http.ResponseWriter, r *http.Request) {
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return
	}
	var req struct {
		LogGroupName string `json:"logGroupName"`
		KmsKeyID     string `json:"kmsKeyId"`
	}
	if json.Unmarshal(body, &req) == nil && req.KmsKeyID != "" && s.keys != nil {
		region := awsapi.SigningRegion(r)
		group := "arn:aws:logs:" + region + ":" + awsapi.Account + ":log-group:" + req.LogGroupName
		err := s.keys.ServiceUsesKey(r.Context(), "logs."+region+".amazonaws.com", req.KmsKeyID, groupKeyUse, map[string]string{"aws:logs:arn": group})
		if err != nil {
			s.log.Warn("log group key refused", zap.String("group", req.LogGroupName), zap.Error(err))
			awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "AccessDeniedException",
				"The specified KMS key does not exist or is not allowed to be used with Arn '"+group+"'")
			return
		}
	}
	status, h, out, ok := s.kumo.Exchange(w, r, body)
	if ok {
		awsapi.Relay(w, status, h, out)
	}
}
