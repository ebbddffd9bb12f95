package lambda

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// eventInvokeConfig keeps a function's asynchronous invocation settings.
func (s *Service) eventInvokeConfig(w http.ResponseWriter, r *http.Request) {
	name := awsapi.FunctionName(r.PathValue("name"))
	ex := s.extras(name)
	if ex == nil {
		awsapi.WriteError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	switch r.Method {
	case http.MethodPut, http.MethodPost:
		body, _ := awsapi.ReadBody(r)
		var req struct {
			MaximumRetryAttempts *int
			DestinationConfig    struct{ OnFailure struct{ Destination string } }
		}
		if json.Unmarshal(body, &req) != nil {
			awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", "request body is not JSON")
			return
		}
		retries := 2
		if req.MaximumRetryAttempts != nil {
			retries = *req.MaximumRetryAttempts
		}
		s.update(name, func(ex *lambdaExtras) {
			ex.EventInvokeConf, ex.MaxRetryAttempts, ex.OnFailureQueue = body, retries, req.DestinationConfig.OnFailure.Destination
		})
		var doc map[string]json.RawMessage
		_ = json.Unmarshal(body, &doc)
		doc["FunctionArn"], _ = json.Marshal(name)
		doc["LastModified"], _ = json.Marshal(float64(time.Now().Unix()))
		awsapi.WriteJSON(w, http.StatusOK, doc)
	case http.MethodDelete:
		s.update(name, func(ex *lambdaExtras) { ex.EventInvokeConf, ex.OnFailureQueue = nil, "" })
		w.WriteHeader(http.StatusNoContent)
	default:
		conf := ex.EventInvokeConf
		if conf == nil {
			awsapi.WriteError(w, http.StatusNotFound, "ResourceNotFoundException", "The function "+name+" doesn't have an EventInvokeConfig")
			return
		}
		var doc map[string]json.RawMessage
		_ = json.Unmarshal(conf, &doc)
		doc["FunctionArn"], _ = json.Marshal(name)
		awsapi.WriteJSON(w, http.StatusOK, doc)
	}
}
