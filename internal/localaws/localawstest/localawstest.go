// Package localawstest is the local AWS's test kit, in the spirit of
// net/http/httptest: New starts a server for a test (on a free loopback
// port, logging to the test, closed when the test ends), CheckGaps runs a
// service's rows of the gap table against bare kumo and the layer, and
// small helpers make what those checks share (a client configuration,
// unique names, a refusal's code, a stream table).
package localawstest

import (
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
)

// New starts a local AWS with opts for t. Addr defaults to a free loopback
// port and Log to t's logger; the server closes when t ends. A server that
// cannot start fails t.
func New(t testing.TB, opts localaws.Options) *localaws.Server {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Log == nil {
		opts.Log = zaptest.NewLogger(t)
	}
	srv, err := localaws.Start(opts)
	if err != nil {
		t.Fatalf("start the local AWS: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}
