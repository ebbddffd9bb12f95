package provision

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/hclmodule"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
)

const moduleDir = "../../../" + ModuleDir

// inputs are s as the module's inputs.
func inputs(t *testing.T, s Settings) map[string]cty.Value {
	t.Helper()
	v, err := s.inputs()
	require.NoError(t, err)
	return v
}

// load is the module's defaults for a stack named tp.
func load(t *testing.T) Settings {
	t.Helper()
	s, err := Load(moduleDir, "tp")
	require.NoError(t, err)
	return s
}

// TestSettingsHoldTheModulesDefaults is the parity test of what Go still
// states about the module, Settings' fields: each names a variable of the
// module (its json tag), and its Go type holds that variable's default
// without loss (an int field would cut a fractional default; a missing
// optional attribute would read as 0).
func TestSettingsHoldTheModulesDefaults(t *testing.T) {
	t.Parallel()
	s := load(t)
	assert.Equal(t, "tp", s.NamePrefix)
	mod, err := hclmodule.Load(moduleDir)
	require.NoError(t, err)
	defaults, err := mod.Defaults()
	require.NoError(t, err)
	inputs, err := s.inputs()
	require.NoError(t, err, "a field names no variable, or its value is not of the variable's type")
	raw, err := json.Marshal(s)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(raw, &fields))
	checked := 0
	for name := range fields {
		want, ok := defaults[name]
		if !ok {
			assert.Contains(t, []string{"name_prefix", "environment"}, name, "%s has no default in the module", name)
			continue
		}
		assert.True(t, want.Equals(inputs[name]).True(), "%s: the module's default %#v, Settings hold %#v", name, want, inputs[name])
		checked++
	}
	assert.Len(t, fields, checked+2)
}

// TestLoadRefusesSettingsNotFromTheModule: a Settings value not made by
// Load has no module to render policies and alarms from.
func TestLoadRefusesSettingsNotFromTheModule(t *testing.T) {
	t.Parallel()
	_, err := Settings{NamePrefix: "tp"}.inputs()
	require.ErrorContains(t, err, "provision.Load")
	_, err = Load(t.TempDir(), "tp")
	require.Error(t, err, "a folder without the module")
}

// TestAlarmsAreTheModules reads every alarm of alarms.tf as the
// provisioner does, from the module's defaults and the stack's names: each
// has what PutMetricAlarm needs, watches the stack's resource and takes
// its threshold from alarm_thresholds.
func TestAlarmsAreTheModules(t *testing.T) {
	t.Parallel()
	s := load(t)
	s.AlarmThresholds.QueueDepth = 42
	out := outputs.Stack{
		IngestQueueARN: "arn:aws:sqs:us-east-1:123456789012:tp-ingest", IngestQueueURL: "http://q/tp-ingest", IngestDLQURL: "http://q/tp-ingest-dlq",
		MaintenanceDLQURL: "http://q/tp-maintenance-dlq", ProjectorDLQURL: "http://q/tp-projector-dlq", AlertDLQARN: "arn:aws:sqs:us-east-1:123456789012:tp-alert-dlq",
		ProcessorFunctionName: "tp-processor", ProjectorFunctionName: "tp-projector", MaintenanceFunctionName: "tp-maintenance",
		KMSKeyARN: "arn:aws:kms:us-east-1:123456789012:key/k", AlertTopicARN: "arn:aws:sns:us-east-1:123456789012:tp-alerts",
	}
	p, err := newRolePolicies(s, inputs(t, s), out, "arn:aws:dynamodb:us-east-1:123456789012:table/tp-audit", "arn:aws:dynamodb:us-east-1:123456789012:table/tp-audit/stream/s", "arn:aws:sqs:us-east-1:123456789012:tp-projector-dlq")
	require.NoError(t, err)
	keys, err := p.mod.InstanceKeys("aws_cloudwatch_metric_alarm", "this", p.vars, p.refs)
	require.NoError(t, err)
	require.Len(t, keys, reflect.TypeFor[AlarmThresholds]().NumField(), "an alarm per threshold")
	watched := map[string]bool{"tp-ingest": true, "tp-ingest-dlq": true, "tp-processor": true, "tp-projector": true, "tp-maintenance": true}
	for _, key := range keys {
		v, err := p.resource("aws_cloudwatch_metric_alarm", `this["`+key+`"]`, alarmAttributes...)
		require.NoError(t, err, key)
		for _, attr := range alarmAttributes[:len(alarmAttributes)-2] {
			assert.Contains(t, v, attr, "%s sets %s", key, attr)
		}
		assert.Equal(t, "tp-"+strings.ReplaceAll(key, "_", "-"), v["alarm_name"].AsString())
		for _, d := range v["dimensions"].AsValueMap() {
			assert.True(t, watched[d.AsString()], "%s watches %s, not one of the stack's resources", key, d.AsString())
		}
		assert.Empty(t, v["alarm_actions"].AsValueSlice(), "%s: no raw notifications by default", key)
		if key == "queue_depth" {
			assert.True(t, v["threshold"].Equals(cty.NumberIntVal(42)).True(), "the threshold follows alarm_thresholds")
		}
	}
}

// TestQueuesAreTheModules: each queue's name and attributes as sqs.tf
// states them for the settings given (the ingest queue's visibility
// timeout derived by checks.tf).
func TestQueuesAreTheModules(t *testing.T) {
	t.Parallel()
	s := load(t)
	s.ProcessorTimeoutSeconds, s.MaximumBatchingWindowSeconds, s.MessageRetentionSeconds = 60, 30, 604800
	name, attrs, err := s.queue(inputs(t, s), "ingest")
	require.NoError(t, err)
	assert.Equal(t, "tp-ingest", name)
	assert.Equal(t, map[string]string{"VisibilityTimeout": "390", "MessageRetentionPeriod": "604800", "ReceiveMessageWaitTimeSeconds": "20",
		"KmsDataKeyReusePeriodSeconds": strconv.Itoa(s.KMSDataKeyReusePeriodSeconds)}, attrs)
	override := 900
	s.VisibilityTimeoutSeconds = &override
	_, attrs, err = s.queue(inputs(t, s), "ingest")
	require.NoError(t, err)
	assert.Equal(t, "900", attrs["VisibilityTimeout"])
	for _, dlq := range []string{"ingest_dlq", "maintenance_dlq", "alert_dlq", "projector_dlq"} {
		name, attrs, err := s.queue(inputs(t, s), dlq)
		require.NoError(t, err, dlq)
		assert.Equal(t, "tp-"+strings.ReplaceAll(dlq, "_", "-"), name)
		assert.Contains(t, attrs, "MessageRetentionPeriod", dlq)
	}
	_, _, err = s.queue(inputs(t, s), "nope")
	require.Error(t, err)
}

// TestNamesAreTheModules: the physical names the provisioner gives, as the
// module's resources name them.
func TestNamesAreTheModules(t *testing.T) {
	t.Parallel()
	s := load(t)
	n, err := s.names(inputs(t, s))
	require.NoError(t, err)
	assert.Equal(t, stackNames{table: "tp-audit", bus: "tp-tracking", topic: "tp-alerts", processor: "tp-processor", projector: "tp-projector", maintenance: "tp-maintenance"}, n)
}
