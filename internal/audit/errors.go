package audit

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// The SDK retries throttling and server errors itself (its standard
// retryer); what reaches the store is either a refusal of the request's
// content, which no retry can fix, or a failure the processor leaves on
// the queue for SQS to deliver again.

// isValidation reports a request DynamoDB refuses for its content.
func isValidation(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException"
}

// classify marks errors that no retry can fix with ErrRejected.
func classify(err error) error {
	if isValidation(err) {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return err
}
