package localaws

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
)

// wholeAnswer holds an answer until its handler is done, then sends it in
// one write with its Content-Length (AWS's API endpoints do not chunk), and
// gzip-encoded when it is larger than gzipFrom and the client accepts gzip
// (RFC 9110, 12.5.3: Go's HTTP client asks for it and decodes it itself).
//
// Why: the Terraform provider's SDK (smithy-go) closes a request body as
// soon as the answer's headers are in. When net/http's writer makes its
// check for bytes after the Content-Length after that, the closed body's
// WriteTo answers io.EOF, which the writer takes for a failed request: it
// closes the connection, and the part of the answer not yet read into the
// client's 4 KB buffer is lost ("use of closed network connection"). The
// local AWS answers within microseconds, so its headers can beat the
// client's own writer, which a real network never lets happen. An answer
// that reaches the client in one piece that fits its buffer is read whole,
// closed connection or not.
type wholeAnswer struct {
	w      http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (a *wholeAnswer) Header() http.Header { return a.w.Header() }

func (a *wholeAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *wholeAnswer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(p) //nolint:wrapcheck // a bytes.Buffer's write never fails
}

// An answer with DynamoDB's X-Amz-Crc32 goes as it is: the checksum is of
// the bytes sent, and the SDK asks for gzip itself when it wants it.
//
// gzipFrom is the size from which an answer is sent gzip-encoded to a
// client that accepts it: a compressed answer of the provider's largest
// reads (key and topic policies, function configurations) then fits the
// client's first 4 KB read with its headers.
const gzipFrom = 1024

// send writes the held answer: status, Content-Length and body at once.
func (a *wholeAnswer) send(r *http.Request) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	h := a.w.Header()
	h.Del("Transfer-Encoding")
	body := a.body.Bytes()
	if !bodyAllowed(a.status) || r.Method == http.MethodHead {
		a.w.WriteHeader(a.status)
		return
	}
	if len(body) >= gzipFrom && h.Get("Content-Encoding") == "" && h.Get("X-Amz-Crc32") == "" && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		_, _ = zw.Write(body) // into a bytes.Buffer: never fails
		_ = zw.Close()
		body = z.Bytes()
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	a.w.WriteHeader(a.status)
	_, _ = a.w.Write(body) // the client went away: no one to tell
}

// acceptsGzip reports whether an Accept-Encoding header value accepts gzip
// (RFC 9110, 12.5.3: a coding listed with q=0 is not acceptable).
func acceptsGzip(header string) bool {
	for _, item := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(item), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, found := strings.CutPrefix(strings.ReplaceAll(strings.TrimSpace(params), " ", ""), "q=")
		if !found {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}

// bodyAllowed reports whether an answer with status may carry a body
// (RFC 9110, 6.4.1: not 1xx, 204 or 304).
func bodyAllowed(status int) bool {
	return status >= http.StatusOK && status != http.StatusNoContent && status != http.StatusNotModified
}
