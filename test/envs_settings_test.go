package test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/hclmodule"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
	"github.com/tracking-pipeline/tracking-pipeline/test/tfharness"
)

// deploymentVars are what an env may take as variables: what differs per
// deployment of it (issue #25: account, region, names, e-mail addresses,
// the zips). Every module setting an env overrides is a literal in its
// module call, so a new module setting takes one edit to the module, and a
// line in an env only where that env overrides it.
var deploymentVars = map[string]bool{
	"account_id": true, "region": true, "name_prefix": true,
	"lambda_zip_dir": true, "lambda_architecture": true, "alert_email_addresses": true,
}

// TestEnvsStateOnlyWhatDiffers reads the module and both envs (no provider
// needed): an env declares no variable but deploymentVars, and its module
// call gives each setting either a deployment variable or a literal that
// differs from the module's default (restating a default would be a second
// place for it). Every module input with a default is nullable = false, so
// a deployment variable left null means the module's default.
func TestEnvsStateOnlyWhatDiffers(t *testing.T) {
	t.Parallel()
	root := tfharness.RepoRoot()
	mod, diags := tfconfig.LoadModule(filepath.Join(root, "modules", "tracking-pipeline"))
	require.False(t, diags.HasErrors(), diags.Err())
	hmod, err := hclmodule.Load(filepath.Join(root, "modules", "tracking-pipeline"))
	require.NoError(t, err)
	for name, v := range mod.Variables {
		if v.Default != nil {
			assert.True(t, hmod.NotNullable(name), "module variable %s has a default but is nullable: an env's null would override it", name)
		}
	}
	for _, env := range []string{"dev", "prod"} {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			e, diags := tfconfig.LoadModule(filepath.Join(root, "envs", env))
			require.False(t, diags.HasErrors(), diags.Err())
			for name := range e.Variables {
				assert.True(t, deploymentVars[name], "envs/%s declares variable %s: a setting is a literal in its module call", env, name)
			}
			for name, expr := range moduleCall(t, env) {
				v, ok := mod.Variables[name]
				if !assert.True(t, ok, "envs/%s sets %s, which the module does not declare", env, name) || len(expr.Variables()) > 0 {
					continue // wired from a deployment variable or a local
				}
				if v.Default != nil {
					assert.NotEqual(t, jsonValue(t, v.Default), literal(t, expr), "envs/%s restates the module's default of %s", env, name)
				}
			}
		})
	}
}

// specification is the original specification's production settings:
// prod states each, or leaves it to a module default that equals it.
var specification = map[string]any{
	"processor_timeout_seconds":        60.0,
	"processor_memory_mb":              512.0,
	"max_receive_count":                3.0,
	"maximum_batching_window_seconds":  30.0,
	"message_retention_seconds":        604800.0,  // 7 days
	"dlq_message_retention_seconds":    1209600.0, // 14 days
	"maintenance_schedule_expression":  "cron(0 1 * * ? *)",
	"maintenance_schedule_timezone":    "UTC",
	"retention_days":                   400.0,
	"log_retention_days":               365.0,
	"event_source_maximum_concurrency": 50.0,
	"point_in_time_recovery":           true,
	"deletion_protection":              true,
}

// TestProdCarriesTheSpecification checks prod's effective settings (its
// literal, or else the module's default) against the specification.
func TestProdCarriesTheSpecification(t *testing.T) {
	t.Parallel()
	mod, diags := tfconfig.LoadModule(filepath.Join(tfharness.RepoRoot(), "modules", "tracking-pipeline"))
	require.False(t, diags.HasErrors(), diags.Err())
	call := moduleCall(t, "prod")
	for name, want := range specification {
		got := jsonValue(t, mod.Variables[name].Default)
		if expr, ok := call[name]; ok {
			got = literal(t, expr)
		}
		assert.Equal(t, want, got, "prod's %s", name)
	}
}

// moduleCall is the arguments of env's call of module pipeline but its source.
func moduleCall(t *testing.T, env string) map[string]hcl.Expression {
	t.Helper()
	henv, err := hclmodule.Load(filepath.Join(tfharness.RepoRoot(), "envs", env))
	require.NoError(t, err)
	call := henv.ModuleCall("pipeline")
	require.NotNil(t, call, "envs/%s calls no module pipeline", env)
	args := map[string]hcl.Expression{}
	for name, a := range call.Attributes {
		if name != "source" {
			args[name] = a.Expr
		}
	}
	return args
}

// literal is a literal expression's value as JSON reads it.
func literal(t *testing.T, expr hcl.Expression) any {
	t.Helper()
	v, diags := expr.Value(nil)
	require.False(t, diags.HasErrors(), diags.Error())
	b, err := ctyjson.Marshal(v, v.Type())
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// jsonValue is a variable default, as tfconfig reads it, as JSON reads it.
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// TestRootsOutputTheModuleWhole checks that both envs and the complete
// example output the module whole under outputs.Root, so trackctl
// --env-dir, the demo and the tests read the module's names
// (internal/deploy/outputs) and no root repeats its outputs one by one.
func TestRootsOutputTheModuleWhole(t *testing.T) {
	t.Parallel()
	for dir, call := range map[string]string{
		"envs/dev": "pipeline", "envs/prod": "pipeline",
		"modules/tracking-pipeline/examples/complete": "tracking_pipeline",
	} {
		m, err := hclmodule.Load(filepath.Join(tfharness.RepoRoot(), dir))
		require.NoError(t, err)
		out := m.Output(outputs.Root)
		require.NotNil(t, out, "%s has no output %s", dir, outputs.Root)
		value, ok := out.Attributes["value"]
		require.True(t, ok, "%s: output %s has no value", dir, outputs.Root)
		assert.Equal(t, "module."+call, traversal(value.Expr), "%s: output %s", dir, outputs.Root)
	}
}

// traversal is a plain reference (module.x) as source text, or "".
func traversal(expr hcl.Expression) string {
	tr, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(tr.Traversal) != 2 {
		return ""
	}
	attr, ok := tr.Traversal[1].(hcl.TraverseAttr)
	if !ok {
		return ""
	}
	return tr.Traversal.RootName() + "." + attr.Name
}
