package hclmodule_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/hclmodule"
)

// TestResourceValues evaluates a resource's attributes as an apply would,
// from the variables, the resources it reads and the locals they make.
func TestResourceValues(t *testing.T) {
	t.Parallel()
	mod, err := hclmodule.Load("../../../modules/tracking-pipeline")
	require.NoError(t, err)
	obj := func(kv map[string]string) cty.Value {
		m := map[string]cty.Value{}
		for k, v := range kv {
			m[k] = cty.StringVal(v)
		}
		return cty.ObjectVal(m)
	}
	vars := map[string]cty.Value{"name_prefix": cty.StringVal("tp"), "environment": cty.StringVal("dev"),
		"create_alert_topic": cty.True, "alert_topic_arn": cty.NullVal(cty.String)}
	refs := map[string]cty.Value{
		"aws_cloudwatch_event_rule": cty.ObjectVal(map[string]cty.Value{"alarm_state_change": obj(map[string]string{"name": "tp-alarm-state-change"})}),
		"aws_sqs_queue":             cty.ObjectVal(map[string]cty.Value{"alert_dlq": obj(map[string]string{"name": "tp-alert-dlq"})}),
		"aws_sns_topic":             cty.ObjectVal(map[string]cty.Value{"alerts": cty.TupleVal([]cty.Value{obj(map[string]string{"arn": "arn:topic"})})}),
	}
	got, err := mod.ResourceValues("aws_cloudwatch_metric_alarm", "alert_delivery", vars, refs, "alarm_name", "dimensions", "alarm_actions", "ok_actions")
	require.NoError(t, err)
	assert.Equal(t, "tp-alert-delivery", got["alarm_name"].AsString())
	assert.Equal(t, "tp-alarm-state-change", got["dimensions"].GetAttr("RuleName").AsString())
	assert.Equal(t, "arn:topic", got["alarm_actions"].AsValueSlice()[0].AsString(), "local.alert_topic_arn from the topic")
	assert.NotContains(t, got, "ok_actions", "an attribute the resource does not set is left out")

	_, err = mod.ResourceValues("aws_cloudwatch_metric_alarm", "alert_delivery", vars, nil, "dimensions")
	require.Error(t, err, "a resource it reads is missing")
	_, err = mod.ResourceValues("aws_cloudwatch_metric_alarm", "nope", vars, refs, "alarm_name")
	require.Error(t, err)
}
