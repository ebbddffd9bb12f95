package test

import (
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
	"github.com/tracking-pipeline/tracking-pipeline/test/tfharness"
)

// TestEnvsValidateAndPlan validates envs/dev and envs/prod, then plans each
// against the in-process local AWS (a provider override in the temporary
// copy points every endpoint there; nothing reaches AWS). Skipped, with the
// reason, where the hashicorp/aws provider cannot be installed.
func TestEnvsValidateAndPlan(t *testing.T) {
	t.Parallel()
	for _, env := range []string{"dev", "prod"} {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			dir := tfharness.CopyRoots(t, "envs/"+env)
			tfharness.WriteLocalOverride(t, dir, testenv.Start(t).URL)
			opts := tfharness.Options(dir, nil)
			tfharness.Init(t, opts)
			zips := tfharness.HostZips(t)
			opts.Vars = map[string]any{
				"lambda_zip_dir":      zips.Dir(),
				"lambda_architecture": lambdazip.HostArchitecture(),
			}

			out, err := terraform.RunTerraformCommandE(t, opts, "validate", "-no-color")
			require.NoError(t, err, out)

			exit, err := terraform.PlanExitCodeE(t, opts)
			require.NoError(t, err)
			assert.Equal(t, 2, exit, "a plan on an empty account must create resources")
		})
	}
}
