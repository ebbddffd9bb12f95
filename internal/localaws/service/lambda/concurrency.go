package lambda

import (
	"encoding/json"
	"net/http"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// concurrency implements Put/Get/DeleteFunctionConcurrency: reserved
// concurrency becomes the number of processes serving the function.
func (s *Service) concurrency(w http.ResponseWriter, r *http.Request) {
	name := awsapi.FunctionName(r.PathValue("name"))
	if s.extras(name) == nil {
		awsapi.WriteError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	switch r.Method {
	case http.MethodPut:
		var req struct{ ReservedConcurrentExecutions *int }
		body, _ := awsapi.ReadBody(r)
		if json.Unmarshal(body, &req) != nil || req.ReservedConcurrentExecutions == nil || *req.ReservedConcurrentExecutions < 0 {
			awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", "ReservedConcurrentExecutions must be 0 or more")
			return
		}
		n := *req.ReservedConcurrentExecutions
		s.update(name, func(ex *lambdaExtras) { ex.Reserved = &n })
		if err := s.exec.SetConcurrency(name, n, true); err != nil {
			awsapi.WriteError(w, http.StatusInternalServerError, "ServiceException", err.Error())
			return
		}
		awsapi.WriteJSON(w, http.StatusOK, map[string]int{"ReservedConcurrentExecutions": n})
	case http.MethodDelete:
		s.update(name, func(ex *lambdaExtras) { ex.Reserved = nil })
		if err := s.exec.SetConcurrency(name, s.instances, false); err != nil {
			awsapi.WriteError(w, http.StatusInternalServerError, "ServiceException", err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		resp := map[string]int{}
		if ex := s.extras(name); ex != nil && ex.Reserved != nil {
			resp["ReservedConcurrentExecutions"] = *ex.Reserved
		}
		awsapi.WriteJSON(w, http.StatusOK, resp)
	}
}
