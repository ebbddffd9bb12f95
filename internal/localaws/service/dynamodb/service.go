// Package dynamodb fills kumo's DynamoDB gaps: point-in-time recovery,
// SSEDescription, deletion protection, the refusals of CreateTable and the
// X-Amz-Crc32 header.
package dynamodb

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/clock"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// Service owns the DynamoDB state the layer keeps.
type Service struct {
	kumo *upstream.Kumo

	metrics Recorder
	region  string
	clock   func() time.Time
	locks   itemLocks
	streams *streams
	// describe serialises the table operations the layer passes to kumo,
	// whose DescribeTable writes the table it describes while another
	// reads it (a data race in kumo, seen under -race with concurrent
	// writers of a new table); AWS describes a table as often as asked.
	describe sync.Mutex

	mu      sync.Mutex
	tables  map[string]*tableExtras // table name -> PITR and SSE
	schemas map[string]*schema      // table name -> keys and indexes, for capacity
	ttl     map[string]ttlSpec      // table name -> Time to Live

	stop context.CancelFunc
	done sync.WaitGroup
}

// Options configure the service.
type Options struct {
	Region  string
	Metrics Recorder     // where AWS/DynamoDB metrics go (CloudWatch's Record)
	Clock   *clock.Clock // the local AWS's clock; default real time
}

// Recorder takes the metrics the service publishes (CloudWatch's Record).
type Recorder interface {
	Record(namespace, name string, dims map[string]string, value float64, unit string)
}

// New returns the DynamoDB gap filler.
func New(k *upstream.Kumo, opts Options) *Service {
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{kumo: k, metrics: opts.Metrics, region: opts.Region, clock: opts.Clock.Now, streams: newStreams(opts.Clock.Now),
		tables: map[string]*tableExtras{}, schemas: map[string]*schema{}, ttl: map[string]ttlSpec{}, stop: cancel}
	s.done.Add(1)
	go func() { // stopped by Close
		defer s.done.Done()
		opts.Clock.Every(ctx, ttlSweep, func(at time.Time) { s.sweepTTL(ctx, at) })
	}()
	return s
}

// Close stops the Time to Live sweeper.
func (s *Service) Close() {
	s.stop()
	s.done.Wait()
}

// Register adds the operations the layer owns to r, and the CRC32 header to kumo's answers.
func (s *Service) Register(r *awsapi.Router) {
	const target = "DynamoDB_20120810"
	for _, op := range []string{"CreateTable", "DescribeTable", "UpdateTable", "DeleteTable"} {
		r.Target(target, op, s.ddbTable(op))
	}
	for _, op := range []string{"UpdateContinuousBackups", "DescribeContinuousBackups"} {
		r.Target(target, op, s.ddbContinuousBackups(op))
	}
	for op, h := range map[string]http.HandlerFunc{
		"PutItem": s.writeItem(opPut), "UpdateItem": s.writeItem(opUpdate), "DeleteItem": s.writeItem(opDelete),
		"BatchWriteItem": s.batchWriteItem, "TransactWriteItems": s.transactWriteItems,
		"GetItem": s.getItem, "BatchGetItem": s.batchGetItem, "TransactGetItems": s.transactGetItems,
		"Query": s.queryOrScan("Query"), "Scan": s.queryOrScan("Scan"),
	} {
		r.Target(target, op, h)
	}
	r.Target(target, "UpdateTimeToLive", s.updateTimeToLive)
	r.Target(target, "DescribeTimeToLive", s.describeTimeToLive)
	s.registerStreams(r)
	s.kumo.Fix(target+".", addCRC32)
}
