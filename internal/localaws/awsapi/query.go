package awsapi

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Helpers for AWS's Query protocol (form-encoded requests, XML answers),
// which the Terraform provider speaks to CloudWatch.

// QueryForm reads a Query-protocol request (a form POST to /) and leaves
// its body readable again for whoever serves it; ok is false for any other
// request.
func QueryForm(r *http.Request) (url.Values, []byte, bool) {
	if r.Method != http.MethodPost || r.URL.Path != "/" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil, nil, false
	}
	body, err := ReadBody(r)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil, nil, false
	}
	form, err := url.ParseQuery(string(body))
	return form, body, err == nil
}

// List reads a Query-protocol list: Name.member.1, Name.member.2, ...
func List(form url.Values, name string) []string {
	var out []string
	for i := 1; form.Has(name + ".member." + strconv.Itoa(i)); i++ {
		out = append(out, form.Get(name+".member."+strconv.Itoa(i)))
	}
	return out
}

// Escape escapes s for XML character data.
func Escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
