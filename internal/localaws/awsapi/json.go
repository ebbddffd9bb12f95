package awsapi

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
)

// maxBody bounds what a request body may hold (a 50 MB Lambda zip, base64).
const maxBody = 128 << 20

// ReadBody reads a request body.
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	return b, nil
}

// ReadOrReject reads the request body, answering 400 itself when it cannot.
func ReadOrReject(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := ReadBody(r)
	if err != nil {
		WriteError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return nil, false
	}
	return body, true
}

// WriteJSON writes v with the AWS JSON 1.0 content type.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes an error the way the JSON and REST-JSON protocols do:
// the code in X-Amzn-Errortype and __type, the text in message.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("X-Amzn-Errortype", code)
	WriteJSON(w, status, map[string]string{"__type": code, "message": message, "Message": message})
}

// Relay writes an upstream answer back unchanged but for its length.
func Relay(w http.ResponseWriter, status int, h http.Header, body []byte) {
	for k, v := range h {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) //nolint:gosec // an API response relayed as is, not HTML
}

// CRC32 is the X-Amz-Crc32 value of a DynamoDB response body, which the SDK validates.
func CRC32(body []byte) string {
	return strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
}
