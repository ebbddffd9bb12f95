package writecost_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
	"github.com/tracking-pipeline/tracking-pipeline/internal/writecost"
)

// TestMeasure runs the measurement on a few updates: every outcome is
// measured, each consumed write units, and a new update at batch 10 costs
// less than one on its own (the batch shares its day counter).
func TestMeasure(t *testing.T) {
	t.Parallel()
	srv := localawstest.New(t, localaws.Options{})
	cfg := srv.ClientConfig()
	figures, err := writecost.Measure(context.Background(), writecost.Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg), SQS: sqs.NewFromConfig(cfg), CloudWatch: cloudwatch.NewFromConfig(cfg),
	}, 20)
	require.NoError(t, err)
	byRun := map[string]writecost.Figure{}
	for _, f := range figures {
		t.Logf("%-26s batch %2d: %.2f write units (%.2f on the status index), %.2f read units per update", f.Outcome, f.Batch, f.WriteUnits, f.IndexWriteUnits, f.ReadUnits)
		assert.Positive(t, f.WriteUnits, f.Outcome)
		byRun[f.Outcome+string(rune('0'+f.Batch/10))] = f
	}
	require.Len(t, byRun, 8)
	assert.Less(t, byRun[writecost.OutcomeNew+"1"].WriteUnits, byRun[writecost.OutcomeNew+"0"].WriteUnits, "a batch of 10 shares its day counter")
	assert.Less(t, byRun[writecost.OutcomeFirst+"0"].IndexWriteUnits, byRun[writecost.OutcomeNew+"0"].IndexWriteUnits, "a next status moves the package's status-index entry")
	assert.Less(t, byRun[writecost.OutcomeRedelivery+"0"].WriteUnits, byRun[writecost.OutcomeNew+"0"].WriteUnits, "a redelivery writes less than a new update")
}
