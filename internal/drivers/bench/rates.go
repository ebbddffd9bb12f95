package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/synth"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
)

// rate runs op from n goroutines for d and returns completed ops per second;
// op gets its goroutine's number and a count that is unique to the goroutine.
func rate(n int, d time.Duration, op func(worker, i int) error) (float64, error) {
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				if err := op(w, i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(done.Load()) / d.Seconds(), firstErr
}

// putItemCeiling is the rate of conditional PutItems of audit-row-sized
// items that n goroutines sustain for d.
func putItemCeiling(ctx context.Context, ddb *dynamodb.Client, n int, d time.Duration) (float64, error) {
	table := "bench-ceiling"
	if _, err := ddb.CreateTable(ctx, audit.CreateTableInput(table)); err != nil {
		return 0, fmt.Errorf("create ceiling table: %w", err)
	}
	payload := string(make([]byte, 900))
	r, err := rate(n, d, func(w, i int) error {
		_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: &table,
			Item: map[string]ddbtypes.AttributeValue{
				"pk":      &ddbtypes.AttributeValueMemberS{Value: "TRK#" + strconv.Itoa(w)},
				"sk":      &ddbtypes.AttributeValueMemberS{Value: "EVT#" + strconv.Itoa(i)},
				"payload": &ddbtypes.AttributeValueMemberS{Value: payload},
			},
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
		return err //nolint:wrapcheck // wrapped below
	})
	if err != nil {
		return 0, fmt.Errorf("ceiling PutItem: %w", err)
	}
	return r, nil
}

// writePathRate is how many updates n goroutines record per second through
// audit.Store.RecordBatch in groups of writeGroup, the processor's own
// DynamoDB work, without SQS or Lambda.
func writePathRate(ctx context.Context, ddb *dynamodb.Client, n int, d time.Duration) (float64, error) {
	table := "bench-writepath"
	if _, err := ddb.CreateTable(ctx, audit.CreateTableInput(table)); err != nil {
		return 0, fmt.Errorf("create write-path table: %w", err)
	}
	store := audit.NewStore(ddb, table, 90)
	msgs := synth.Generate(synth.Options{Seed: 1, Count: 200000, DuplicateRate: 1e-9, ConflictRate: 1e-9, PoisonRate: 1e-9})
	var next atomic.Int64
	groups, err := rate(n, d, func(int, int) error {
		entries := make([]audit.Entry, writeGroup)
		for k := range entries {
			m := msgs[int(next.Add(1))%len(msgs)]
			u, err := contract.Parse([]byte(m.Body))
			if err != nil {
				return fmt.Errorf("parse: %w", err)
			}
			entries[k] = audit.Entry{Update: u, Payload: m.Body, MessageID: "bench", SentAt: time.Now()}
		}
		for _, r := range store.RecordBatch(ctx, entries) {
			if r.Err != nil {
				return r.Err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("write path: %w", err)
	}
	return groups * writeGroup, nil
}

// processorRate deploys a stack with batch size batch and inst processor
// instances (reserved concurrency and the mapping's maximum concurrency
// when it is not the local AWS's default), floods its queue and returns the
// sustained messages per second and the processor's name.
func processorRate(ctx context.Context, w io.Writer, srv *localaws.Server, cfg aws.Config, d deployment, batch, inst, n int) (float64, string, error) {
	s := d.settings(fmt.Sprintf("bench-b%d-i%d", batch, inst))
	s.BatchSize = batch
	if batch > 10 {
		s.MaximumBatchingWindowSeconds = 1
	}
	s.EventSourceMaximumConcurrency = inst
	if lvl := os.Getenv("BENCH_LOG_LEVEL"); lvl != "" {
		s.LogLevel = lvl
	}
	out, err := provision.New(cfg, s).Apply(ctx, d.zips)
	if err != nil {
		return 0, "", fmt.Errorf("deploy: %w", err)
	}
	if inst != instances { // the local AWS runs a function without reserved concurrency on `instances` processes
		if _, err := lambda.NewFromConfig(cfg).PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{
			FunctionName: &out.ProcessorFunctionName, ReservedConcurrentExecutions: aws.Int32(int32(inst)), //nolint:gosec // 4 or 8
		}); err != nil {
			return 0, "", fmt.Errorf("reserve %d instances: %w", inst, err)
		}
	}
	// Fill the queue while the mapping is off, then switch it on: the rate
	// is the processor draining a backlog, not waiting for the producer.
	// The projector's mapping stays off meanwhile: the processor's rate is
	// its own, not shared with the projection on the same cores (on AWS
	// they run apart; the projection's lag is measured on its own below).
	// It stays off after the run too: switched on, it would project this
	// run's rows while the next run is measured, on the same cores.
	setMapping, err := mappingSwitch(ctx, lambda.NewFromConfig(cfg), out.ProcessorFunctionName)
	if err != nil {
		return 0, "", err
	}
	if err := setMapping(false); err != nil {
		return 0, "", err
	}
	setProjector, err := mappingSwitch(ctx, lambda.NewFromConfig(cfg), out.ProjectorFunctionName)
	if err != nil {
		return 0, "", err
	}
	if err := setProjector(false); err != nil {
		return 0, "", err
	}
	q := sqs.NewFromConfig(cfg)
	msgs := synth.Generate(synth.Options{Seed: uint64(batch), Count: n, //nolint:gosec // 10 or 100
		DuplicateRate: 1e-9, ConflictRate: 1e-9, PoisonRate: 1e-9})
	for i := 0; i < len(msgs); i += 10 {
		entries := []sqstypes.SendMessageBatchRequestEntry{}
		for j, m := range msgs[i:min(i+10, len(msgs))] {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), MessageBody: aws.String(m.Body)})
		}
		if _, err := q.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &out.IngestQueueURL, Entries: entries}); err != nil {
			return 0, "", fmt.Errorf("send: %w", err)
		}
	}
	if err := setMapping(true); err != nil {
		return 0, "", err
	}
	store := audit.NewStore(dynamodb.NewFromConfig(cfg), out.AuditTableName, 90)
	deadline := time.Now().Add(3 * time.Minute)
	var times []time.Time
	for {
		// One cheap call while the stream runs, so the bench does not load
		// kumo; the rows are read only once the queue looks empty.
		depth, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &out.IngestQueueURL,
			AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
		if err != nil {
			return 0, "", fmt.Errorf("queue depth: %w", err)
		}
		if depth.Attributes["ApproximateNumberOfMessages"] == "0" && depth.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
			if times, err = writeTimes(ctx, store, msgs); err != nil {
				return 0, "", err
			}
			if len(times) >= len(msgs) {
				break
			}
		}
		if time.Now().After(deadline) {
			return 0, "", fmt.Errorf("batch %d: not all %d rows after 3 minutes", batch, len(msgs))
		}
		time.Sleep(200 * time.Millisecond) // polling the queue depth; SQS offers no completion signal
	}
	retried, err := metricSum(ctx, cfg, s.MetricsNamespace, "Retried", out.ProcessorFunctionName)
	if err != nil {
		return 0, "", err
	}
	failed, err := metricSum(ctx, cfg, "AWS/Lambda", "Errors", out.ProcessorFunctionName)
	if err != nil {
		return 0, "", err
	}
	fmt.Fprintf(w, "  batch size %3d at %d instances: %.0f records retried, %.0f failed invocations (no transaction: nothing contends)\n", batch, inst, retried, failed)
	// Sustained: the rows written between the 10th and 90th percentile of
	// write times, leaving out the start-up and the last partial batches.
	lo, hi := len(times)/10, len(times)*9/10
	return float64(hi-lo) / times[hi].Sub(times[lo]).Seconds(), out.ProcessorFunctionName, nil
}

// printProcessorRates measures the ceiling (kumo's conditional PutItem at
// the processor's concurrency) and the processor's write path called
// directly, then prints the processor's sustained rate for batch sizes 10
// and 100 as shares of both. It returns the processor function's name.
func printProcessorRates(ctx context.Context, w io.Writer, srv *localaws.Server, cfg aws.Config, d deployment, messages int) (string, error) {
	ddb := dynamodb.NewFromConfig(cfg)
	ceiling, err := putItemCeiling(ctx, ddb, instances*workers, 5*time.Second)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(w, "ceiling: kumo conditional PutItem, %d concurrent writers, 1 KB items: %.0f items/s\n", instances*workers, ceiling)
	writePath, err := writePathRate(ctx, ddb, instances*workers, 5*time.Second)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(w, "baseline: the processor's write path (audit.Store.RecordBatch, groups of %d, one conditional PutItem per row) called directly, same concurrency: %.0f records/s = %.0f%% of the ceiling\n",
		writeGroup, writePath, 100*writePath/ceiling)

	var function string
	for _, batch := range []int{10, 100} {
		rate, name, err := processorRate(ctx, w, srv, cfg, d, batch, instances, messages)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(w, "processor, batch size %3d: %.0f msgs/s sustained = %.0f%% of the ceiling (target >= 70%%), %.0f%% of its write path\n",
			batch, rate, 100*rate/ceiling, 100*rate/writePath)
		function = name
	}

	return function, nil
}

// mappingSwitch returns a function that turns the event source mapping of
// function on or off.
func mappingSwitch(ctx context.Context, lc *lambda.Client, function string) (func(on bool) error, error) {
	list, err := lc.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: &function})
	if err != nil || len(list.EventSourceMappings) != 1 {
		return nil, fmt.Errorf("the event source mapping of %s: %d found, %w", function, len(list.EventSourceMappings), err)
	}
	uuid := list.EventSourceMappings[0].UUID
	return func(on bool) error {
		if _, err := lc.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: uuid, Enabled: &on}); err != nil {
			return fmt.Errorf("switch the event source mapping of %s: %w", function, err)
		}
		return nil
	}, nil
}

// writeTimes returns the received_at of every row of the stream, sorted.
func writeTimes(ctx context.Context, store *audit.Store, msgs []synth.Message) ([]time.Time, error) {
	var times []time.Time
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[m.TrackingID] {
			continue
		}
		seen[m.TrackingID] = true
		rows, err := store.Trail(ctx, m.TrackingID)
		if err != nil {
			return nil, fmt.Errorf("trail: %w", err)
		}
		for _, r := range rows {
			if t, err := time.Parse(time.RFC3339Nano, r.ReceivedAt); err == nil {
				times = append(times, t)
			}
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	return times, nil
}

// printContention drains a backlog with 8 processor processes at full
// speed, where the design before had transactions cancel each other on the
// day counters (target: no retried record; no transaction is used, so none
// can conflict). It runs last: its processes hold 8 of the local AWS's
// process slots (8 per CPU) until they idle out, which slowed the lag run.
func printContention(ctx context.Context, w io.Writer, srv *localaws.Server, cfg aws.Config, d deployment, messages int) error {
	rate, _, err := processorRate(ctx, w, srv, cfg, d, 10, contended, messages)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "processor, batch size  10 at %d instances: %.0f msgs/s sustained (2 cores: more processes, not more speed)\n", contended, rate)
	return nil
}
