package test

import (
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
	"github.com/tracking-pipeline/tracking-pipeline/test/tfharness"
)

// TestModuleRejectsInvalidSettingsAtPlan plans the fixture with settings AWS
// would refuse (or that would lose messages) and expects the module's own
// message. Skipped, with the reason, where the aws provider cannot be installed.
func TestModuleRejectsInvalidSettingsAtPlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]any
		wantErr string
	}{
		{
			name:    "visibility timeout below 6x the function timeout",
			vars:    map[string]any{"processor_timeout_seconds": 30, "visibility_timeout_seconds": 60},
			wantErr: "must be at least 6 x processor_timeout_seconds + maximum_batching_window_seconds = 180",
		},
		{
			name:    "event source concurrency below 2",
			vars:    map[string]any{"event_source_maximum_concurrency": 1},
			wantErr: "event_source_maximum_concurrency must be from 2 to 1000",
		},
		{
			name:    "event source concurrency above 1000",
			vars:    map[string]any{"event_source_maximum_concurrency": 1001},
			wantErr: "event_source_maximum_concurrency must be from 2 to 1000",
		},
		{
			// The provider derives the partition from the region: cn-north-1 is aws-cn's.
			name:    "a partition other than aws",
			vars:    map[string]any{"region": "cn-north-1"},
			wantErr: "tracking-pipeline supports the aws partition only (this is aws-cn)",
		},
		{
			name:    "DLQ retention not longer than the source's",
			vars:    map[string]any{"message_retention_seconds": 1209600, "dlq_message_retention_seconds": 1209600},
			wantErr: "must be longer than message_retention_seconds",
		},
	}
	dir := tfharness.LocalRoot(t, "test/fixtures/pipeline")
	zips := tfharness.HostZips(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := zips.Vars()
			vars["name_prefix"], vars["lambda_architecture"] = "plan-"+testenv.Unique("v"), lambdazip.HostArchitecture()
			for k, v := range tt.vars {
				vars[k] = v
			}
			out, err := terraform.PlanE(t, tfharness.Options(dir, vars))
			require.Error(t, err, "plan accepted invalid settings:\n%s", out)
			assert.Contains(t, squash(out+err.Error()), tt.wantErr)
		})
	}
}

// squash joins Terraform's wrapped, boxed error lines so messages can be matched whole.
func squash(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "│", " ")), " ")
}
