package test

import (
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-config-inspect/tfconfig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/test/tfharness"
)

// TestModuleInterfaceIsDocumented reads every Terraform root of the repo
// with HashiCorp's parser: each variable needs a type and a description,
// each output a description. It needs no provider.
func TestModuleInterfaceIsDocumented(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"modules/tracking-pipeline", "envs/dev", "envs/prod", "test/fixtures/pipeline"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			mod, diags := tfconfig.LoadModule(filepath.Join(tfharness.RepoRoot(), dir))
			require.False(t, diags.HasErrors(), "parse %s: %v", dir, diags.Err())
			require.NotEmpty(t, mod.Variables)
			for name, v := range mod.Variables {
				assert.NotEmpty(t, v.Type, "variable %s in %s has no type", name, dir)
				assert.NotEmpty(t, v.Description, "variable %s in %s has no description", name, dir)
			}
			for name, o := range mod.Outputs {
				assert.NotEmpty(t, o.Description, "output %s in %s has no description", name, dir)
			}
		})
	}
}

// TestModuleDeclaresNoProvider keeps provider configuration in the roots.
func TestModuleDeclaresNoProvider(t *testing.T) {
	t.Parallel()
	mod, diags := tfconfig.LoadModule(filepath.Join(tfharness.RepoRoot(), "modules/tracking-pipeline"))
	require.False(t, diags.HasErrors(), diags.Err())
	assert.Empty(t, mod.ProviderConfigs, "the module must not configure providers")
	require.Contains(t, mod.RequiredProviders, "aws")
	assert.Equal(t, "hashicorp/aws", mod.RequiredProviders["aws"].Source)
	assert.Equal(t, []string{">= 5.46, < 7.0"}, mod.RequiredProviders["aws"].VersionConstraints)
	assert.Equal(t, []string{">= 1.6"}, mod.RequiredCore)
}
