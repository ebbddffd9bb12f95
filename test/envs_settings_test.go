package test

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/hclmodule"
	"github.com/tracking-pipeline/tracking-pipeline/test/tfharness"
)

// envOwned are the module inputs an env sets itself rather than passing through.
var envOwned = map[string]bool{"name_prefix": true, "environment": true, "processor_zip_path": true, "projector_zip_path": true, "maintenance_zip_path": true}

// TestEnvsExposeEveryModuleSetting reads the module and both envs (no
// provider needed): each env declares every module input an operator may
// tune, with the module's type, and passes it to the module as is; every
// module input with a default is nullable = false, so an env's null means
// the module's default and the default lives in the module only.
func TestEnvsExposeEveryModuleSetting(t *testing.T) {
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
			dir := filepath.Join(root, "envs", env)
			e, diags := tfconfig.LoadModule(dir)
			require.False(t, diags.HasErrors(), diags.Err())
			henv, err := hclmodule.Load(dir)
			require.NoError(t, err)
			call := henv.ModuleCall("pipeline")
			require.NotNil(t, call, "envs/%s calls no module pipeline", env)
			for name, v := range mod.Variables {
				if envOwned[name] {
					continue
				}
				ev, ok := e.Variables[name]
				if !assert.True(t, ok, "envs/%s does not expose %s", env, name) {
					continue
				}
				assert.Equal(t, v.Type, ev.Type, "envs/%s: type of %s", env, name)
				assert.NotEmpty(t, ev.Description, "envs/%s: %s has no description", env, name)
				assert.Equal(t, "var."+name, passed(call, name), "envs/%s passes %s to the module as is", env, name)
			}
		})
	}
}

// passed is the expression an env's module call gives an input, as source text.
func passed(call *hclsyntax.Body, name string) string {
	a, ok := call.Attributes[name]
	if !ok {
		return ""
	}
	tr, ok := a.Expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(tr.Traversal) != 2 {
		return "(not a plain variable)"
	}
	attr, ok := tr.Traversal[1].(hcl.TraverseAttr)
	if !ok {
		return "(not a plain variable)"
	}
	return tr.Traversal.RootName() + "." + attr.Name
}

// TestRootsOutputEveryModuleOutput checks that both envs, the Terratest
// fixture and the complete example output every module output under the
// same name, so trackctl --env-dir, the demo and the tests read one set of
// names (internal/outputs).
// exampleOwnOutputs are outputs of the complete example's own resources
// (its status-change consumer), not the module's.
var exampleOwnOutputs = map[string]bool{"delivered_queue_url": true}

func TestRootsOutputEveryModuleOutput(t *testing.T) {
	t.Parallel()
	root := tfharness.RepoRoot()
	mod, diags := tfconfig.LoadModule(filepath.Join(root, "modules", "tracking-pipeline"))
	require.False(t, diags.HasErrors(), diags.Err())
	for _, dir := range []string{"envs/dev", "envs/prod", "test/fixtures/pipeline", "modules/tracking-pipeline/examples/complete"} {
		r, diags := tfconfig.LoadModule(filepath.Join(root, dir))
		require.False(t, diags.HasErrors(), diags.Err())
		for name := range mod.Outputs {
			assert.Contains(t, r.Outputs, name, "%s does not output %s", dir, name)
		}
		for name := range r.Outputs {
			if !exampleOwnOutputs[name] {
				assert.Contains(t, mod.Outputs, name, "%s outputs %s, which the module does not", dir, name)
			}
		}
	}
}
