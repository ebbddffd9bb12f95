package awsapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// FuzzLookup decodes arbitrary requests as the local AWS does before it
// serves them or passes them to kumo: the router never panics, a request it
// routes is served without panicking, and the body is left whole for
// whoever reads it next (the proxy to kumo forwards it as it came).
func FuzzLookup(f *testing.F) {
	const monitoring = "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=x"
	f.Add("", "/", monitoring, "application/x-www-form-urlencoded", []byte("Action=PutMetricAlarm&AlarmName=a1&Dimensions.member.1.Name=Q&Dimensions.member.1.Value=v"))
	f.Add("AmazonSQS.CreateQueue", "/", "", "application/x-amz-json-1.0", []byte(`{"QueueName":"q"}`))
	f.Add("", "/2015-03-31/functions/f1", "", "", []byte(nil))
	f.Add("", "/../2015-03-31/functions/%2e%2e", monitoring, "application/x-www-form-urlencoded", []byte("Action=%zz&&=="))
	f.Add("", "/", "Credential=a/b/c/monitoring/e", "application/x-www-form-urlencoded; charset=utf-8", []byte("Action=PutMetricAlarm&AlarmNames.member.1=x;y"))
	f.Fuzz(func(t *testing.T, target, path, auth, contentType string, body []byte) {
		rt := awsapi.NewRouter()
		rt.Target("AmazonSQS", "CreateQueue", func(http.ResponseWriter, *http.Request) {})
		rt.REST("GET /2015-03-31/functions/{name}", func(_ http.ResponseWriter, r *http.Request) { _ = r.PathValue("name") })
		rt.Query("monitoring", "PutMetricAlarm", func(_ http.ResponseWriter, _ *http.Request, q awsapi.Query) {
			_ = awsapi.List(q.Form, "AlarmNames")
			_ = awsapi.Escape(q.Form.Get("AlarmName"))
		})
		r := &http.Request{
			Method: http.MethodPost, URL: &url.URL{Path: path}, Host: "localhost",
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)),
		}
		for k, v := range map[string]string{"X-Amz-Target": target, "Authorization": auth, "Content-Type": contentType} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		h := rt.Lookup(r)
		if rest, err := io.ReadAll(r.Body); err != nil || !bytes.Equal(rest, body) {
			t.Fatalf("the body was not left whole: %q (%v), sent %q", rest, err, body)
		}
		if h != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
	})
}
