package upstream

import (
	"bytes"
	"io"
	"net/http"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/faults"
)

// faultingTransport lets the layer's own calls to kumo meet injected faults.
type faultingTransport struct {
	next   http.RoundTripper
	faults *faults.Injector
}

func (f faultingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if f.faults.Active() {
		if service, op := faults.ServiceOf(req.Header.Get("X-Amz-Target")); service != "" {
			if a := f.faults.Decide(req.Context(), service, op, 0); a != nil {
				if req.Body != nil {
					_ = req.Body.Close()
				}
				return &http.Response{
					Status: http.StatusText(a.Status), StatusCode: a.Status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
					Header: a.Header, Body: io.NopCloser(bytes.NewReader(a.Body)), ContentLength: int64(len(a.Body)), Request: req,
				}, nil
			}
		}
	}
	return f.next.RoundTrip(req) //nolint:wrapcheck // a transport passes errors through
}
