package test

import (
	"os"
	"path/filepath"
	"regexp"
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

// deprecatedInProvider6 are the references of this repository's resources
// and data sources that hashicorp/aws 6.x removed or deprecates where a form
// 5.46 also accepts exists (the 6.0 upgrade guide, checked against every
// resource and data source type the module and the examples use).
var deprecatedInProvider6 = map[string]string{
	`data\.aws_region\.[a-z_]+\.name\b`: "data.aws_region.<name>.id",
}

// TestNoReferenceProvider6Deprecates keeps the module, the examples and the
// envs clean on provider 6.x while 5.46 is still admitted.
func TestNoReferenceProvider6Deprecates(t *testing.T) {
	t.Parallel()
	root := tfharness.RepoRoot()
	checked := 0
	for _, dir := range []string{"modules", "envs"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(path) != ".tf" {
				return err
			}
			src, err := os.ReadFile(path) //nolint:gosec // this repository's own HCL
			if err != nil {
				return err
			}
			checked++
			for pattern, instead := range deprecatedInProvider6 {
				if loc := regexp.MustCompile(pattern).FindIndex(src); loc != nil {
					t.Errorf("%s uses %s, which provider 6.x deprecates: use %s", path, src[loc[0]:loc[1]], instead)
				}
			}
			return nil
		})
		require.NoError(t, err)
	}
	assert.Positive(t, checked)
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
