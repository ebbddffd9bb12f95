package logs

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// retentionDays are the retentions PutRetentionPolicy takes ("Possible
// values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545,
// 731, 1096, 1827, 2192, 2557, 2922, 3288, and 3653", CloudWatch Logs API
// Reference, PutRetentionPolicy).
var retentionDays = map[int]bool{
	1: true, 3: true, 5: true, 7: true, 14: true, 30: true, 60: true, 90: true, 120: true, 150: true, 180: true,
	365: true, 400: true, 545: true, 731: true, 1096: true, 1827: true, 2192: true, 2557: true, 2922: true, 3288: true, 3653: true,
}

// putRetentionPolicy refuses a retention CloudWatch Logs does not offer
// (InvalidParameterException), then lets kumo keep it.
func (s *Service) putRetentionPolicy(w http.ResponseWriter, r *http.Request) {
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return
	}
	var req struct {
		RetentionInDays *int `json:"retentionInDays"`
	}
	if json.Unmarshal(body, &req) == nil && req.RetentionInDays != nil && !retentionDays[*req.RetentionInDays] {
		awsapi.WriteProtocolError(w, r, http.StatusBadRequest, "InvalidParameterException",
			fmt.Sprintf("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set", *req.RetentionInDays))
		return
	}
	status, h, out, ok := s.kumo.Exchange(w, r, body)
	if ok {
		awsapi.Relay(w, status, h, out)
	}
}
