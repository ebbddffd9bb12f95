// Package logs fills kumo's CloudWatch Logs gaps. kumo does not know
// PutMetricFilter, so a root that alarms on error log lines cannot apply:
// the layer keeps metric filters per log group and applies them to the
// functions' log lines, publishing the metrics they define. kumo gives a
// log group any KMS key: the layer refuses one CloudWatch Logs may not use.
package logs

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// MetricRecorder takes the metrics the filters publish.
type MetricRecorder interface {
	Record(namespace, name string, dims map[string]string, value float64, unit string)
}

// Service keeps metric filters and applies them to log events.
type Service struct {
	kumo    *upstream.Kumo
	metrics MetricRecorder
	keys    KeyJudge // nil: keys are not judged
	log     *zap.Logger

	mu      sync.Mutex
	filters map[string]map[string]*metricFilter // log group -> filter name -> filter
}

type transformation struct {
	MetricName      string            `json:"metricName"`
	MetricNamespace string            `json:"metricNamespace"`
	MetricValue     string            `json:"metricValue"`
	DefaultValue    *float64          `json:"defaultValue,omitempty"`
	Dimensions      map[string]string `json:"dimensions,omitempty"`
	Unit            string            `json:"unit,omitempty"`
}

type metricFilter struct {
	FilterName            string           `json:"filterName"`
	FilterPattern         string           `json:"filterPattern"`
	MetricTransformations []transformation `json:"metricTransformations"`
	CreationTime          int64            `json:"creationTime"`
	LogGroupName          string           `json:"logGroupName"`

	pattern pattern
}

// New returns the CloudWatch Logs gap filler.
func New(k *upstream.Kumo, metrics MetricRecorder, keys KeyJudge, log *zap.Logger) *Service {
	return &Service{kumo: k, metrics: metrics, keys: keys, log: log, filters: map[string]map[string]*metricFilter{}}
}

// Register adds the metric filter operations to r.
func (s *Service) Register(r *awsapi.Router) {
	const target = "Logs_20140328"
	r.Target(target, "PutMetricFilter", s.put)
	r.Target(target, "DescribeMetricFilters", s.describe)
	r.Target(target, "DeleteMetricFilter", s.remove)
	r.Target(target, "DeleteLogGroup", s.deleteLogGroup)
	r.Target(target, "PutRetentionPolicy", s.putRetentionPolicy)
	r.Target(target, "CreateLogGroup", s.withKey)
	r.Target(target, "AssociateKmsKey", s.withKey)
}

type filterRequest struct {
	LogGroupName          string           `json:"logGroupName"`
	FilterName            string           `json:"filterName"`
	FilterPattern         *string          `json:"filterPattern"`
	MetricTransformations []transformation `json:"metricTransformations"`
	FilterNamePrefix      string           `json:"filterNamePrefix"`
	MetricName            string           `json:"metricName"`
	MetricNamespace       string           `json:"metricNamespace"`
}

func read(w http.ResponseWriter, r *http.Request) (filterRequest, bool) {
	var req filterRequest
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return req, false
	}
	if err := json.Unmarshal(body, &req); err != nil {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterException", "request body is not JSON: "+err.Error())
		return req, false
	}
	return req, true
}

// logGroupExists asks kumo, which owns log groups.
func (s *Service) logGroupExists(ctx context.Context, name string) (bool, error) {
	out, err := s.kumo.Logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: &name})
	if err != nil {
		return false, err //nolint:wrapcheck // reported as is
	}
	for _, g := range out.LogGroups {
		if g.LogGroupName != nil && *g.LogGroupName == name {
			return true, nil
		}
	}
	return false, nil
}

// put serves PutMetricFilter with its documented constraints: the log group
// must exist, exactly one transformation, a value that is a number or a
// $.field, no default value together with dimensions, at most 3 dimensions.
func (s *Service) put(w http.ResponseWriter, r *http.Request) {
	req, ok := read(w, r)
	if !ok {
		return
	}
	bad := func(msg string) { awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterException", msg) }
	switch {
	case req.LogGroupName == "" || req.FilterName == "" || req.FilterPattern == nil:
		bad("logGroupName, filterName and filterPattern are required")
		return
	case len(req.MetricTransformations) != 1:
		bad("metricTransformations must hold exactly one transformation")
		return
	}
	tr := req.MetricTransformations[0]
	switch {
	case tr.MetricName == "" || tr.MetricNamespace == "" || tr.MetricValue == "":
		bad("metricName, metricNamespace and metricValue are required")
		return
	case tr.DefaultValue != nil && len(tr.Dimensions) > 0:
		bad("a metric transformation with dimensions cannot have a default value")
		return
	case len(tr.Dimensions) > 3:
		bad("a metric transformation can have at most 3 dimensions")
		return
	}
	if _, err := strconv.ParseFloat(tr.MetricValue, 64); err != nil && !strings.HasPrefix(tr.MetricValue, "$.") {
		bad("metricValue must be a number or a $.field reference: " + tr.MetricValue)
		return
	}
	p, err := parsePattern(*req.FilterPattern)
	if err != nil {
		bad(err.Error())
		return
	}
	exists, err := s.logGroupExists(r.Context(), req.LogGroupName)
	if err != nil {
		awsapi.WriteError(w, http.StatusInternalServerError, "ServiceUnavailableException", err.Error())
		return
	}
	if !exists {
		awsapi.WriteError(w, http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist.")
		return
	}
	f := &metricFilter{FilterName: req.FilterName, FilterPattern: *req.FilterPattern, MetricTransformations: req.MetricTransformations,
		CreationTime: time.Now().UnixMilli(), LogGroupName: req.LogGroupName, pattern: p}
	s.mu.Lock()
	defer s.mu.Unlock()
	group := s.filters[req.LogGroupName]
	if group == nil {
		group = map[string]*metricFilter{}
		s.filters[req.LogGroupName] = group
	}
	// "You can have up to 100 metric filters per log group."
	if _, replace := group[req.FilterName]; !replace && len(group) >= 100 {
		awsapi.WriteError(w, http.StatusBadRequest, "LimitExceededException", "Resource limit exceeded.")
		return
	}
	group[req.FilterName] = f
	awsapi.WriteJSON(w, http.StatusOK, map[string]any{})
}

func (s *Service) describe(w http.ResponseWriter, r *http.Request) {
	req, ok := read(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	var out []*metricFilter
	for group, filters := range s.filters {
		if req.LogGroupName != "" && group != req.LogGroupName {
			continue
		}
		for name, f := range filters {
			tr := f.MetricTransformations[0]
			if strings.HasPrefix(name, req.FilterNamePrefix) && (req.MetricName == "" || tr.MetricName == req.MetricName) &&
				(req.MetricNamespace == "" || tr.MetricNamespace == req.MetricNamespace) {
				out = append(out, f)
			}
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		return out[i].LogGroupName+"\x00"+out[i].FilterName < out[j].LogGroupName+"\x00"+out[j].FilterName
	})
	awsapi.WriteJSON(w, http.StatusOK, map[string]any{"metricFilters": append([]*metricFilter{}, out...)})
}

func (s *Service) remove(w http.ResponseWriter, r *http.Request) {
	req, ok := read(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.filters[req.LogGroupName][req.FilterName]; !ok {
		awsapi.WriteError(w, http.StatusBadRequest, "ResourceNotFoundException", "The specified metric filter does not exist.")
		return
	}
	delete(s.filters[req.LogGroupName], req.FilterName)
	awsapi.WriteJSON(w, http.StatusOK, map[string]any{})
}

// deleteLogGroup lets kumo delete the group, then forgets its filters, as
// deleting a log group deletes its metric filters.
func (s *Service) deleteLogGroup(w http.ResponseWriter, r *http.Request) {
	body, status, h, out, ok := s.kumo.ReadAndExchange(w, r)
	if !ok {
		return
	}
	var req filterRequest
	if status < 300 && json.Unmarshal(body, &req) == nil {
		s.mu.Lock()
		delete(s.filters, req.LogGroupName)
		s.mu.Unlock()
	}
	awsapi.Relay(w, status, h, out)
}

// Line applies the log group's metric filters to one log event: a match
// publishes the transformation's value (a number, or the event's $.field);
// a miss publishes the default value when there is one.
func (s *Service) Line(group string, event []byte) {
	s.mu.Lock()
	filters := make([]*metricFilter, 0, len(s.filters[group]))
	for _, f := range s.filters[group] {
		filters = append(filters, f)
	}
	s.mu.Unlock()
	if len(filters) == 0 {
		return
	}
	line := string(event)
	var doc any
	parsed := false
	for _, f := range filters {
		tr := f.MetricTransformations[0]
		if !f.pattern.match(line) {
			if tr.DefaultValue != nil {
				s.metrics.Record(tr.MetricNamespace, tr.MetricName, nil, *tr.DefaultValue, unitOf(tr))
			}
			continue
		}
		if !parsed {
			_ = json.Unmarshal(event, &doc)
			parsed = true
		}
		value, ok := valueOf(tr.MetricValue, doc)
		if !ok {
			continue // the event lacks the field: no datapoint
		}
		dims := map[string]string{}
		for name, ref := range tr.Dimensions {
			v, ok := lookup(doc, strings.Split(strings.TrimPrefix(ref, "$."), "."))
			if !ok {
				dims = nil
				break
			}
			dims[name] = strings.Trim(strings.TrimSpace(jsonText(v)), `"`)
		}
		if dims == nil {
			continue // "if a dimension's field is missing, the metric is not published"
		}
		s.metrics.Record(tr.MetricNamespace, tr.MetricName, dims, value, unitOf(tr))
	}
}

func unitOf(tr transformation) string {
	if tr.Unit == "" {
		return "None"
	}
	return tr.Unit
}

func valueOf(ref string, doc any) (float64, bool) {
	if f, err := strconv.ParseFloat(ref, 64); err == nil {
		return f, true
	}
	v, ok := lookup(doc, strings.Split(strings.TrimPrefix(ref, "$."), "."))
	switch x := v.(type) {
	case float64:
		return x, ok
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, ok && err == nil
	}
	return 0, false
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
