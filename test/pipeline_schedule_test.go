package test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/gruntwork-io/terratest/modules/retry"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
)

// validateSchedule fires the maintenance schedule on the local AWS, which
// invokes the job as the applied scheduler role (its trust policy and its
// lambda:InvokeFunction), and waits for the job's DLQ digest of today.
// AWS cannot fire a schedule on demand: there the daily run is left to
// the schedule.
func validateSchedule(t *testing.T, tgt target, out outputs.Stack) {
	t.Helper()
	if tgt.endpoint == "" {
		t.Log("schedule: AWS fires it at its time only; not fired by the suite")
		return
	}
	ctx := context.Background()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tgt.endpoint+"/_localaws/schedules/"+out.MaintenanceScheduleName+"/trigger", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	store := audit.NewStore(dynamodb.NewFromConfig(tgt.cfg), out.AuditTableName, 90)
	retry.DoWithRetry(t, "the scheduled maintenance run stores today's DLQ digest", 60, time.Second, func() (string, error) {
		var digest map[string]any
		ok, err := store.Report(ctx, "DLQDIGEST", time.Now().UTC().Format(audit.DayLayout), &digest)
		switch {
		case err != nil:
			return "", fmt.Errorf("read the digest: %w", err)
		case !ok:
			return "", fmt.Errorf("no digest yet (is the scheduler role allowed to invoke %s?)", out.MaintenanceFunctionName)
		}
		return "", nil
	})
}
