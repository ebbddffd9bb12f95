package faults

import (
	"encoding/json"
	"hash/crc32"
	"net/http"
	"strconv"
)

// answer is a fault's status and JSON body, as the service documents it
// (DynamoDB "Error handling": ProvisionedThroughputExceededException and
// InternalServerError; TransactWriteItems: TransactionCanceledException with a
// reason per item; SQS common errors: InternalError).
func answer(service, kind string, items int) (int, map[string]any) {
	switch {
	case service == "dynamodb" && kind == Throttle:
		return http.StatusBadRequest, map[string]any{
			"__type":  "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
			"message": "The level of configured provisioned throughput for the table was exceeded (injected by the local AWS)",
		}
	case service == "dynamodb" && kind == Conflict:
		reasons := make([]map[string]string, max(items, 1))
		for i := range reasons {
			reasons[i] = map[string]string{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
		}
		return http.StatusBadRequest, map[string]any{
			"__type":              "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
			"message":             "Transaction cancelled, please refer cancellation reasons for specific reasons (injected by the local AWS)",
			"CancellationReasons": reasons,
		}
	case service == "dynamodb":
		return http.StatusInternalServerError, map[string]any{
			"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "Internal server error (injected by the local AWS)",
		}
	}
	return http.StatusInternalServerError, map[string]any{
		"__type": "com.amazonaws.sqs#InternalError", "message": "We encountered an internal error (injected by the local AWS)",
	}
}

func encode(body map[string]any) []byte {
	b, _ := json.Marshal(body)
	return b
}

func crc32Of(body map[string]any) string {
	return strconv.FormatUint(uint64(crc32.ChecksumIEEE(encode(body))), 10)
}
