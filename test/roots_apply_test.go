package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/random"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
	"github.com/tracking-pipeline/tracking-pipeline/test/tfharness"
)

// TestRootsApplyWithEmptySecondPlan applies the roots TestPipelineModule
// does not (the minimal example, the bring-your-own key and topic example,
// both envs with their own settings) on the local AWS, which refuses what
// AWS refuses: each must apply, plan empty a second time, and destroy. A
// false refusal fails it. Skipped, with the reason, where the aws provider
// cannot be installed.
func TestRootsApplyWithEmptySecondPlan(t *testing.T) {
	t.Parallel()
	srv := localawstest.New(t, localaws.Options{Log: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))})
	zips := tfharness.HostZips(t)
	for _, root := range []struct {
		dir      string
		vars     map[string]any
		override string // a Terraform override file's module block, if any
	}{
		{"modules/tracking-pipeline/examples/minimal", nil, ""},
		{"modules/tracking-pipeline/examples/existing-key-and-topic", nil, ""},
		{"envs/dev", map[string]any{"lambda_architecture": lambdazip.HostArchitecture()}, ""},
		// prod protects its table from deletion (AWS, and so the local AWS,
		// refuse to destroy it): off in the copy, so that the test can clean up.
		{"envs/prod", map[string]any{"lambda_architecture": lambdazip.HostArchitecture()},
			"module \"pipeline\" {\n  deletion_protection = false\n}\n"},
	} {
		t.Run(filepath.Base(root.dir), func(t *testing.T) {
			t.Parallel()
			dir := tfharness.CopyRoots(t, root.dir)
			tfharness.WriteLocalOverride(t, dir, srv.URL)
			if root.override != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "test_override.tf"), []byte(root.override), 0o600))
			}
			vars := map[string]any{
				"name_prefix":    "ra-" + strings.ToLower(random.UniqueId()),
				"lambda_zip_dir": zips.Dir(),
				// The local AWS is one region (its README, "Known differences left").
				"region": srv.ClientConfig().Region,
			}
			for k, v := range root.vars {
				vars[k] = v
			}
			opts := tfharness.Options(dir, vars)
			tfharness.Init(t, opts)
			defer terraform.Destroy(t, opts)
			terraform.ApplyAndIdempotent(t, opts)
		})
	}
}
