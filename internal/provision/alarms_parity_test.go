package provision

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/tracking-pipeline/tracking-pipeline/internal/outputs"
)

const moduleDir = "../../modules/tracking-pipeline"

// parse returns the body of one of the module's files.
func parse(t *testing.T, file string) *hclsyntax.Body {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCLFile(filepath.Join(moduleDir, file))
	require.False(t, diags.HasErrors(), diags.Error())
	return f.Body.(*hclsyntax.Body)
}

// items returns an object constructor's items by key.
func items(t *testing.T, expr hclsyntax.Expression) map[string]hclsyntax.Expression {
	t.Helper()
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	require.True(t, ok, "not an object: %T", expr)
	out := map[string]hclsyntax.Expression{}
	for _, it := range obj.Items {
		key := hcl.ExprAsKeyword(it.KeyExpr)
		if key == "" {
			v, diags := it.KeyExpr.Value(nil)
			require.False(t, diags.HasErrors(), diags.Error())
			key = v.AsString()
		}
		out[key] = it.ValueExpr
	}
	return out
}

func literal(t *testing.T, expr hclsyntax.Expression) cty.Value {
	t.Helper()
	v, diags := expr.Value(nil)
	require.False(t, diags.HasErrors(), diags.Error())
	return v
}

// TestAlarmsMatchTheModule holds the provisioner's alarms equal to
// alarms.tf's local.alarms: metric, statistic, period, evaluation periods,
// comparison, missing-data treatment, the threshold variable and the
// resource each alarm watches.
func TestAlarmsMatchTheModule(t *testing.T) {
	t.Parallel()
	var alarmsExpr hclsyntax.Expression
	for _, b := range parse(t, "alarms.tf").Blocks {
		if a, ok := b.Body.Attributes["alarms"]; b.Type == "locals" && ok {
			alarmsExpr = a.Expr
		}
	}
	require.NotNil(t, alarmsExpr, "alarms.tf has no local.alarms")
	module := items(t, alarmsExpr)
	stand := outputs.Stack{IngestQueueURL: "http://q/INGEST", IngestDLQURL: "http://q/DLQ", ProcessorFunctionName: "PROCESSOR",
		ProjectorFunctionName: "PROJECTOR", MaintenanceFunctionName: "MAINTENANCE"}
	resources := map[string]string{
		"aws_sqs_queue.ingest.name": "INGEST", "aws_sqs_queue.ingest_dlq.name": "DLQ",
		"aws_lambda_function.processor.function_name": "PROCESSOR", "aws_lambda_function.maintenance.function_name": "MAINTENANCE",
		"aws_lambda_function.projector.function_name": "PROJECTOR",
	}
	goAlarms := Alarms(Defaults("x"))
	require.Len(t, goAlarms, len(module), "the module has %d alarms", len(module))
	for _, a := range goAlarms {
		t.Run(a.Key, func(t *testing.T) {
			t.Parallel()
			expr, ok := module[a.Key]
			require.True(t, ok, "alarms.tf has no alarm %s", a.Key)
			m := items(t, expr)
			assert.Equal(t, a.Namespace, literal(t, m["namespace"]).AsString())
			assert.Equal(t, a.MetricName, literal(t, m["metric_name"]).AsString())
			assert.Equal(t, string(a.Statistic), literal(t, m["statistic"]).AsString())
			assert.Equal(t, string(a.ComparisonOperator), literal(t, m["comparison_operator"]).AsString())
			assert.Equal(t, a.TreatMissingData, literal(t, m["treat_missing_data"]).AsString())
			period, _ := literal(t, m["period"]).AsBigFloat().Int64()
			evals, _ := literal(t, m["evaluation_periods"]).AsBigFloat().Int64()
			assert.Equal(t, int64(a.Period), period)
			assert.Equal(t, int64(a.EvaluationPeriods), evals)

			thresholdExpr, scale := m["threshold"], int64(1)
			if op, ok := thresholdExpr.(*hclsyntax.BinaryOpExpr); ok && op.Op == hclsyntax.OpMultiply {
				thresholdExpr = op.LHS // var.alarm_thresholds.x * <unit>, as a seconds threshold on a milliseconds metric
				scale, _ = literal(t, op.RHS).AsBigFloat().Int64()
			}
			threshold, diags := hcl.AbsTraversalForExpr(thresholdExpr)
			require.False(t, diags.HasErrors(), "threshold is not a reference")
			assert.Equal(t, []string{"var", "alarm_thresholds", a.ThresholdVar}, traversalNames(threshold))
			assert.InDelta(t, a.ThresholdScale(), float64(scale), 0, "the threshold's unit")

			call, ok := m["dimensions"].(*hclsyntax.FunctionCallExpr)
			require.True(t, ok && call.Name == "tomap" && len(call.Args) == 1, "dimensions is not tomap({...})")
			dims := items(t, call.Args[0])
			require.Len(t, dims, 1)
			value, ok := dims[a.Dimension]
			require.True(t, ok, "the alarm's dimension is not %s", a.Dimension)
			ref, diags := hcl.AbsTraversalForExpr(value)
			require.False(t, diags.HasErrors())
			names := traversalNames(ref)
			assert.Equal(t, resources[names[0]+"."+names[1]+"."+names[2]], a.dimensionValue(stand), "the resource the alarm watches")
		})
	}
}

func traversalNames(tr hcl.Traversal) []string {
	var out []string
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			out = append(out, s.Name)
		case hcl.TraverseAttr:
			out = append(out, s.Name)
		}
	}
	return out
}

// TestAlertRuleMatchesTheModule holds the provisioner's alert rule equal to
// events.tf: the pattern's detail, the input paths and the sentence.
func TestAlertRuleMatchesTheModule(t *testing.T) {
	t.Parallel()
	var rule, target *hclsyntax.Body
	for _, b := range parse(t, "events.tf").Blocks {
		switch {
		case b.Type == "resource" && b.Labels[0] == "aws_cloudwatch_event_rule":
			rule = b.Body
		case b.Type == "resource" && b.Labels[0] == "aws_cloudwatch_event_target":
			target = b.Body
		}
	}
	require.NotNil(t, rule)
	require.NotNil(t, target)

	call, ok := rule.Attributes["event_pattern"].Expr.(*hclsyntax.FunctionCallExpr)
	require.True(t, ok && call.Name == "jsonencode")
	detail, err := ctyjson.Marshal(literal(t, items(t, call.Args[0])["detail"]), literal(t, items(t, call.Args[0])["detail"]).Type())
	require.NoError(t, err)
	assert.JSONEq(t, AlertPatternDetail, string(detail))

	var transformer *hclsyntax.Body
	for _, b := range target.Blocks {
		if b.Type == "input_transformer" {
			transformer = b.Body
		}
	}
	require.NotNil(t, transformer)
	paths := map[string]string{}
	for k, v := range items(t, transformer.Attributes["input_paths"].Expr) {
		paths[k] = literal(t, v).AsString()
	}
	assert.Equal(t, AlertInputPaths, paths)
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"environment": cty.StringVal("prod")})},
		Functions: map[string]function.Function{"upper": stdlib.UpperFunc},
	}
	template, diags := transformer.Attributes["input_template"].Expr.Value(ctx)
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Equal(t, AlertTemplate("prod"), template.AsString())
	var sentence string
	require.NoError(t, json.Unmarshal([]byte(template.AsString()), &sentence), "the template is a JSON string")
}
