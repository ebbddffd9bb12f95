package cloudwatch

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/uuid"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// CloudWatch speaks two protocols to its clients: smithy RPC v2 CBOR (the Go
// SDK) and the Query protocol (the Terraform provider). The operations the
// layer owns are written once, on Go structs whose field names are the API's
// member names; this file decodes a request of either protocol into such a
// struct and encodes the answer back in the same protocol.

// apiError is an error answer: AWS's code, an HTTP status, a message.
type apiError struct {
	code   string
	status int
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func invalid(format string, args ...any) *apiError {
	return &apiError{code: "InvalidParameterValue", status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// constraint is AWS's answer to a member outside its modelled constraint
// (ValidationError, "1 validation error detected: Value ... at ... failed
// to satisfy constraint: ...", as AWS's answers quote it).
func constraint(value, member, rule string) *apiError {
	return &apiError{code: "ValidationError", status: http.StatusBadRequest,
		msg: fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, rule)}
}

func missing(name string) *apiError {
	return &apiError{code: "MissingParameter", status: http.StatusBadRequest, msg: "The parameter " + name + " is required."}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{code: "ResourceNotFound", status: http.StatusNotFound, msg: fmt.Sprintf(format, args...)}
}

// notEmulated refuses a request the local AWS cannot answer as AWS would,
// rather than answering it wrongly (see the gap table in its README).
func notEmulated(what string) *apiError {
	return &apiError{code: "InvalidParameterValue", status: http.StatusBadRequest,
		msg: what + " is not emulated by the local AWS (internal/localaws/README.md lists what is)"}
}

// operation is one API operation: a fresh request struct, and what serves it.
type operation struct {
	request func() any
	serve   func(req any) (any, error)
}

func op[Req any, Resp any](serve func(*Req) (Resp, error)) operation {
	return operation{
		request: func() any { return new(Req) },
		serve:   func(req any) (any, error) { return serve(req.(*Req)) },
	}
}

// cborMode encodes timestamps as CBOR tag 1 (epoch seconds), as the RPC v2
// CBOR protocol requires.
var cborMode = func() cbor.EncMode {
	m, err := cbor.EncOptions{Time: cbor.TimeUnixDynamic, TimeTag: cbor.EncTagRequired}.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// serveCBOR serves an RPC v2 CBOR request: POST /service/{service}/operation/{op}.
func serveCBOR(o operation) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/cbor")
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("X-Amzn-Requestid", uuid.NewString())
		req := o.request()
		body, err := readBody(r)
		if err == nil && len(body) > 0 {
			err = cbor.Unmarshal(body, req)
		}
		var resp any
		if err == nil {
			resp, err = o.serve(req)
		}
		if err != nil {
			e := asAPIError(err)
			w.WriteHeader(e.status)
			out, _ := cborMode.Marshal(map[string]string{"__type": e.code, "message": e.msg})
			_, _ = w.Write(out)
			return
		}
		out, err := cborMode.Marshal(resp)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out) //nolint:gosec // a CBOR API response
	}
}

// serveQuery serves a Query-protocol request (a form POST to /).
func serveQuery(o operation) awsapi.QueryHandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request, q awsapi.Query) {
		action := q.Form.Get("Action")
		w.Header().Set("Content-Type", "text/xml")
		req := o.request()
		err := decodeForm(q.Form, "", reflect.ValueOf(req).Elem())
		var resp any
		if err == nil {
			resp, err = o.serve(req)
		}
		if err != nil {
			e := asAPIError(err)
			w.WriteHeader(e.status)
			_, _ = io.WriteString(w, `<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type><Code>`+
				e.code+`</Code><Message>`+awsapi.Escape(e.msg)+`</Message></Error><RequestId>`+uuid.NewString()+`</RequestId></ErrorResponse>`)
			return
		}
		var b strings.Builder
		b.WriteString(`<` + action + `Response xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><` + action + `Result>`)
		encodeXML(&b, reflect.ValueOf(resp))
		b.WriteString(`</` + action + `Result><ResponseMetadata><RequestId>` + uuid.NewString() + `</RequestId></ResponseMetadata></` + action + `Response>`)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, b.String()) //nolint:gosec // XML for an API client, every value escaped
	}
}

// readBody reads a request body; the SDK gzips PutMetricData bodies
// ("Content-Encoding: gzip", CloudWatch's request compression).
func readBody(r *http.Request) ([]byte, error) {
	body, err := awsapi.ReadBody(r)
	if err != nil || r.Header.Get("Content-Encoding") != "gzip" {
		return body, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, invalid("the gzip request body is unreadable: %v", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxRequest))
	if err != nil {
		return nil, invalid("the gzip request body is unreadable: %v", err)
	}
	return out, nil
}

// maxRequest bounds a decompressed request (PutMetricData allows 1 MB).
const maxRequest = 4 << 20

func asAPIError(err error) *apiError {
	if e, ok := err.(*apiError); ok { //nolint:errorlint // operations return *apiError unwrapped
		return e
	}
	return &apiError{code: "InvalidParameterValue", status: http.StatusBadRequest, msg: err.Error()}
}

var timeType = reflect.TypeFor[time.Time]()

// decodeForm fills v from Query-protocol form fields under prefix: scalars
// as Prefix.Name, lists as Prefix.Name.member.N, structures by field.
func decodeForm(form url.Values, prefix string, v reflect.Value) error {
	switch {
	case v.Type() == timeType:
		s := form.Get(prefix)
		if s == "" {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return invalid("%s: %q is not an ISO 8601 time", prefix, s)
		}
		v.Set(reflect.ValueOf(t))
		return nil
	case v.Kind() == reflect.Pointer:
		if !hasPrefix(form, prefix) {
			return nil
		}
		p := reflect.New(v.Type().Elem())
		if err := decodeForm(form, prefix, p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			name := v.Type().Field(i).Name
			if prefix != "" {
				name = prefix + "." + name
			}
			if err := decodeForm(form, name, v.Field(i)); err != nil {
				return err
			}
		}
		return nil
	case v.Kind() == reflect.Slice:
		for n := 1; hasPrefix(form, prefix+".member."+strconv.Itoa(n)); n++ {
			item := reflect.New(v.Type().Elem()).Elem()
			if err := decodeForm(form, prefix+".member."+strconv.Itoa(n), item); err != nil {
				return err
			}
			v.Set(reflect.Append(v, item))
		}
		return nil
	}
	if !form.Has(prefix) {
		return nil
	}
	s := form.Get(prefix)
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return invalid("%s: %q is not a boolean", prefix, s)
		}
		v.SetBool(b)
	case reflect.Int32, reflect.Int64, reflect.Int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return invalid("%s: %q is not an integer", prefix, s)
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return invalid("%s: %q is not a number", prefix, s)
		}
		v.SetFloat(f)
	default:
		return fmt.Errorf("decodeForm: unsupported %s", v.Type())
	}
	return nil
}

func hasPrefix(form url.Values, prefix string) bool {
	for k := range form {
		if k == prefix || strings.HasPrefix(k, prefix+".") {
			return true
		}
	}
	return false
}

// encodeXML writes v's fields as Query-protocol elements: nil pointers,
// nil slices and empty strings are left out, lists are member elements.
func encodeXML(b *strings.Builder, v reflect.Value) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || v.Type() == timeType {
		b.WriteString(scalarXML(v))
		return
	}
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		if (f.Kind() == reflect.Pointer || f.Kind() == reflect.Slice) && f.IsNil() || f.Kind() == reflect.String && f.Len() == 0 {
			continue
		}
		b.WriteString("<" + name + ">")
		if f.Kind() == reflect.Slice {
			for j := range f.Len() {
				b.WriteString("<member>")
				encodeXML(b, f.Index(j))
				b.WriteString("</member>")
			}
		} else {
			encodeXML(b, f)
		}
		b.WriteString("</" + name + ">")
	}
}

func scalarXML(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return awsapi.Escape(v.String())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int32, reflect.Int64, reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	case reflect.Struct: // time.Time
		return v.Interface().(time.Time).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return ""
}
