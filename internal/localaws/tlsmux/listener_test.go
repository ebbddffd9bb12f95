package tlsmux

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOnePortServesHTTPAndHTTPS(t *testing.T) {
	ca, err := NewAuthority("127.0.0.1", "localhost")
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, strconv.FormatBool(Secure(r.Context())))
		}),
		ConnContext:       ConnContext,
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(Wrap(ln, ca)) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := ln.Addr().String()

	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.CertPool(), MinVersion: tls.VersionTLS12}}}
	for _, tt := range []struct {
		name, url  string
		client     *http.Client
		wantSecure string
		wantErr    bool
	}{
		{"plain HTTP", "http://" + addr, http.DefaultClient, "false", false},
		{"HTTPS, trusting the authority", "https://" + addr, trusting, "true", false},
		{"HTTPS by name, trusting the authority", "https://localhost:" + portOf(addr), trusting, "true", false},
		{"HTTPS without trusting it", "https://" + addr, http.DefaultClient, "", true},
		{"plain HTTP again on the same port", "http://" + addr, http.DefaultClient, "false", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.client.Get(tt.url)
			if tt.wantErr {
				var unknown x509.UnknownAuthorityError
				require.ErrorAs(t, err, &unknown)
				return
			}
			require.NoError(t, err)
			defer func() { _ = resp.Body.Close() }()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.wantSecure, string(body))
		})
	}
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}
