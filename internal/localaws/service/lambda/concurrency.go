package lambda

import (
	"encoding/json"
	"fmt"
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
		if left := AccountConcurrency - s.reservedByOthers(name) - n; left < MinUnreserved {
			// "Specified ReservedConcurrentExecutions for function decreases
			// account's UnreservedConcurrentExecution below its minimum value
			// of [100]" (PutFunctionConcurrency; "Lambda quotas": 1,000
			// concurrent executions per account and Region by default).
			awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf(
				"Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", MinUnreserved))
			return
		}
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

// AccountConcurrency is the account's concurrency limit, Lambda's default
// quota ("Lambda quotas": 1,000 concurrent executions); MinUnreserved is
// what reserved concurrency must leave unreserved.
const (
	AccountConcurrency = 1000
	MinUnreserved      = 100
)

// reservedByOthers is the reserved concurrency of every function but name.
func (s *Service) reservedByOthers(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for fn, ex := range s.lambdas {
		if fn != name && ex.Reserved != nil {
			total += *ex.Reserved
		}
	}
	return total
}
