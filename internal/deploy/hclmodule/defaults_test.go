package hclmodule_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/hclmodule"
)

const fixture = `
variable "name" {
  type = string
}
variable "size" {
  type    = number
  default = 3
}
variable "thresholds" {
  type    = object({ low = optional(number, 1), high = optional(number, 9) })
  default = { high = 5 }
}
variable "arns" {
  type    = list(string)
  default = []
}
variable "topic" {
  type    = string
  default = null
}
locals {
  alarms = { low_one = var.thresholds.low, high_one = var.thresholds.high }
}
resource "aws_cloudwatch_metric_alarm" "this" {
  for_each   = local.alarms
  alarm_name = "${var.name}-${replace(each.key, "_", "-")}"
  threshold  = each.value
  dimensions = tomap({ QueueName = var.name })
}
resource "aws_cloudwatch_event_target" "t" {
  arn = var.name
  input_transformer {
    input_template = upper(var.name)
  }
}
`

func load(t *testing.T) *hclmodule.Module {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(fixture), 0o600))
	mod, err := hclmodule.Load(dir)
	require.NoError(t, err)
	return mod
}

// TestDefaults reads each default as its variable's type, optional object
// attributes filled in, and leaves out a variable without one.
func TestDefaults(t *testing.T) {
	t.Parallel()
	got, err := load(t).Defaults()
	require.NoError(t, err)
	assert.NotContains(t, got, "name")
	assert.True(t, got["size"].Equals(cty.NumberIntVal(3)).True())
	assert.True(t, got["thresholds"].Equals(cty.ObjectVal(map[string]cty.Value{"low": cty.NumberIntVal(1), "high": cty.NumberIntVal(5)})).True(), "%#v", got["thresholds"])
	assert.Equal(t, cty.List(cty.String), got["arns"].Type())
	assert.True(t, got["topic"].IsNull())
	assert.Equal(t, cty.String, got["topic"].Type())
}

// TestInputs reads a JSON object of inputs as the variables' types.
func TestInputs(t *testing.T) {
	t.Parallel()
	mod := load(t)
	got, err := mod.Inputs([]byte(`{"size": 4, "arns": ["a"], "thresholds": {"low": 2, "high": 3}, "topic": null}`))
	require.NoError(t, err)
	assert.Equal(t, cty.ListVal([]cty.Value{cty.StringVal("a")}), got["arns"])
	assert.True(t, got["topic"].IsNull())
	for _, bad := range []string{`{"nope": 1}`, `{"size": "x"}`, `[1]`} {
		_, err := mod.Inputs([]byte(bad))
		assert.Error(t, err, bad)
	}
}

// TestForEachInstances: the keys of a for_each resource, and the attributes
// of one instance and of a nested block.
func TestForEachInstances(t *testing.T) {
	t.Parallel()
	mod := load(t)
	vars := map[string]cty.Value{"name": cty.StringVal("tp")}
	keys, err := mod.InstanceKeys("aws_cloudwatch_metric_alarm", "this", vars, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"high_one", "low_one"}, keys)
	v, err := mod.ResourceValues("aws_cloudwatch_metric_alarm", `this["high_one"]`, vars, nil, "alarm_name", "threshold", "dimensions")
	require.NoError(t, err)
	assert.Equal(t, "tp-high-one", v["alarm_name"].AsString())
	assert.True(t, v["threshold"].Equals(cty.NumberIntVal(5)).True(), "the default given, not the optional attribute's")
	assert.Equal(t, "tp", v["dimensions"].AsValueMap()["QueueName"].AsString())
	_, err = mod.ResourceValues("aws_cloudwatch_metric_alarm", `this["nope"]`, vars, nil, "alarm_name")
	require.ErrorIs(t, err, hclmodule.ErrNoInstance)
	v, err = mod.ResourceValues("aws_cloudwatch_event_target", "t", vars, nil, "input_transformer.input_template", "input_transformer.nope")
	require.NoError(t, err)
	assert.Equal(t, map[string]cty.Value{"input_transformer.input_template": cty.StringVal("TP")}, v)
	_, err = mod.InstanceKeys("aws_cloudwatch_event_target", "t", vars, nil)
	require.Error(t, err, "no for_each")
}
