package sns

import (
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/auth/principals"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// topicPolicyCall refuses a CreateTopic or SetTopicAttributes whose Policy
// names a principal that does not exist, as SNS does: InvalidParameter
// (400), "Invalid parameter: Policy Error: PrincipalNotFound"; else kumo
// serves it.
func (s *Service) topicPolicyCall(w http.ResponseWriter, r *http.Request, q awsapi.Query) {
	if policy := topicPolicyOf(q); policy != "" {
		missing, err := principals.Missing(r.Context(), s.kumo.IAM, policy)
		if err != nil || missing != "" {
			msg := "Invalid parameter: Policy Error: PrincipalNotFound"
			if err != nil {
				msg = "Invalid parameter: Policy Error: " + err.Error()
			}
			s.log.Warn("topic policy refused", zap.String("principal", missing), zap.Error(err))
			awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "InvalidParameter", msg)
			return
		}
	}
	status, h, out, ok := s.kumo.Exchange(w, r, q.Body)
	if !ok {
		return
	}
	h.Del("Content-Length")
	awsapi.Relay(w, status, h, out)
}

// topicPolicyOf is the Policy a CreateTopic (Attributes.entry.N.key and
// .value) or SetTopicAttributes (AttributeName, AttributeValue) sets.
func topicPolicyOf(q awsapi.Query) string {
	if q.Form.Get("AttributeName") == "Policy" {
		return q.Form.Get("AttributeValue")
	}
	for k, v := range q.Form {
		if strings.HasPrefix(k, "Attributes.entry.") && strings.HasSuffix(k, ".key") && len(v) == 1 && v[0] == "Policy" {
			return q.Form.Get(strings.TrimSuffix(k, ".key") + ".value")
		}
	}
	return ""
}
