package projection

import (
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
)

// The event source mapping's filter (main.tf's local.projector_filter_pattern,
// TestFilterLetsThroughWhatTheProjectorReads) passes the records of items
// the processor writes, and only with a new image, so that the projector's
// own writes (LATEST, COUNTS#) and TTL deletes (no new image) never invoke
// it. It filters on the dynamodb key alone ("DynamoDB event source
// mappings only support filtering on the dynamodb key", Lambda Developer
// Guide, "Using event filtering with a DynamoDB event source").

// change is what one stream record asks of the projection.
type change struct {
	seq      string
	row      *contract.Update // an audit row: its update moves the latest status
	day      string           // the stats day (the message's send day)
	counters []string         // the day counters it adds one to
	lag      time.Duration    // now - the record's creation in the stream
}

// changeOf reads one stream record: an audit row (counted in its status
// and the total), a conflict, or a settled duplicate or invalid message.
// A record of another item is an error: the filter lets none through.
func changeOf(r *events.DynamoDBEventRecord, now time.Time) (change, error) {
	img := r.Change.NewImage
	c := change{seq: r.Change.SequenceNumber, lag: now.Sub(r.Change.ApproximateCreationDateTime.Time)}
	sk := stringOf(img, audit.AttrSK)
	sentAt, err := time.Parse(time.RFC3339Nano, stringOf(img, audit.AttrSentAt))
	if err != nil {
		return c, fmt.Errorf("record %s (%s): sent_at: %w", c.seq, sk, err)
	}
	c.day = sentAt.UTC().Format(audit.DayLayout)
	if c.counters, c.row, err = audit.CountOf(sk, stringOf(img, audit.AttrPayload), stringOf(img, audit.AttrOutcome)); err != nil {
		return c, fmt.Errorf("record %s: %w", c.seq, err)
	}
	return c, nil
}

func stringOf(img map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := img[name]
	if !ok || v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}
