package test

import (
	"path/filepath"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/test/tfharness"
)

// TestExamplesPlan validates and plans each of the module's examples, copied
// to a temporary folder, against the in-process local AWS: each must plan
// cleanly with only the variables a user passes. Skipped, with the reason,
// where the aws provider cannot be installed.
func TestExamplesPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		example   string
		wantAlarm bool // the module's own topic, key and dashboard are planned
	}{
		{"minimal", true},
		{"existing-key-and-topic", false},
		{"complete", true},
	}
	for _, tt := range tests {
		t.Run(tt.example, func(t *testing.T) {
			t.Parallel()
			dir := tfharness.LocalRoot(t, filepath.Join("modules", "tracking-pipeline", "examples", tt.example))
			opts := tfharness.Options(dir, nil)
			zips := tfharness.HostZips(t)
			opts.Vars = map[string]any{"name_prefix": "ex-" + testenv.Unique("e")[2:], "lambda_zip_dir": zips.Dir()}
			out, err := terraform.RunTerraformCommandE(t, opts, "validate", "-no-color")
			require.NoError(t, err, out)

			opts.PlanFilePath = filepath.Join(t.TempDir(), "plan")
			plan, err := terraform.InitAndPlanAndShowWithStructE(t, opts)
			require.NoError(t, err)
			_, ownKey := plan.ResourcePlannedValuesMap["module.tracking_pipeline.aws_kms_key.this[0]"]
			_, ownTopic := plan.ResourcePlannedValuesMap["module.tracking_pipeline.aws_sns_topic.alerts[0]"]
			assert.Equal(t, tt.wantAlarm, ownKey, "the module creates its key")
			assert.Equal(t, tt.wantAlarm, ownTopic, "the module creates its topic")
			_, fn := plan.ResourcePlannedValuesMap["module.tracking_pipeline.aws_lambda_function.processor"]
			assert.True(t, fn, "the processor is planned")
		})
	}
}
