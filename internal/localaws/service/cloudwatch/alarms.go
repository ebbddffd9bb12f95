package cloudwatch

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// alarms fills what kumo leaves out of CloudWatch metric alarms in the Query
// protocol, the one the Terraform provider speaks: kumo's DescribeAlarms
// answer has no dimensions, actions, TreatMissingData, DatapointsToAlarm or
// Unit, and it keeps no alarm tags. Without them every plan after an apply
// would show changes. The layer keeps these parts of each PutMetricAlarm,
// adds them to kumo's DescribeAlarms answer and serves alarm tags itself.
type alarms struct {
	mu     sync.Mutex
	extras map[string]string            // alarm name -> XML elements kumo leaves out
	tags   map[string]map[string]string // alarm name -> tags
}

func newAlarms() *alarms {
	return &alarms{extras: map[string]string{}, tags: map[string]map[string]string{}}
}

// alarmListElements are the list-valued alarm fields kumo leaves out.
var alarmListElements = []string{"AlarmActions", "OKActions", "InsufficientDataActions"}

// alarmScalarElements are the scalar alarm fields kumo leaves out.
var alarmScalarElements = []string{"TreatMissingData", "DatapointsToAlarm", "Unit"}

// alarmCall lets kumo run an alarm operation, then keeps, forgets or adds
// the parts kumo leaves out.
func (s *Service) alarmCall(w http.ResponseWriter, r *http.Request, q awsapi.Query) {
	form := q.Form
	status, h, out, ok := s.kumo.Exchange(w, r, q.Body)
	if !ok {
		return
	}
	if status < 300 {
		a := s.alarms
		a.mu.Lock()
		switch form.Get("Action") {
		case "PutMetricAlarm":
			name := form.Get("AlarmName")
			a.extras[name] = alarmExtras(form)
			if a.tags[name] == nil {
				// As on AWS, tags given to PutMetricAlarm apply when it creates the alarm.
				a.tags[name] = awsapi.Members(form, "Tags", "Key", "Value")
			}
		case "DeleteAlarms":
			for _, name := range awsapi.List(form, "AlarmNames") {
				delete(a.extras, name)
				delete(a.tags, name)
			}
		case "DescribeAlarms":
			out = a.complete(out)
		}
		a.mu.Unlock()
	}
	h.Del("Content-Length")
	awsapi.Relay(w, status, h, out)
}

// tags serves the tags of alarms; other CloudWatch resources' tags are kumo's.
func (s *Service) tags(w http.ResponseWriter, r *http.Request, q awsapi.Query) {
	arn := q.Form.Get("ResourceARN")
	if !strings.Contains(arn, ":cloudwatch:") || !strings.Contains(arn, ":alarm:") {
		s.kumo.ServeHTTP(w, r)
		return
	}
	s.alarms.tagCall(w, q.Form.Get("Action"), arn, q.Form)
}

// complete adds each alarm's kept elements to its member of a DescribeAlarms
// answer, unless kumo wrote the element itself.
func (a *alarms) complete(out []byte) []byte {
	for name, extra := range a.extras {
		needle := []byte("<AlarmName>" + awsapi.Escape(name) + "</AlarmName>")
		at := bytes.Index(out, needle)
		if at < 0 {
			continue
		}
		end := at + bytes.Index(out[at:], []byte("</member>"))
		if end < at {
			continue
		}
		var add strings.Builder
		for _, el := range splitElements(extra) {
			if !bytes.Contains(out[at:end], []byte("<"+el.name+">")) {
				add.WriteString(el.xml)
			}
		}
		insert := at + len(needle)
		out = append(out[:insert:insert], append([]byte(add.String()), out[insert:]...)...)
	}
	return out
}

// tagCall serves alarm tags.
func (a *alarms) tagCall(w http.ResponseWriter, action, arn string, form url.Values) {
	_, name, _ := strings.Cut(arn, ":alarm:")
	a.mu.Lock()
	defer a.mu.Unlock()
	tags := a.tags[name]
	if tags == nil {
		tags = map[string]string{}
		a.tags[name] = tags
	}
	var result strings.Builder
	switch action {
	case "TagResource":
		for k, v := range awsapi.Members(form, "Tags", "Key", "Value") {
			tags[k] = v
		}
	case "UntagResource":
		for _, k := range awsapi.List(form, "TagKeys") {
			delete(tags, k)
		}
	default:
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		result.WriteString("<" + action + "Result><Tags>")
		for _, k := range keys {
			result.WriteString("<member><Key>" + awsapi.Escape(k) + "</Key><Value>" + awsapi.Escape(tags[k]) + "</Value></member>")
		}
		result.WriteString("</Tags></" + action + "Result>")
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `<`+action+`Response xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">`+result.String()+ //nolint:gosec // XML for an API client; action is one of the three routeAlarms lets through, values are escaped
		`<ResponseMetadata><RequestId>`+uuid.NewString()+`</RequestId></ResponseMetadata></`+action+`Response>`)
}

// alarmExtras renders the parts of a PutMetricAlarm request kumo leaves out
// as DescribeAlarms member elements.
func alarmExtras(form url.Values) string {
	var b strings.Builder
	if dims := awsapi.Members(form, "Dimensions", "Name", "Value"); len(dims) > 0 {
		names := make([]string, 0, len(dims))
		for n := range dims {
			names = append(names, n)
		}
		sort.Strings(names)
		b.WriteString("<Dimensions>")
		for _, n := range names {
			b.WriteString("<member><Name>" + awsapi.Escape(n) + "</Name><Value>" + awsapi.Escape(dims[n]) + "</Value></member>")
		}
		b.WriteString("</Dimensions>")
	}
	for _, el := range alarmListElements {
		if vs := awsapi.List(form, el); len(vs) > 0 {
			b.WriteString("<" + el + ">")
			for _, v := range vs {
				b.WriteString("<member>" + awsapi.Escape(v) + "</member>")
			}
			b.WriteString("</" + el + ">")
		}
	}
	for _, el := range alarmScalarElements {
		if v := form.Get(el); v != "" {
			b.WriteString("<" + el + ">" + awsapi.Escape(v) + "</" + el + ">")
		}
	}
	return b.String()
}

type element struct{ name, xml string }

// splitElements splits a run of sibling elements written by alarmExtras.
func splitElements(s string) []element {
	var out []element
	for s != "" {
		name := s[1:strings.IndexByte(s, '>')]
		closing := "</" + name + ">"
		end := strings.Index(s, closing) + len(closing)
		out = append(out, element{name: name, xml: s[:end]})
		s = s[end:]
	}
	return out
}
