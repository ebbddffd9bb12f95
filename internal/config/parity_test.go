package config_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/tracking-pipeline/tracking-pipeline/internal/config"
)

var moduleDir = filepath.Join("..", "..", "modules", "tracking-pipeline")

// TestModuleSetsWhatTheFunctionsRead reads each function's environment in
// the module's lambda.tf and checks that every variable it sets is one the
// function reads, that every variable the function requires is set, and
// that the defaults agree: a function configured with the module's defaults
// equals one configured with none (the Go defaults).
func TestModuleSetsWhatTheFunctionsRead(t *testing.T) {
	t.Parallel()
	mod, diags := tfconfig.LoadModule(moduleDir)
	require.False(t, diags.HasErrors(), diags.Err())
	envs := lambdaEnvironments(t)

	tests := []struct {
		function string
		reads    []string
		load     func(getenv func(string) string) (any, error)
	}{
		{"processor", config.ProcessorEnv, func(g func(string) string) (any, error) { return config.LoadProcessor(g) }},
		{"maintenance", config.MaintenanceEnv, func(g func(string) string) (any, error) { return config.LoadMaintenance(g) }},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			t.Parallel()
			env, ok := envs[tt.function]
			require.True(t, ok, "lambda.tf has no aws_lambda_function.%s with an environment", tt.function)

			resources := map[string]string{} // set from resources: stand-in values
			withDefaults := map[string]string{}
			for name, expr := range env {
				assert.Contains(t, tt.reads, name, "lambda.tf sets %s, which the %s does not read", name, tt.function)
				value, fromVariable := moduleDefault(t, mod, expr)
				if !fromVariable {
					resources[name] = "arn:aws:stand-in:" + name
					continue
				}
				withDefaults[name] = value
			}
			none, err := tt.load(lookup(resources))
			require.NoError(t, err, "the %s needs a variable lambda.tf does not set", tt.function)
			for k, v := range resources {
				withDefaults[k] = v
			}
			module, err := tt.load(lookup(withDefaults))
			require.NoError(t, err, "the module's defaults are invalid for the %s", tt.function)
			assert.Equal(t, none, module, "the %s's defaults differ from the module's", tt.function)
			assert.NotEmpty(t, withDefaults, "no setting of the %s comes from a module variable", tt.function)
		})
	}
}

// lambdaEnvironments returns, per aws_lambda_function of lambda.tf, the
// expressions of its environment variables by name.
func lambdaEnvironments(t *testing.T) map[string]map[string]hclsyntax.Expression {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCLFile(filepath.Join(moduleDir, "lambda.tf"))
	require.False(t, diags.HasErrors(), diags.Error())
	out := map[string]map[string]hclsyntax.Expression{}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "resource" || b.Labels[0] != "aws_lambda_function" {
			continue
		}
		for _, env := range b.Body.Blocks {
			attr, ok := env.Body.Attributes["variables"]
			if env.Type != "environment" || !ok {
				continue
			}
			obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr)
			require.True(t, ok, "%s: environment variables are not an object", b.Labels[1])
			vars := map[string]hclsyntax.Expression{}
			for _, item := range obj.Items {
				name := hcl.ExprAsKeyword(item.KeyExpr)
				require.NotEmpty(t, name, "%s: an environment variable name is not a bare word", b.Labels[1])
				vars[name] = item.ValueExpr
			}
			out[b.Labels[1]] = vars
		}
	}
	return out
}

// moduleDefault evaluates expr with the module's variable defaults; it
// reports false when expr reads anything but variables (a resource).
func moduleDefault(t *testing.T, mod *tfconfig.Module, expr hclsyntax.Expression) (string, bool) {
	t.Helper()
	vars := map[string]cty.Value{}
	for _, tr := range expr.Variables() {
		if tr.RootName() != "var" || len(tr) < 2 {
			return "", false
		}
		name := tr[1].(hcl.TraverseAttr).Name
		v, ok := mod.Variables[name]
		require.True(t, ok, "lambda.tf reads var.%s, which the module does not declare", name)
		vars[name] = ctyOf(t, v.Default)
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)},
		Functions: map[string]function.Function{"tostring": toString},
	}
	v, diags := expr.Value(ctx)
	require.False(t, diags.HasErrors(), diags.Error())
	s, err := convert.Convert(v, cty.String)
	require.NoError(t, err)
	return s.AsString(), true
}

// toString is Terraform's tostring for the primitive values a default holds.
var toString = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return convert.Convert(args[0], cty.String) //nolint:wrapcheck // the test reports it
	},
})

func ctyOf(t *testing.T, v any) cty.Value {
	t.Helper()
	switch d := v.(type) {
	case string:
		return cty.StringVal(d)
	case bool:
		return cty.BoolVal(d)
	case float64:
		return cty.NumberFloatVal(d)
	}
	require.FailNow(t, fmt.Sprintf("a default of type %T", v))
	return cty.NilVal
}

func lookup(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}
