// Package localawstest starts a local AWS for a test, in the spirit of
// net/http/httptest: on a free loopback port, logging to the test, and
// closed when the test ends.
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
