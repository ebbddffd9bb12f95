// Package writecost measures what an update costs in DynamoDB units, by
// outcome, with the local AWS's capacity accounting: the processor's
// handler runs against a table made as the module makes it, fed SQS batches
// of each outcome; the projector's handler then reads the table's stream as
// its mapping would (batches of 100); the units of both are read back from
// the AWS/DynamoDB metrics the local AWS publishes (the table's and its
// global index's).
package writecost

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
	"github.com/tracking-pipeline/tracking-pipeline/internal/processor"
	"github.com/tracking-pipeline/tracking-pipeline/internal/projection"
)

// BodyBytes is the size of each update's body: the cost model's typical
// 500-byte update.
const BodyBytes = 500

// The outcomes measured.
const (
	OutcomeFirst      = "new, first of its package"
	OutcomeNew        = "new"
	OutcomeDuplicate  = "duplicate"
	OutcomeRedelivery = "redelivery"
	OutcomeConflict   = "conflict"
	OutcomeInvalid    = "invalid"
)

// Figure is what one kind of update cost, per update.
type Figure struct {
	Outcome    string // what the processor did (Outcome*)
	Batch      int    // records per SQS batch
	Updates    int    // updates measured
	WriteUnits float64
	ReadUnits  float64
	// IndexWriteUnits are the write units of the global indexes (part of WriteUnits).
	IndexWriteUnits float64
}

// Clients are the local AWS's clients the measurement uses.
type Clients struct {
	DynamoDB   *dynamodb.Client
	Streams    *dynamodbstreams.Client
	SQS        *sqs.Client
	CloudWatch *cloudwatch.Client
}

// Measure runs each outcome's batches through a processor handler built as
// the Lambda's main builds it and returns what each cost. n updates are
// measured per outcome.
func Measure(ctx context.Context, c Clients, n int) ([]Figure, error) {
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	table := "writecost-" + suffix
	created, err := c.DynamoDB.CreateTable(ctx, audit.CreateTableInput(table))
	if err != nil {
		return nil, fmt.Errorf("create table: %w", err)
	}
	dlq, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("writecost-dlq-" + suffix)})
	if err != nil {
		return nil, fmt.Errorf("create DLQ: %w", err)
	}
	store := audit.NewStore(c.DynamoDB, table, 90)
	h := processor.New(store, deadletter.NewSender(c.SQS, aws.ToString(dlq.QueueUrl)),
		emf.NewWriter(io.Discard, "writecost", nil), zap.NewNop(), processor.Config{MaxConcurrency: 10})
	stream, err := newStreamProjector(ctx, c.Streams, aws.ToString(created.TableDescription.LatestStreamArn),
		projection.New(store, noBus{}, emf.NewWriter(io.Discard, "writecost", nil), zap.NewNop(), 10))
	if err != nil {
		return nil, err
	}
	m := &meter{cw: c.CloudWatch, table: table, since: time.Now().Add(-time.Hour)}

	first, firstOfTen := updates(suffix, "a", n), updates(suffix, "b", n)
	next, nextOfTen := later(first), later(firstOfTen)
	var figures []Figure
	for _, run := range []struct {
		outcome string
		batch   int
		msgs    []events.SQSMessage
	}{
		// A package's first update: it enters the status index.
		{OutcomeFirst, 1, messages(first, "first-")},
		{OutcomeFirst, 10, messages(firstOfTen, "first10-")},
		// A package's next status, the usual update: its status-index
		// entry moves (a delete and a put).
		{OutcomeNew, 1, messages(next, "next-")},
		{OutcomeNew, 10, messages(nextOfTen, "next10-")},
		// The same content under a new message id: a producer's resend.
		{OutcomeDuplicate, 1, messages(next, "dup-")},
		// The same message again: SQS delivering it a second time.
		{OutcomeRedelivery, 1, messages(next, "next-")},
		// The same event id with other content.
		{OutcomeConflict, 1, messages(conflicting(next), "conflict-")},
		{OutcomeInvalid, 1, messages(invalid(n), "invalid-")},
	} {
		f, err := m.measure(ctx, run.outcome, run.batch, func() error {
			for i := 0; i < len(run.msgs); i += run.batch {
				batch := run.msgs[i:min(i+run.batch, len(run.msgs))]
				resp, err := h.Handle(ctx, events.SQSEvent{Records: batch})
				if err != nil || len(resp.BatchItemFailures) > 0 {
					return fmt.Errorf("%s batch: %d records failed: %w", run.outcome, len(resp.BatchItemFailures), err)
				}
			}
			return stream.drain(ctx)
		}, len(run.msgs))
		if err != nil {
			return nil, err
		}
		figures = append(figures, f)
	}
	return figures, nil
}

// updates are n valid update bodies of BodyBytes, one package each.
func updates(suffix, set string, n int) []string {
	out := make([]string, n)
	for i := range out {
		doc := map[string]any{
			"schema_version": 1,
			"tracking_id":    fmt.Sprintf("WC%s%s%06d", set, suffix, i),
			"event_id":       fmt.Sprintf("evt-%s-%d", set, i),
			"status":         "IN_TRANSIT",
			"event_time":     time.Now().UTC().Add(-time.Hour).Format(time.RFC3339),
			"carrier":        "UPS",
			"location":       map[string]string{"city": "Lyon", "country": "FR"},
			"details":        map[string]string{"note": ""},
		}
		b, _ := json.Marshal(doc)
		doc["details"] = map[string]string{"note": strings.Repeat("n", max(0, BodyBytes-len(b)))}
		b, _ = json.Marshal(doc)
		out[i] = string(b)
	}
	return out
}

// later are each package's next update: a new event id, a later time,
// another status.
func later(bodies []string) []string {
	out := make([]string, len(bodies))
	for i, b := range bodies {
		var doc map[string]any
		_ = json.Unmarshal([]byte(b), &doc)
		doc["event_id"] = fmt.Sprint(doc["event_id"], "-next")
		doc["status"] = "OUT_FOR_DELIVERY"
		doc["event_time"] = time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
		next, _ := json.Marshal(doc)
		out[i] = string(next)
	}
	return out
}

// conflicting are bodies with the same event ids and another status.
func conflicting(bodies []string) []string {
	out := make([]string, len(bodies))
	for i, b := range bodies {
		out[i] = strings.Replace(b, `"OUT_FOR_DELIVERY"`, `"DELIVERED"`, 1)
	}
	return out
}

// invalid are n bodies the contract refuses.
func invalid(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = `{"tracking_id":"WCBAD` + strconv.Itoa(i) + `","status":"IN_TRANSIT","event_time":"yesterday"}`
	}
	return out
}

// messages are SQS records of bodies, message ids prefix+index.
func messages(bodies []string, prefix string) []events.SQSMessage {
	sent := strconv.FormatInt(time.Now().UnixMilli(), 10)
	out := make([]events.SQSMessage, len(bodies))
	for i, b := range bodies {
		out[i] = events.SQSMessage{MessageId: prefix + strconv.Itoa(i), Body: b,
			Attributes: map[string]string{"SentTimestamp": sent, "ApproximateReceiveCount": "1"}}
	}
	return out
}

// meter reads the table's consumed units from AWS/DynamoDB.
type meter struct {
	cw    *cloudwatch.Client
	table string
	since time.Time
}

// measure runs work and returns the units consumed meanwhile, per update.
func (m *meter) measure(ctx context.Context, outcome string, batch int, work func() error, updates int) (Figure, error) {
	before, err := m.totals(ctx)
	if err != nil {
		return Figure{}, err
	}
	if err := work(); err != nil {
		return Figure{}, err
	}
	after, err := m.totals(ctx)
	if err != nil {
		return Figure{}, err
	}
	per := func(i int) float64 { return (after[i] - before[i]) / float64(updates) }
	return Figure{Outcome: outcome, Batch: batch, Updates: updates, WriteUnits: per(0) + per(2), IndexWriteUnits: per(2), ReadUnits: per(1) + per(3)}, nil
}

// totals are the table's write and read units and its global indexes'
// write and read units so far.
func (m *meter) totals(ctx context.Context) ([4]float64, error) {
	var out [4]float64
	dims := [][]cwtypes.Dimension{{{Name: aws.String("TableName"), Value: &m.table}}}
	for _, ix := range audit.CreateTableInput(m.table).GlobalSecondaryIndexes {
		dims = append(dims, []cwtypes.Dimension{{Name: aws.String("TableName"), Value: &m.table}, {Name: aws.String("GlobalSecondaryIndexName"), Value: ix.IndexName}})
	}
	for i, d := range dims {
		for j, metric := range []string{"ConsumedWriteCapacityUnits", "ConsumedReadCapacityUnits"} {
			got, err := m.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
				Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String(metric), Dimensions: d,
				StartTime: aws.Time(m.since), EndTime: aws.Time(time.Now().Add(time.Hour)),
				Period: aws.Int32(3 * 3600), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
			})
			if err != nil {
				return out, fmt.Errorf("read %s: %w", metric, err)
			}
			for _, p := range got.Datapoints {
				out[min(i, 1)*2+j] += aws.ToFloat64(p.Sum)
			}
		}
	}
	return out, nil
}
