package writecost

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/projection"
)

// projectorBatch is the projector mapping's batch size (lambda.tf).
const projectorBatch = 100

// streamProjector feeds the table's stream to the projector's handler, as
// its event source mapping does: the records the mapping's filter passes
// (INSERTs of rows, conflicts and settled messages), in batches of
// projectorBatch, from where it left off.
type streamProjector struct {
	streams   *dynamodbstreams.Client
	projector *projection.Projector
	shard     string
	iterator  *string
	arn       string
}

func newStreamProjector(ctx context.Context, c *dynamodbstreams.Client, streamARN string, p *projection.Projector) (*streamProjector, error) {
	d, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &streamARN})
	if err != nil || len(d.StreamDescription.Shards) == 0 {
		return nil, fmt.Errorf("describe the table's stream: %w", err)
	}
	shard := aws.ToString(d.StreamDescription.Shards[0].ShardId)
	it, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &streamARN, ShardId: &shard,
		ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		return nil, fmt.Errorf("read the table's stream: %w", err)
	}
	return &streamProjector{streams: c, projector: p, shard: shard, iterator: it.ShardIterator, arn: streamARN}, nil
}

// drain projects every record written so far.
func (s *streamProjector) drain(ctx context.Context) error {
	var pending []events.DynamoDBEventRecord
	for {
		out, err := s.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: s.iterator})
		if err != nil {
			return fmt.Errorf("read the table's stream: %w", err)
		}
		s.iterator = out.NextShardIterator
		for _, r := range out.Records {
			if rec, ok := lambdaRecord(r); ok {
				pending = append(pending, rec)
			}
		}
		for len(pending) >= projectorBatch || len(pending) > 0 && len(out.Records) == 0 {
			n := min(projectorBatch, len(pending))
			ev := events.DynamoDBTimeWindowEvent{DynamoDBEvent: events.DynamoDBEvent{Records: pending[:n]}}
			ev.ShardID, ev.EventSourceARN = s.shard, s.arn
			resp, err := s.projector.Handle(ctx, ev)
			if err != nil || len(resp.BatchItemFailures) > 0 {
				return fmt.Errorf("project a batch: %d failed: %w", len(resp.BatchItemFailures), err)
			}
			pending = pending[n:]
		}
		if len(out.Records) == 0 {
			return nil
		}
	}
}

// lambdaRecord is a stream record as the projector's mapping hands it over,
// and whether its filter passes it.
func lambdaRecord(r streamtypes.Record) (events.DynamoDBEventRecord, bool) {
	if r.EventName != streamtypes.OperationTypeInsert || r.Dynamodb == nil {
		return events.DynamoDBEventRecord{}, false
	}
	img := map[string]events.DynamoDBAttributeValue{}
	for k, v := range r.Dynamodb.NewImage {
		switch a := v.(type) {
		case *streamtypes.AttributeValueMemberS:
			img[k] = events.NewStringAttribute(a.Value)
		case *streamtypes.AttributeValueMemberN:
			img[k] = events.NewNumberAttribute(a.Value)
		}
	}
	// The mapping's filter passes the items the processor writes: those
	// the day counters count.
	if _, _, err := audit.CountOf(str(img, audit.AttrSK), str(img, audit.AttrPayload), str(img, audit.AttrOutcome)); err != nil {
		return events.DynamoDBEventRecord{}, false
	}
	rec := events.DynamoDBEventRecord{EventName: string(r.EventName), Change: events.DynamoDBStreamRecord{
		SequenceNumber: aws.ToString(r.Dynamodb.SequenceNumber), NewImage: img,
	}}
	if r.Dynamodb.ApproximateCreationDateTime != nil {
		rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *r.Dynamodb.ApproximateCreationDateTime}
	}
	return rec, true
}

// noBus takes status-change events and drops them: they cost no DynamoDB units.
type noBus struct{}

func (noBus) Publish(_ context.Context, changes []contract.StatusChanged) []error {
	return make([]error, len(changes))
}

// str is a string attribute of an image, or "".
func str(img map[string]events.DynamoDBAttributeValue, name string) string {
	if v, ok := img[name]; ok && v.DataType() == events.DataTypeString {
		return v.String()
	}
	return ""
}
