package cloudwatch

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// alarms is the metric alarm store: each alarm's configuration as its last
// PutMetricAlarm set it, its state, its tags and its history.
type alarms struct {
	mu      sync.Mutex
	byName  map[string]*metricAlarm
	tags    map[string]map[string]string // alarm name -> tags
	history []historyItem
}

func newAlarms() *alarms {
	return &alarms{byName: map[string]*metricAlarm{}, tags: map[string]map[string]string{}}
}

// historyLimit bounds the history kept (CloudWatch keeps 30 days of it).
const historyLimit = 10000

// metricAlarm is a metric alarm as DescribeAlarms returns it.
type metricAlarm struct {
	AlarmName                          string
	AlarmArn                           string
	AlarmDescription                   string `cbor:",omitempty"`
	AlarmConfigurationUpdatedTimestamp time.Time
	ActionsEnabled                     bool
	OKActions                          []string `cbor:",omitempty"`
	AlarmActions                       []string `cbor:",omitempty"`
	InsufficientDataActions            []string `cbor:",omitempty"`
	StateValue                         string
	StateReason                        string
	StateReasonData                    string `cbor:",omitempty"`
	StateUpdatedTimestamp              time.Time
	StateTransitionedTimestamp         time.Time
	MetricName                         string
	Namespace                          string
	Statistic                          string
	Dimensions                         []Dimension `cbor:",omitempty"`
	Period                             int32
	Unit                               string `cbor:",omitempty"`
	EvaluationPeriods                  int32
	DatapointsToAlarm                  *int32 `cbor:",omitempty"`
	Threshold                          float64
	ComparisonOperator                 string
	TreatMissingData                   string `cbor:",omitempty"`
}

func (a *metricAlarm) rule() rule {
	r := rule{threshold: a.Threshold, comparison: a.ComparisonOperator, periods: int(a.EvaluationPeriods),
		missing: a.TreatMissingData, statistic: a.Statistic, period: a.Period}
	if a.DatapointsToAlarm != nil {
		r.toAlarm = int(*a.DatapointsToAlarm)
	}
	if r.missing == "" {
		r.missing = "missing" // "If this parameter is omitted, the default behavior of missing is used."
	}
	return r
}

// Tag is a resource tag.
type Tag struct {
	Key   string
	Value string
}

type putMetricAlarmRequest struct {
	AlarmName               string
	AlarmDescription        string
	ActionsEnabled          *bool
	OKActions               []string
	AlarmActions            []string
	InsufficientDataActions []string
	MetricName              string
	Namespace               string
	Statistic               string
	ExtendedStatistic       string
	Dimensions              []Dimension
	Period                  int32
	Unit                    string
	EvaluationPeriods       int32
	DatapointsToAlarm       *int32
	Threshold               *float64
	ComparisonOperator      string
	TreatMissingData        string
	Metrics                 []struct{ Id string } //nolint:revive // the API's member name
	ThresholdMetricId       string                //nolint:revive // the API's member name
	Tags                    []Tag
}

// maxActions is the most actions an alarm state may have.
const maxActions = 5

// validate applies PutMetricAlarm's documented constraints; what the layer
// does not evaluate (metric math, percentiles, anomaly detection) it refuses.
func (req *putMetricAlarmRequest) validate() error {
	switch {
	case req.AlarmName == "":
		return missing("AlarmName")
	// "Minimum length of 1. Maximum length of 255" (PutMetricAlarm, AlarmName).
	case len(req.AlarmName) > 255:
		return constraint(req.AlarmName, "alarmName", "Member must have length less than or equal to 255")
	// "Maximum number of 5 items" (PutMetricAlarm, AlarmActions, OKActions, InsufficientDataActions).
	case len(req.AlarmActions) > maxActions:
		return constraint(fmt.Sprint(req.AlarmActions), "alarmActions", "Member must have length less than or equal to 5")
	case len(req.OKActions) > maxActions:
		return constraint(fmt.Sprint(req.OKActions), "oKActions", "Member must have length less than or equal to 5")
	case len(req.InsufficientDataActions) > maxActions:
		return constraint(fmt.Sprint(req.InsufficientDataActions), "insufficientDataActions", "Member must have length less than or equal to 5")
	case len(req.Metrics) > 0 || req.ThresholdMetricId != "":
		return notEmulated("A metric math or anomaly detection alarm (Metrics, ThresholdMetricId)")
	case req.ExtendedStatistic != "":
		return notEmulated("A percentile alarm (ExtendedStatistic)")
	case req.MetricName == "" || req.Namespace == "":
		return missing("MetricName and Namespace")
	case req.Statistic == "":
		return missing("Statistic")
	case !isStatistic(req.Statistic):
		return invalid("The value %s for parameter Statistic is invalid.", req.Statistic)
	case req.EvaluationPeriods < 1:
		return invalid("The value %d for parameter EvaluationPeriods must be 1 or more.", req.EvaluationPeriods)
	case req.DatapointsToAlarm != nil && (*req.DatapointsToAlarm < 1 || *req.DatapointsToAlarm > req.EvaluationPeriods):
		return invalid("DatapointsToAlarm must be between 1 and EvaluationPeriods.")
	// "Valid values are 10, 20, 30, and any multiple of 60" (PutMetricAlarm, Period).
	case req.Period != 10 && req.Period != 20 && req.Period != 30 && (req.Period < 60 || req.Period%60 != 0):
		return invalid("The value %d for parameter Period is invalid: use 10, 20, 30 or a multiple of 60.", req.Period)
	// "Period * EvaluationPeriods can't be more than 604,800 seconds. For
	// alarms with a period of less than one hour (3,600 seconds), [it]
	// can't be longer than one day (86,400 seconds)" (PutMetricAlarm, Period).
	case window(req) > 604800 || req.Period < 3600 && window(req) > 86400:
		return invalid("The alarm's window, Period * EvaluationPeriods (%d s), is too long: at most 86400 s for periods under an hour, 604800 s otherwise.", window(req))
	case req.Threshold == nil:
		return missing("Threshold")
	case req.TreatMissingData != "" && !missingTreatments[req.TreatMissingData]:
		return invalid("The value %s for parameter TreatMissingData is invalid.", req.TreatMissingData)
	}
	if _, ok := comparisons[req.ComparisonOperator]; !ok {
		if strings.Contains(req.ComparisonOperator, "Lower") || strings.Contains(req.ComparisonOperator, "Upper") {
			return notEmulated("An anomaly detection comparison (" + req.ComparisonOperator + ")")
		}
		return invalid("The value %s for parameter ComparisonOperator is invalid.", req.ComparisonOperator)
	}
	return nil
}

// window is the time an alarm evaluates: Period * EvaluationPeriods.
func window(req *putMetricAlarmRequest) int64 {
	return int64(req.Period) * int64(req.EvaluationPeriods)
}

func (s *Service) alarmARN(name string) string {
	return "arn:aws:cloudwatch:" + s.region + ":" + account + ":alarm:" + name
}

func (s *Service) putMetricAlarm(req *putMetricAlarmRequest) (empty, error) {
	if err := req.validate(); err != nil {
		return empty{}, err
	}
	now := s.clock.Now()
	a := s.alarms
	a.mu.Lock()
	defer a.mu.Unlock()
	alarm := &metricAlarm{
		AlarmName: req.AlarmName, AlarmArn: s.alarmARN(req.AlarmName), AlarmDescription: req.AlarmDescription,
		AlarmConfigurationUpdatedTimestamp: now, ActionsEnabled: req.ActionsEnabled == nil || *req.ActionsEnabled,
		OKActions: req.OKActions, AlarmActions: req.AlarmActions, InsufficientDataActions: req.InsufficientDataActions,
		MetricName: req.MetricName, Namespace: req.Namespace, Statistic: req.Statistic, Dimensions: req.Dimensions,
		Period: req.Period, Unit: req.Unit, EvaluationPeriods: req.EvaluationPeriods, DatapointsToAlarm: req.DatapointsToAlarm,
		Threshold: *req.Threshold, ComparisonOperator: req.ComparisonOperator, TreatMissingData: req.TreatMissingData,
	}
	summary := `Alarm "` + req.AlarmName + `" updated`
	if old, ok := a.byName[req.AlarmName]; ok {
		// "If you are updating an existing alarm, its state is left unchanged,
		// but the update completely overwrites the previous configuration."
		alarm.StateValue, alarm.StateReason, alarm.StateReasonData = old.StateValue, old.StateReason, old.StateReasonData
		alarm.StateUpdatedTimestamp, alarm.StateTransitionedTimestamp = old.StateUpdatedTimestamp, old.StateTransitionedTimestamp
	} else {
		// "When this operation creates an alarm, the alarm state is immediately
		// set to INSUFFICIENT_DATA." Tags apply only on creation.
		alarm.StateValue, alarm.StateReason = stateInsufficient, "Unchecked: Initial alarm creation"
		alarm.StateUpdatedTimestamp, alarm.StateTransitionedTimestamp = now, now
		summary = `Alarm "` + req.AlarmName + `" created`
		tags := map[string]string{}
		for _, t := range req.Tags {
			tags[t.Key] = t.Value
		}
		a.tags[req.AlarmName] = tags
	}
	a.byName[req.AlarmName] = alarm
	a.record(historyItem{AlarmName: req.AlarmName, Timestamp: now, HistoryItemType: "ConfigurationUpdate", HistorySummary: summary,
		HistoryData: `{"type":"` + map[bool]string{true: "Create", false: "Update"}[strings.HasSuffix(summary, "created")] + `"}`})
	return empty{}, nil
}

type alarmNamesRequest struct {
	AlarmNames []string
}

func (s *Service) deleteAlarms(req *alarmNamesRequest) (empty, error) {
	a := s.alarms
	a.mu.Lock()
	defer a.mu.Unlock()
	// "If you specify an incorrect alarm name or make any other error in the
	// operation, no alarms are deleted."
	for _, name := range req.AlarmNames {
		if _, ok := a.byName[name]; !ok {
			return empty{}, notFound("Alarm %s does not exist", name)
		}
	}
	for _, name := range req.AlarmNames {
		delete(a.byName, name)
		delete(a.tags, name)
	}
	return empty{}, nil
}

func (s *Service) setAlarmActions(enabled bool) func(*alarmNamesRequest) (empty, error) {
	return func(req *alarmNamesRequest) (empty, error) {
		a := s.alarms
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, name := range req.AlarmNames {
			if alarm, ok := a.byName[name]; ok {
				alarm.ActionsEnabled = enabled
			}
		}
		return empty{}, nil
	}
}

type describeAlarmsRequest struct {
	AlarmNames      []string
	AlarmNamePrefix string
	AlarmTypes      []string
	ActionPrefix    string
	StateValue      string
	MaxRecords      int32
	NextToken       string
}

type describeAlarmsResponse struct {
	MetricAlarms    []metricAlarm
	CompositeAlarms []struct{}
	NextToken       string `cbor:",omitempty"`
}

func (s *Service) describeAlarms(req *describeAlarmsRequest) (describeAlarmsResponse, error) {
	out := describeAlarmsResponse{MetricAlarms: []metricAlarm{}, CompositeAlarms: []struct{}{}}
	if len(req.AlarmNames) > 0 && req.AlarmNamePrefix != "" {
		return out, &apiError{code: "InvalidParameterCombination", status: 400, msg: "AlarmNames and AlarmNamePrefix cannot be used together."}
	}
	if len(req.AlarmTypes) > 0 && !contains(req.AlarmTypes, "MetricAlarm") {
		return out, nil // composite alarms are not emulated, so there are none
	}
	limit := int(req.MaxRecords)
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	a := s.alarms
	a.mu.Lock()
	defer a.mu.Unlock()
	names := make([]string, 0, len(a.byName))
	for name, alarm := range a.byName {
		if len(req.AlarmNames) > 0 && !contains(req.AlarmNames, name) || !strings.HasPrefix(name, req.AlarmNamePrefix) ||
			req.StateValue != "" && alarm.StateValue != req.StateValue || req.ActionPrefix != "" && !hasActionPrefix(alarm, req.ActionPrefix) ||
			req.NextToken != "" && name <= req.NextToken {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) > limit {
		names = names[:limit]
		out.NextToken = names[limit-1]
	}
	for _, name := range names {
		out.MetricAlarms = append(out.MetricAlarms, *a.byName[name])
	}
	return out, nil
}

func hasActionPrefix(a *metricAlarm, prefix string) bool {
	for _, list := range [][]string{a.AlarmActions, a.OKActions, a.InsufficientDataActions} {
		for _, action := range list {
			if strings.HasPrefix(action, prefix) {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

type setAlarmStateRequest struct {
	AlarmName       string
	StateValue      string
	StateReason     string
	StateReasonData string
}

// setAlarmState honours SetAlarmState: "When the updated state differs from
// the previous value, the action configured for the appropriate state is
// invoked"; the next evaluation sets the state the metric calls for.
func (s *Service) setAlarmState(req *setAlarmStateRequest) (empty, error) {
	switch {
	case req.AlarmName == "" || req.StateReason == "":
		return empty{}, missing("AlarmName and StateReason")
	case req.StateValue != stateOK && req.StateValue != stateAlarm && req.StateValue != stateInsufficient:
		return empty{}, invalid("The value %s for parameter StateValue is invalid.", req.StateValue)
	}
	if !s.transition(req.AlarmName, outcome{state: req.StateValue, reason: req.StateReason, data: req.StateReasonData}, s.clock.Now(), true) {
		return empty{}, notFound("Alarm %s does not exist", req.AlarmName)
	}
	return empty{}, nil
}

type historyItem struct {
	AlarmName       string
	AlarmType       string
	Timestamp       time.Time
	HistoryItemType string
	HistorySummary  string
	HistoryData     string
}

// record adds a history item; the caller holds a.mu.
func (a *alarms) record(item historyItem) {
	item.AlarmType = "MetricAlarm"
	a.history = append(a.history, item)
	if len(a.history) > historyLimit {
		a.history = a.history[len(a.history)-historyLimit:]
	}
}

type describeAlarmHistoryRequest struct {
	AlarmName       string
	AlarmTypes      []string
	HistoryItemType string
	StartDate       time.Time
	EndDate         time.Time
	MaxRecords      int32
	NextToken       string
	ScanBy          string
}

type describeAlarmHistoryResponse struct {
	AlarmHistoryItems []historyItem
	NextToken         string `cbor:",omitempty"`
}

func (s *Service) describeAlarmHistory(req *describeAlarmHistoryRequest) (describeAlarmHistoryResponse, error) {
	out := describeAlarmHistoryResponse{AlarmHistoryItems: []historyItem{}}
	limit := int(req.MaxRecords)
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	a := s.alarms
	a.mu.Lock()
	defer a.mu.Unlock()
	var items []historyItem
	for _, h := range a.history {
		if req.AlarmName != "" && h.AlarmName != req.AlarmName || req.HistoryItemType != "" && h.HistoryItemType != req.HistoryItemType ||
			!req.StartDate.IsZero() && h.Timestamp.Before(req.StartDate) || !req.EndDate.IsZero() && h.Timestamp.After(req.EndDate) {
			continue
		}
		items = append(items, h)
	}
	// "ScanBy: TimestampDescending (the default) returns the newest data first."
	if req.ScanBy != "TimestampAscending" {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	if len(items) > limit {
		items = items[:limit] // NextToken paging is not emulated: the first page only
	}
	out.AlarmHistoryItems = append(out.AlarmHistoryItems, items...)
	return out, nil
}

type tagsRequest struct {
	ResourceARN string
	Tags        []Tag
	TagKeys     []string
}

type tagsResponse struct {
	Tags []Tag `cbor:",omitempty"`
}

// tagCall serves ListTagsForResource, TagResource and UntagResource for
// alarms, the only taggable CloudWatch resource this stack creates.
func (s *Service) tagCall(action string) func(*tagsRequest) (tagsResponse, error) {
	return func(req *tagsRequest) (tagsResponse, error) {
		_, name, ok := strings.Cut(req.ResourceARN, ":alarm:")
		a := s.alarms
		a.mu.Lock()
		defer a.mu.Unlock()
		tags := a.tags[name]
		if !ok || a.byName[name] == nil {
			return tagsResponse{}, notFound("The resource %s does not exist.", req.ResourceARN)
		}
		switch action {
		case "TagResource":
			for _, t := range req.Tags {
				tags[t.Key] = t.Value
			}
			return tagsResponse{}, nil
		case "UntagResource":
			for _, k := range req.TagKeys {
				delete(tags, k)
			}
			return tagsResponse{}, nil
		}
		out := tagsResponse{Tags: []Tag{}}
		for k, v := range tags {
			out.Tags = append(out.Tags, Tag{Key: k, Value: v})
		}
		sort.Slice(out.Tags, func(i, j int) bool { return out.Tags[i].Key < out.Tags[j].Key })
		return out, nil
	}
}
