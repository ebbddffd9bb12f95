package config_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/config"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/hclmodule"
)

// TestModuleSetsWhatTheFunctionsRead reads each function's environment in
// the module's lambda.tf and checks that every variable it sets is one the
// function reads, that every variable the function requires is set, and
// that the defaults agree: a function configured with the module's defaults
// equals one configured with none (the Go defaults).
func TestModuleSetsWhatTheFunctionsRead(t *testing.T) {
	t.Parallel()
	mod, err := hclmodule.Load(filepath.Join("..", "..", "modules", "tracking-pipeline"))
	require.NoError(t, err)

	tests := []struct {
		function string
		reads    []string
		load     func(getenv func(string) string) (any, error)
	}{
		{"processor", config.ProcessorEnv, func(g func(string) string) (any, error) { return config.LoadProcessor(g) }},
		{"projector", config.ProjectorEnv, func(g func(string) string) (any, error) { return config.LoadProjector(g) }},
		{"maintenance", config.MaintenanceEnv, func(g func(string) string) (any, error) { return config.LoadMaintenance(g) }},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			t.Parallel()
			fn := mod.Resource("aws_lambda_function", tt.function)
			require.NotNil(t, fn, "the module has no aws_lambda_function.%s", tt.function)
			resources := map[string]string{} // set from resources: stand-in values
			withDefaults := map[string]string{}
			for name, expr := range environment(t, fn) {
				assert.Contains(t, tt.reads, name, "lambda.tf sets %s, which the %s does not read", name, tt.function)
				value, err := mod.String(expr)
				if errors.Is(err, hclmodule.ErrNotStatic) {
					resources[name] = "arn:aws:stand-in:" + name
					continue
				}
				require.NoError(t, err, name)
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
			assert.Greater(t, len(withDefaults), len(resources), "no setting of the %s comes from a module variable", tt.function)
		})
	}
}

// environment returns the expressions of a function's environment variables by name.
func environment(t *testing.T, fn *hclsyntax.Body) map[string]hclsyntax.Expression {
	t.Helper()
	for _, b := range fn.Blocks {
		attr, ok := b.Body.Attributes["variables"]
		if b.Type != "environment" || !ok {
			continue
		}
		obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr)
		require.True(t, ok, "environment variables are not an object")
		vars := map[string]hclsyntax.Expression{}
		for _, item := range obj.Items {
			name := hcl.ExprAsKeyword(item.KeyExpr)
			require.NotEmpty(t, name, "an environment variable name is not a bare word")
			vars[name] = item.ValueExpr
		}
		return vars
	}
	require.FailNow(t, "no environment block")
	return nil
}

func lookup(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}
