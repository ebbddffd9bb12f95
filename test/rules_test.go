package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/tfrun"
	"github.com/tracking-pipeline/tracking-pipeline/test/tfharness"
)

// TestModuleRulesWithoutProvider plans the module's variables and its
// cross-variable checks (checks.tf: preconditions on the built-in
// terraform_data resource) in a root of their own, which needs no provider:
// every validation and precondition is evaluated for real, offline.
func TestModuleRulesWithoutProvider(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, f := range []string{"variables.tf", "checks.tf"} {
		b, err := os.ReadFile(filepath.Join(tfharness.RepoRoot(), "modules", "tracking-pipeline", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o600))
	}
	opts := tfharness.Options(dir, nil)
	_, ok, err := tfrun.Init(t.Context(), opts.TerraformBinary, dir)
	require.NoError(t, err)
	require.True(t, ok, "a root with no provider requirements must initialise offline")

	base := map[string]any{"name_prefix": "tp-rules", "environment": "test", "processor_zip_path": "p.zip", "projector_zip_path": "j.zip", "maintenance_zip_path": "m.zip"}
	tests := []struct {
		name    string
		vars    map[string]any
		wantErr string // "" for a valid plan
	}{
		{"defaults are valid", nil, ""},
		{"batch over 10 with a window is valid", map[string]any{"batch_size": 100, "maximum_batching_window_seconds": 1}, ""},
		{"explicit visibility above the minimum is valid", map[string]any{"visibility_timeout_seconds": 900}, ""},
		{"visibility timeout below 6x the function timeout", map[string]any{"processor_timeout_seconds": 30, "visibility_timeout_seconds": 60},
			"visibility_timeout_seconds (60) must be at least 6 x processor_timeout_seconds + maximum_batching_window_seconds = 180"},
		{"window counts in the minimum", map[string]any{"processor_timeout_seconds": 10, "maximum_batching_window_seconds": 5, "visibility_timeout_seconds": 60},
			"= 65"},
		{"DLQ retention not longer than the queue's", map[string]any{"message_retention_seconds": 1209600, "dlq_message_retention_seconds": 1209600},
			"must be longer than message_retention_seconds"},
		{"batch over 10 without a window", map[string]any{"batch_size": 50}, "needs maximum_batching_window_seconds of at least 1"},
		{"event source concurrency below 2", map[string]any{"event_source_maximum_concurrency": 1}, "event_source_maximum_concurrency must be from 2 to 1000"},
		{"event source concurrency above 1000", map[string]any{"event_source_maximum_concurrency": 1001}, "event_source_maximum_concurrency must be from 2 to 1000"},
		{"name prefix too long for IAM", map[string]any{"name_prefix": strings.Repeat("a", 33)}, "name_prefix must be 3-32 characters"},
		{"log retention CloudWatch refuses", map[string]any{"log_retention_days": 10}, "log_retention_days must be a value CloudWatch Logs accepts"},
		{"max receive count zero", map[string]any{"max_receive_count": 0}, "max_receive_count must be from 1 to 1000"},
		{"create_kms_key false without a key", map[string]any{"create_kms_key": false}, "create_kms_key = false needs kms_key_arn"},
		{"create_kms_key false with a key is valid", map[string]any{"create_kms_key": false, "kms_key_arn": "arn:aws:kms:us-east-1:000000000000:key/abc"}, ""},
		{"create_alert_topic true with a topic", map[string]any{"create_alert_topic": true, "alert_topic_arn": "arn:aws:sns:us-east-1:000000000000:t"}, "create_alert_topic = true takes no alert_topic_arn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]any{}
			for k, v := range base {
				vars[k] = v
			}
			for k, v := range tt.vars {
				vars[k] = v
			}
			o := tfharness.Options(dir, vars)
			out, err := terraform.PlanE(t, o)
			if tt.wantErr == "" {
				require.NoError(t, err, out)
				return
			}
			require.Error(t, err, "plan accepted invalid settings:\n%s", out)
			assert.Contains(t, squash(out+err.Error()), tt.wantErr)
		})
	}
}
