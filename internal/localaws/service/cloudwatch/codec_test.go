package cloudwatch

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQueryProtocolRoundTrip decodes a PutMetricAlarm form as the Terraform
// provider sends it and encodes a DescribeAlarms answer as it reads it.
func TestQueryProtocolRoundTrip(t *testing.T) {
	t.Parallel()
	form, err := url.ParseQuery("Action=PutMetricAlarm&AlarmName=a&Namespace=AWS%2FSQS&MetricName=M&Statistic=Maximum&Period=60" +
		"&EvaluationPeriods=5&DatapointsToAlarm=3&Threshold=1000&ComparisonOperator=GreaterThanThreshold&TreatMissingData=ignore" +
		"&Dimensions.member.1.Name=QueueName&Dimensions.member.1.Value=q&AlarmActions.member.1=arn%3Aaws%3Asns%3Ax&ActionsEnabled=false" +
		"&Tags.member.1.Key=Project&Tags.member.1.Value=tp")
	require.NoError(t, err)
	var req putMetricAlarmRequest
	require.NoError(t, decodeForm(form, "", reflect.ValueOf(&req).Elem()))
	require.NoError(t, req.validate())
	assert.Equal(t, []Dimension{{Name: "QueueName", Value: "q"}}, req.Dimensions)
	assert.Equal(t, []string{"arn:aws:sns:x"}, req.AlarmActions)
	assert.Equal(t, int32(3), *req.DatapointsToAlarm)
	assert.InDelta(t, 1000, *req.Threshold, 0)
	assert.False(t, *req.ActionsEnabled)
	assert.Equal(t, []Tag{{Key: "Project", Value: "tp"}}, req.Tags)

	var b strings.Builder
	at := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	encodeXML(&b, reflect.ValueOf(describeAlarmsResponse{MetricAlarms: []metricAlarm{{
		AlarmName: "a<b", Dimensions: []Dimension{{Name: "QueueName", Value: "q"}}, Threshold: 0, StateUpdatedTimestamp: at, DatapointsToAlarm: req.DatapointsToAlarm,
	}}, CompositeAlarms: []struct{}{}}))
	xml := b.String()
	for _, want := range []string{
		"<MetricAlarms><member><AlarmName>a&lt;b</AlarmName>",
		"<Dimensions><member><Name>QueueName</Name><Value>q</Value></member></Dimensions>",
		"<Threshold>0</Threshold>", "<DatapointsToAlarm>3</DatapointsToAlarm>",
		"<StateUpdatedTimestamp>2026-12-02T14:00:00.000Z</StateUpdatedTimestamp>", "<CompositeAlarms></CompositeAlarms>",
	} {
		assert.Contains(t, xml, want)
	}
	assert.NotContains(t, xml, "<AlarmDescription>", "empty strings are left out")
	assert.NotContains(t, xml, "<OKActions>", "nil lists are left out")
}

func TestPutMetricAlarmValidation(t *testing.T) {
	t.Parallel()
	one, zero := int32(1), 0.0
	base := func() putMetricAlarmRequest {
		return putMetricAlarmRequest{AlarmName: "a", Namespace: "N", MetricName: "M", Statistic: "Sum", Period: 60,
			EvaluationPeriods: 1, Threshold: &zero, ComparisonOperator: "GreaterThanThreshold"}
	}
	tests := []struct {
		name   string
		change func(*putMetricAlarmRequest)
		want   string // "" valid, else the error's text contains it
	}{
		{"valid", func(*putMetricAlarmRequest) {}, ""},
		{"period 90", func(r *putMetricAlarmRequest) { r.Period = 90 }, "Period"},
		{"period 10", func(r *putMetricAlarmRequest) { r.Period = 10 }, ""},
		{"period 20 (high resolution)", func(r *putMetricAlarmRequest) { r.Period = 20 }, ""},
		{"a day of minutes", func(r *putMetricAlarmRequest) { r.EvaluationPeriods = 1440 }, ""},
		{"a day and a minute of minutes", func(r *putMetricAlarmRequest) { r.EvaluationPeriods = 1441 }, "window"},
		{"a week of hours", func(r *putMetricAlarmRequest) { r.Period, r.EvaluationPeriods = 3600, 168 }, ""},
		{"a week and an hour of hours", func(r *putMetricAlarmRequest) { r.Period, r.EvaluationPeriods = 3600, 169 }, "window"},
		{"an overflowing window", func(r *putMetricAlarmRequest) { r.Period, r.EvaluationPeriods = 86400, 100000 }, "window"},
		{"no threshold", func(r *putMetricAlarmRequest) { r.Threshold = nil }, "Threshold"},
		{"M above N", func(r *putMetricAlarmRequest) { two := int32(2); r.DatapointsToAlarm = &two }, "DatapointsToAlarm"},
		{"M of N", func(r *putMetricAlarmRequest) { r.DatapointsToAlarm = &one }, ""},
		{"percentile", func(r *putMetricAlarmRequest) { r.Statistic, r.ExtendedStatistic = "", "p99" }, "not emulated"},
		{"metric math", func(r *putMetricAlarmRequest) { r.Metrics = []struct{ Id string }{{Id: "m1"}} }, "not emulated"},
		{"anomaly band", func(r *putMetricAlarmRequest) { r.ComparisonOperator = "LessThanLowerOrGreaterThanUpperThreshold" }, "not emulated"},
		{"bad operator", func(r *putMetricAlarmRequest) { r.ComparisonOperator = "Bigger" }, "ComparisonOperator"},
		{"bad missing-data", func(r *putMetricAlarmRequest) { r.TreatMissingData = "zero" }, "TreatMissingData"},
		{"five alarm actions", func(r *putMetricAlarmRequest) { r.AlarmActions = make([]string, 5) }, ""},
		{"six alarm actions", func(r *putMetricAlarmRequest) { r.AlarmActions = make([]string, 6) }, "alarmActions"},
		{"six OK actions", func(r *putMetricAlarmRequest) { r.OKActions = make([]string, 6) }, "oKActions"},
		{"six insufficient-data actions", func(r *putMetricAlarmRequest) { r.InsufficientDataActions = make([]string, 6) }, "insufficientDataActions"},
		{"a name of 256", func(r *putMetricAlarmRequest) { r.AlarmName = strings.Repeat("a", 256) }, "alarmName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := base()
			tt.change(&r)
			err := r.validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
