package bench

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/writecost"
)

// printWriteCost prints what an update costs in DynamoDB units by outcome
// (the processor's writes and the projector's), from the local AWS's
// capacity accounting, beside the write path's targets.
func printWriteCost(ctx context.Context, w io.Writer, cfg aws.Config) error {
	figures, err := writecost.Measure(ctx, writecost.Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg), Streams: dynamodbstreams.NewFromConfig(cfg), SQS: sqs.NewFromConfig(cfg), CloudWatch: cloudwatch.NewFromConfig(cfg),
	}, 100)
	if err != nil {
		return fmt.Errorf("write cost: %w", err)
	}
	targets := map[string]string{
		writecost.OutcomeNew: "table <= 2.2, all <= 4.5", writecost.OutcomeDuplicate: "<= 2 (processor)", writecost.OutcomeRedelivery: "<= 1",
	}
	fmt.Fprintf(w, "DynamoDB units per update (%d-byte bodies, 100 updates per row; processor and projector, ConsumedWrite/ReadCapacityUnits of the table and its index):\n", writecost.BodyBytes)
	fmt.Fprintf(w, "  %-26s %5s %12s %12s %20s %11s  %s\n", "outcome", "batch", "write units", "on the table", "of which status GSI", "read units", "target")
	for _, f := range figures {
		fmt.Fprintf(w, "  %-26s %5d %12.2f %12.2f %20.2f %11.2f  %s\n", f.Outcome, f.Batch, f.WriteUnits, f.WriteUnits-f.IndexWriteUnits, f.IndexWriteUnits, f.ReadUnits, targets[f.Outcome])
	}
	return nil
}
