package awsapi

import (
	"io"
	"net/http"
	"strings"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/uuid"
)

// WriteProtocolError answers r with an error in the protocol r came in:
// RPC v2 CBOR (Smithy-Protocol: rpc-v2-cbor), AWS JSON (X-Amz-Target; SQS's
// code also in x-amzn-query-error, which its SDK reads first), Query (a
// form POST: an ErrorResponse document), else REST-JSON.
func WriteProtocolError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	WriteProtocolErrorAs(w, r, status, code, code, message)
}

// WriteProtocolErrorAs is WriteProtocolError for an error whose code in
// SQS's former Query protocol differs from its JSON type (KmsAccessDenied
// is "KMS.AccessDeniedException" there): SQS sends that code in
// x-amzn-query-error and its SDK reports it.
func WriteProtocolErrorAs(w http.ResponseWriter, r *http.Request, status int, code, queryCode, message string) {
	switch {
	case r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor":
		body, _ := cbor.Marshal(map[string]string{"__type": code, "message": message}) // a map of strings always encodes
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", "application/cbor")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	case r.Header.Get("X-Amz-Target") != "":
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.") {
			w.Header().Set("X-Amzn-Query-Error", queryCode+";Sender")
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		WriteError(w, status, code, message)
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>`+code+`</Code><Message>`+Escape(message)+
			`</Message></Error><RequestId>`+uuid.NewString()+`</RequestId></ErrorResponse>`)
	default:
		WriteError(w, status, code, message)
	}
}
