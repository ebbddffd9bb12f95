package awsapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

func TestRouterFindsTheOwnerOfAnOperation(t *testing.T) {
	t.Parallel()
	rt := awsapi.NewRouter()
	rt.Target("AmazonSQS", "CreateQueue", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("target")) })
	rt.REST("GET /2015-03-31/functions/{name}", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("rest " + r.PathValue("name"))) })
	rt.Query("monitoring", "PutMetricAlarm", func(w http.ResponseWriter, _ *http.Request, q awsapi.Query) {
		_, _ = w.Write([]byte("query " + q.Form.Get("AlarmName")))
	})
	const monitoring = "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=x"
	const sns = "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=x"

	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		body   string
		want   string // "" when no handler owns it
	}{
		{name: "JSON target", method: http.MethodPost, path: "/", header: map[string]string{"X-Amz-Target": "AmazonSQS.CreateQueue"}, want: "target"},
		{name: "other JSON target", method: http.MethodPost, path: "/", header: map[string]string{"X-Amz-Target": "AmazonSQS.SendMessage"}},
		{name: "REST pattern", method: http.MethodGet, path: "/2015-03-31/functions/f1", want: "rest f1"},
		{name: "REST, other method", method: http.MethodDelete, path: "/2015-03-31/functions/f1"},
		{name: "REST, unclean path", method: http.MethodGet, path: "/2015-03-31//functions/f1"},
		{
			name: "Query action of its service", method: http.MethodPost, path: "/", body: "Action=PutMetricAlarm&AlarmName=a1",
			header: map[string]string{"Authorization": monitoring, "Content-Type": "application/x-www-form-urlencoded"}, want: "query a1",
		},
		{
			name: "same action, other service", method: http.MethodPost, path: "/", body: "Action=PutMetricAlarm&AlarmName=a1",
			header: map[string]string{"Authorization": sns, "Content-Type": "application/x-www-form-urlencoded"},
		},
		{name: "unsigned form", method: http.MethodPost, path: "/", body: "Action=PutMetricAlarm", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			h := rt.Lookup(r)
			if tt.want == "" {
				assert.Nil(t, h)
				return
			}
			if assert.NotNil(t, h) {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				assert.Equal(t, tt.want, w.Body.String())
			}
		})
	}
}
