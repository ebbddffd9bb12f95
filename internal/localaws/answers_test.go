package localaws

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]bool{
		"":                        false,
		"gzip":                    true,
		"identity":                false,
		"deflate, gzip;q=0.5":     true,
		"GZIP":                    true,
		"gzip;q=0":                false,
		"gzip; q=0.0, identity":   false,
		"br, gzip ; q=1":          true,
		"x-gzip":                  false,
		"identity;q=1, *;q=0":     false,
		"gzip;level=1":            true,
		"deflate , gzip ; q=0.01": true,
	} {
		assert.Equal(t, want, acceptsGzip(header), "Accept-Encoding: %q", header)
	}
}

func TestWholeAnswer(t *testing.T) {
	t.Parallel()
	large := strings.Repeat("<member>a policy statement</member>", 100)
	for _, tc := range []struct {
		name, method, accept, body string
		status                     int
		wantEncoding               string
		wantLength                 bool
	}{
		{"small, as it is", http.MethodPost, "gzip", "<ok/>", http.StatusOK, "", true},
		{"large, gzip accepted", http.MethodPost, "gzip", large, http.StatusOK, "gzip", true},
		{"large, gzip not accepted", http.MethodPost, "identity", large, http.StatusOK, "", true},
		{"an error, whole too", http.MethodPost, "", `{"__type":"ValidationException"}`, http.StatusBadRequest, "", true},
		{"no content", http.MethodDelete, "gzip", "", http.StatusNoContent, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tc.method, "/", nil)
			req.Header.Set("Accept-Encoding", tc.accept)
			a := &wholeAnswer{w: rec}
			a.Header().Set("Transfer-Encoding", "chunked") // as a proxied chunked answer says
			a.WriteHeader(tc.status)
			a.WriteHeader(http.StatusTeapot) // a second status is ignored, as net/http does
			for part := range strings.SplitSeq(tc.body, "</member>") {
				_, err := a.Write([]byte(part))
				require.NoError(t, err)
			}
			assert.Zero(t, rec.Body.Len(), "nothing leaves before the handler is done")
			a.send(req)
			res := rec.Result()
			assert.Equal(t, tc.status, res.StatusCode)
			assert.Empty(t, res.Header.Get("Transfer-Encoding"))
			assert.Equal(t, tc.wantEncoding, res.Header.Get("Content-Encoding"))
			got := rec.Body.Bytes()
			if tc.wantLength {
				assert.Equal(t, strconv.Itoa(len(got)), res.Header.Get("Content-Length"))
			}
			if tc.wantEncoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(got))
				require.NoError(t, err)
				got, err = io.ReadAll(zr)
				require.NoError(t, err)
			}
			assert.Equal(t, strings.ReplaceAll(tc.body, "</member>", ""), string(got))
		})
	}
}
