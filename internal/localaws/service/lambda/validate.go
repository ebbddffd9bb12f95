package lambda

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// validateFunction refuses a function configuration Lambda refuses, with
// Lambda's message and code, or returns "" ("CreateFunction" and "Lambda
// quotas" in the Lambda Developer Guide and API Reference):
//   - Timeout 1-900 seconds and MemorySize 128-10,240 MB (ValidationException,
//     "1 validation error detected: Value ... failed to satisfy constraint");
//   - environment variables of at most 4 KB in all (InvalidParameterValueException,
//     "... exceeded the 4KB limit").
func validateFunction(req functionRequest) (msg, code string) {
	switch {
	case req.Timeout != 0 && (req.Timeout < 1 || req.Timeout > 900):
		return outOfRange("timeout", req.Timeout, 1, 900), "ValidationException"
	case req.MemorySize != 0 && (req.MemorySize < 128 || req.MemorySize > 10240):
		return outOfRange("memorySize", req.MemorySize, 128, 10240), "ValidationException"
	}
	if req.Environment != nil {
		measured, _ := json.Marshal(req.Environment.Variables) // a map of strings always encodes
		if len(measured) > 4096 {
			return "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: " +
				string(measured), "InvalidParameterValueException"
		}
	}
	return "", ""
}

func outOfRange(member string, value, lowest, highest int) string {
	bound := fmt.Sprintf("greater than or equal to %d", lowest)
	if value > highest {
		bound = fmt.Sprintf("less than or equal to %d", highest)
	}
	return fmt.Sprintf("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value %s", value, member, bound)
}

// refuseInvalid answers a refused configuration; it reports whether it did.
func refuseInvalid(w http.ResponseWriter, req functionRequest) bool {
	msg, code := validateFunction(req)
	if msg == "" {
		return false
	}
	awsapi.WriteError(w, http.StatusBadRequest, code, msg)
	return true
}
