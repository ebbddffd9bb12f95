package localaws

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Helpers for AWS's Query protocol (form-encoded requests, XML answers),
// which the Terraform provider speaks to CloudWatch.

// queryForm reads a Query-protocol request (a form POST to /) and leaves
// its body readable again for whoever serves it; ok is false for any other
// request.
func queryForm(r *http.Request) (url.Values, []byte, bool) {
	if r.Method != http.MethodPost || r.URL.Path != "/" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil, nil, false
	}
	body, err := readBody(r)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil, nil, false
	}
	form, err := url.ParseQuery(string(body))
	return form, body, err == nil
}

// list reads a Query-protocol list: Name.member.1, Name.member.2, ...
func list(form url.Values, name string) []string {
	var out []string
	for i := 1; form.Has(name + ".member." + itoa(i)); i++ {
		out = append(out, form.Get(name+".member."+itoa(i)))
	}
	return out
}

// members reads a Query-protocol list of key/value structures into a map.
func members(form url.Values, name, key, value string) map[string]string {
	out := map[string]string{}
	for i := 1; form.Has(name + ".member." + itoa(i) + "." + key); i++ {
		p := name + ".member." + itoa(i) + "."
		out[form.Get(p+key)] = form.Get(p + value)
	}
	return out
}

// escape escapes s for XML character data.
func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
