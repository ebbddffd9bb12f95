package writecost_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/writecost"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/localawstest"
)

// TestMeasure runs the measurement on a few updates: every outcome is
// measured, and each meets the write path's targets (#24): a new update at
// most 2.2 units on the table and 4.5 with its index, a duplicate about 2,
// a redelivery 1.
func TestMeasure(t *testing.T) {
	t.Parallel()
	srv := localawstest.New(t, localaws.Options{})
	cfg := srv.ClientConfig()
	figures, err := writecost.Measure(context.Background(), writecost.Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg), Streams: dynamodbstreams.NewFromConfig(cfg), SQS: sqs.NewFromConfig(cfg), CloudWatch: cloudwatch.NewFromConfig(cfg),
	}, 20)
	require.NoError(t, err)
	byRun := map[string]writecost.Figure{}
	for _, f := range figures {
		t.Logf("%-26s batch %2d: %.2f write units (%.2f on the status index), %.2f read units per update", f.Outcome, f.Batch, f.WriteUnits, f.IndexWriteUnits, f.ReadUnits)
		assert.Positive(t, f.WriteUnits, f.Outcome)
		byRun[f.Outcome+string(rune('0'+f.Batch/10))] = f
	}
	require.Len(t, byRun, 8)
	for _, batch := range []string{"0", "1"} {
		f := byRun[writecost.OutcomeNew+batch]
		assert.LessOrEqual(t, f.WriteUnits-f.IndexWriteUnits, 2.2, "a new update on the table (batch %s)", batch)
		assert.LessOrEqual(t, f.WriteUnits, 4.5, "a new update with its index (batch %s)", batch)
	}
	// 2 by the processor; the day counter's share of a projector batch on top.
	assert.LessOrEqual(t, byRun[writecost.OutcomeDuplicate+"0"].WriteUnits, 2.1, "a duplicate")
	assert.InDelta(t, 1.0, byRun[writecost.OutcomeRedelivery+"0"].WriteUnits, 0.001, "a redelivery: its refused put alone")
	assert.Less(t, byRun[writecost.OutcomeFirst+"0"].IndexWriteUnits, byRun[writecost.OutcomeNew+"0"].IndexWriteUnits, "a next status moves the package's status-index entry")
}
