package cloudwatch

import (
	"io"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/uuid"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// dashboards implements CloudWatch's dashboard operations, which kumo lacks,
// in the two protocols clients use: smithy RPC v2 CBOR (the Go SDK) and the
// Query protocol (the Terraform provider).
type dashboards struct {
	region string
	mu     sync.Mutex
	boards map[string]dashboard
}

type dashboard struct {
	body     string
	modified time.Time
}

const cloudWatchService = "GraniteServiceVersion20100801"

var dashboardOps = []string{"PutDashboard", "GetDashboard", "DeleteDashboards", "ListDashboards"}

func newDashboards(region string) *dashboards {
	return &dashboards{region: region, boards: map[string]dashboard{}}
}

func (d *dashboards) arn(name string) string {
	return "arn:aws:cloudwatch::" + awsapi.Account + ":dashboard/" + name
}

type dashboardRequest struct {
	DashboardName   string   `cbor:"DashboardName"`
	DashboardBody   string   `cbor:"DashboardBody"`
	DashboardNames  []string `cbor:"DashboardNames"`
	DashboardPrefix string   `cbor:"DashboardNamePrefix"`
}

// do runs op and returns the response fields, or an error code and message.
func (d *dashboards) do(op string, req dashboardRequest) (map[string]any, string, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch op {
	case "PutDashboard":
		if req.DashboardName == "" || req.DashboardBody == "" {
			return nil, "InvalidParameterInput", "DashboardName and DashboardBody are required"
		}
		d.boards[req.DashboardName] = dashboard{body: req.DashboardBody, modified: time.Now()}
		return map[string]any{"DashboardValidationMessages": []any{}}, "", ""
	case "GetDashboard":
		b, ok := d.boards[req.DashboardName]
		if !ok {
			return nil, "ResourceNotFound", "Dashboard " + req.DashboardName + " does not exist"
		}
		return map[string]any{"DashboardName": req.DashboardName, "DashboardBody": b.body, "DashboardArn": d.arn(req.DashboardName)}, "", ""
	case "DeleteDashboards":
		for _, n := range req.DashboardNames {
			if _, ok := d.boards[n]; !ok {
				return nil, "ResourceNotFound", "Dashboard " + n + " does not exist"
			}
		}
		for _, n := range req.DashboardNames {
			delete(d.boards, n)
		}
		return map[string]any{}, "", ""
	default: // ListDashboards
		names := make([]string, 0, len(d.boards))
		for n := range d.boards {
			if strings.HasPrefix(n, req.DashboardPrefix) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		entries := make([]map[string]any, 0, len(names))
		for _, n := range names {
			entries = append(entries, map[string]any{
				"DashboardName": n, "DashboardArn": d.arn(n), "LastModified": d.boards[n].modified, "Size": len(d.boards[n].body),
			})
		}
		return map[string]any{"DashboardEntries": entries}, "", ""
	}
}

func (d *dashboards) cbor(w http.ResponseWriter, r *http.Request) {
	op := path.Base(r.URL.Path)
	var req dashboardRequest
	body, _ := awsapi.ReadBody(r)
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("X-Amzn-Requestid", uuid.NewString())
	if len(body) > 0 {
		if err := cbor.Unmarshal(body, &req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			out, _ := cbor.Marshal(map[string]string{"__type": "InvalidParameterInput", "message": err.Error()})
			_, _ = w.Write(out)
			return
		}
	}
	res, code, msg := d.do(op, req)
	if code != "" {
		w.WriteHeader(map[bool]int{true: http.StatusNotFound, false: http.StatusBadRequest}[code == "ResourceNotFound"])
		out, _ := cbor.Marshal(map[string]string{"__type": code, "message": msg})
		_, _ = w.Write(out)
		return
	}
	out, err := cbor.Marshal(res)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out) //nolint:gosec // a CBOR API response
}

func (d *dashboards) query(w http.ResponseWriter, _ *http.Request, q awsapi.Query) {
	form := q.Form
	op := form.Get("Action")
	req := dashboardRequest{DashboardName: form.Get("DashboardName"), DashboardBody: form.Get("DashboardBody"),
		DashboardPrefix: form.Get("DashboardNamePrefix"), DashboardNames: awsapi.List(form, "DashboardNames")}
	res, code, msg := d.do(op, req)
	w.Header().Set("Content-Type", "text/xml")
	var b strings.Builder
	if code != "" {
		w.WriteHeader(map[bool]int{true: http.StatusNotFound, false: http.StatusBadRequest}[code == "ResourceNotFound"])
		b.WriteString(`<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type><Code>` + code + `</Code><Message>` + awsapi.Escape(msg) + `</Message></Error><RequestId>` + uuid.NewString() + `</RequestId></ErrorResponse>`)
		_, _ = io.WriteString(w, b.String())
		return
	}
	b.WriteString(`<` + op + `Response xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><` + op + `Result>`)
	switch op {
	case "PutDashboard":
		b.WriteString(`<DashboardValidationMessages/>`)
	case "GetDashboard":
		for _, k := range []string{"DashboardArn", "DashboardBody", "DashboardName"} {
			b.WriteString("<" + k + ">" + awsapi.Escape(res[k].(string)) + "</" + k + ">")
		}
	case "ListDashboards":
		b.WriteString(`<DashboardEntries>`)
		for _, e := range res["DashboardEntries"].([]map[string]any) {
			b.WriteString(`<member><DashboardName>` + awsapi.Escape(e["DashboardName"].(string)) + `</DashboardName><DashboardArn>` + e["DashboardArn"].(string) + `</DashboardArn><LastModified>` +
				e["LastModified"].(time.Time).UTC().Format(time.RFC3339) + `</LastModified><Size>` + strconv.Itoa(e["Size"].(int)) + `</Size></member>`)
		}
		b.WriteString(`</DashboardEntries>`)
	}
	b.WriteString(`</` + op + `Result><ResponseMetadata><RequestId>` + uuid.NewString() + `</RequestId></ResponseMetadata></` + op + `Response>`)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, b.String())
}
