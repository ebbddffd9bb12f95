// Command bench measures the processor on the local AWS and prints figures
// next to a baseline measured in the same run:
//
//   - the processor zip's size;
//
//   - the DynamoDB write and read units the processor consumes per update,
//     by outcome, from the local AWS's capacity accounting (writecost);
//
//   - kumo's raw conditional PutItem rate at the processor's concurrency
//     (the ceiling), the processor's write path called directly, then the
//     processor's sustained messages per second draining a backlog, for
//     batch sizes 10 and 100, as shares of that ceiling;
//
//   - the projection's lag: send to latest status, p50 and p99, at 1,000
//     updates a second, split into send to row and row to latest status;
//
//   - init time, from process start to the first Runtime API poll, of lone
//     cold starts.
//
//     bench -zip dist/amd64/processor.zip [-only processor|lag]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
	"github.com/tracking-pipeline/tracking-pipeline/internal/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/synth"
	"github.com/tracking-pipeline/tracking-pipeline/internal/writecost"
)

const (
	instances  = 4  // processor processes (the executor's default concurrency)
	workers    = 10 // MAX_CONCURRENCY per process, the module default
	writeGroup = 10 // updates per RecordBatch call in the write-path baseline: a batch of 10
)

func main() {
	zip := flag.String("zip", "dist/amd64/processor.zip", "host-architecture processor zip")
	messages := flag.Int("messages", 10000, "messages per batch-size run")
	logFile := flag.String("log", "", "write function output here (default: discard)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of this process (kumo, the layer, the poller) here")
	only := flag.String("only", "", "run only one part: processor (both batch sizes) or lag")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile) //nolint:gosec // the caller names its own file
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*zip, *messages, *logFile, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1) //nolint:gocritic // the profile is not needed on failure
	}
}

func run(zip string, messages int, logFile, only string) error {
	ctx := context.Background()
	info, err := os.Stat(zip)
	if err != nil {
		return fmt.Errorf("%w (run make build-host)", err)
	}
	fmt.Printf("processor zip: %.2f MB (target < 8 MB)\n", float64(info.Size())/1e6)

	var fnOut io.Writer
	if logFile != "" {
		f, err := os.Create(logFile) //nolint:gosec // the caller names its own log file
		if err != nil {
			return fmt.Errorf("create log: %w", err)
		}
		defer f.Close()
		fnOut = f
	}
	srv, err := localaws.Start(localaws.Options{Addr: "127.0.0.1:0", Instances: instances, FunctionOutput: fnOut})
	if err != nil {
		return fmt.Errorf("start the local AWS: %w", err)
	}
	defer srv.Close()
	cfg := srv.ClientConfig()
	switch only {
	case "":
	case "processor":
		_, err := printProcessorRates(ctx, srv, cfg, zip, messages)
		return err
	case "lag":
		return printProjectionLag(ctx, cfg, zip)
	default:
		return fmt.Errorf("-only %q: processor or lag", only)
	}
	if err := printWriteCost(ctx, cfg); err != nil {
		return err
	}

	function, err := printProcessorRates(ctx, srv, cfg, zip, messages)
	if err != nil {
		return err
	}

	if err := printProjectionLag(ctx, cfg, zip); err != nil {
		return err
	}

	// Lambda starts each execution environment on its own, so init is
	// measured one process at a time, on a machine the runs above no
	// longer load; the bench's 4 processes started at once are shown too.
	together := srv.Executor.InitTimes(function)
	sort.Slice(together, func(i, j int) bool { return together[i] < together[j] })
	alone, err := coldStarts(srv, function, 5)
	if err != nil {
		return err
	}
	fmt.Printf("init, process start to first Runtime API poll: p50 %s, max %s over %d cold starts one at a time (target < 30 ms); %d started at once on %d cores: p50 %s\n",
		pct(alone, 50), alone[len(alone)-1].Round(100*time.Microsecond), len(alone), len(together), runtime.NumCPU(), pct(together, 50))
	return nil
}

// printWriteCost prints what an update costs in DynamoDB units by outcome
// (the processor's writes and the projector's), from the local AWS's
// capacity accounting, beside the write path's targets.
func printWriteCost(ctx context.Context, cfg aws.Config) error {
	figures, err := writecost.Measure(ctx, writecost.Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg), Streams: dynamodbstreams.NewFromConfig(cfg), SQS: sqs.NewFromConfig(cfg), CloudWatch: cloudwatch.NewFromConfig(cfg),
	}, 100)
	if err != nil {
		return fmt.Errorf("write cost: %w", err)
	}
	targets := map[string]string{
		writecost.OutcomeNew: "table <= 2.2, all <= 4.5", writecost.OutcomeDuplicate: "<= 2 (processor)", writecost.OutcomeRedelivery: "<= 1",
	}
	fmt.Printf("DynamoDB units per update (%d-byte bodies, 100 updates per row; processor and projector, ConsumedWrite/ReadCapacityUnits of the table and its index):\n", writecost.BodyBytes)
	fmt.Printf("  %-26s %5s %12s %12s %20s %11s  %s\n", "outcome", "batch", "write units", "on the table", "of which status GSI", "read units", "target")
	for _, f := range figures {
		fmt.Printf("  %-26s %5d %12.2f %12.2f %20.2f %11.2f  %s\n", f.Outcome, f.Batch, f.WriteUnits, f.WriteUnits-f.IndexWriteUnits, f.IndexWriteUnits, f.ReadUnits, targets[f.Outcome])
	}
	return nil
}

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

// processorRate deploys a stack with batch size batch, floods its queue and
// returns the sustained messages per second and the processor's name.
func processorRate(ctx context.Context, srv *localaws.Server, cfg aws.Config, zip string, batch, n int) (float64, string, error) {
	s := provision.Defaults(fmt.Sprintf("bench-b%d", batch))
	s.LambdaArchitecture = lambdazip.Architecture(runtime.GOARCH)
	s.BatchSize = batch
	if batch > 10 {
		s.MaximumBatchingWindowSeconds = 1
	}
	s.EventSourceMaximumConcurrency = instances
	if lvl := os.Getenv("BENCH_LOG_LEVEL"); lvl != "" {
		s.LogLevel = lvl
	}
	out, err := provision.New(cfg, s).Apply(ctx, provision.ZipsIn(filepath.Dir(zip)))
	if err != nil {
		return 0, "", fmt.Errorf("deploy: %w", err)
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
	fmt.Printf("  batch size %3d at %d instances: %.0f records retried, %.0f failed invocations (no transaction: nothing contends)\n", batch, instances, retried, failed)
	// Sustained: the rows written between the 10th and 90th percentile of
	// write times, leaving out the start-up and the last partial batches.
	lo, hi := len(times)/10, len(times)*9/10
	return float64(hi-lo) / times[hi].Sub(times[lo]).Seconds(), out.ProcessorFunctionName, nil
}

// printProcessorRates measures the ceiling (kumo's conditional PutItem at
// the processor's concurrency) and the processor's write path called
// directly, then prints the processor's sustained rate for batch sizes 10
// and 100 as shares of both. It returns the processor function's name.
func printProcessorRates(ctx context.Context, srv *localaws.Server, cfg aws.Config, zip string, messages int) (string, error) {
	ddb := dynamodb.NewFromConfig(cfg)
	ceiling, err := putItemCeiling(ctx, ddb, instances*workers, 5*time.Second)
	if err != nil {
		return "", err
	}
	fmt.Printf("ceiling: kumo conditional PutItem, %d concurrent writers, 1 KB items: %.0f items/s\n", instances*workers, ceiling)
	writePath, err := writePathRate(ctx, ddb, instances*workers, 5*time.Second)
	if err != nil {
		return "", err
	}
	fmt.Printf("baseline: the processor's write path (audit.Store.RecordBatch, groups of %d, one conditional PutItem per row) called directly, same concurrency: %.0f records/s = %.0f%% of the ceiling\n",
		writeGroup, writePath, 100*writePath/ceiling)

	var function string
	for _, batch := range []int{10, 100} {
		rate, name, err := processorRate(ctx, srv, cfg, zip, batch, messages)
		if err != nil {
			return "", err
		}
		fmt.Printf("processor, batch size %3d: %.0f msgs/s sustained = %.0f%% of the ceiling (target >= 70%%), %.0f%% of its write path\n",
			batch, rate, 100*rate/ceiling, 100*rate/writePath)
		function = name
	}

	return function, nil
}

// lagRate and lagSeconds are the projection-lag run: 1,000 updates a second
// for 10 seconds, one package each.
const (
	lagRate    = 1000
	lagSeconds = 10
)

// printProjectionLag deploys a stack, sends lagRate updates a second (one
// package each) for lagSeconds, and prints how long each took from its send
// (SQS SentTimestamp, the row's sent_at) to its package's latest status
// (the projector's updated_at): the latest status's p50 and p99.
func printProjectionLag(ctx context.Context, cfg aws.Config, zip string) error {
	s := provision.Defaults("bench-lag")
	s.LambdaArchitecture = lambdazip.Architecture(runtime.GOARCH)
	s.EventSourceMaximumConcurrency = instances
	out, err := provision.New(cfg, s).Apply(ctx, provision.ZipsIn(filepath.Dir(zip)))
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	q := sqs.NewFromConfig(cfg)
	n := lagRate * lagSeconds
	ids := make([]string, n)
	tick := time.NewTicker(10 * time.Millisecond) // 10 messages each: lagRate a second
	defer tick.Stop()
	for i := 0; i < n; i += 10 {
		<-tick.C
		entries := make([]sqstypes.SendMessageBatchRequestEntry, 0, 10)
		for j := i; j < min(i+10, n); j++ {
			ids[j] = fmt.Sprintf("LAG%06d", j)
			body := fmt.Sprintf(`{"tracking_id":%q,"event_id":"e1","status":"IN_TRANSIT","event_time":%q}`, ids[j], time.Now().UTC().Format(time.RFC3339))
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j - i)), MessageBody: &body})
		}
		if _, err := q.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &out.IngestQueueURL, Entries: entries}); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	store := audit.NewStore(dynamodb.NewFromConfig(cfg), out.AuditTableName, 90)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, err := store.DailyStats(ctx, time.Now())
		if err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		if st.Total >= int64(n) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("projection lag: %d of %d rows projected after 2 minutes", st.Total, n)
		}
		time.Sleep(200 * time.Millisecond) // polling the counters; the projection offers no completion signal
	}
	var lags, toRow, toLatest []time.Duration
	for _, id := range ids {
		l, ok, err := store.LatestStatus(ctx, id)
		if err != nil || !ok {
			return fmt.Errorf("latest status of %s: %t, %w", id, ok, err)
		}
		rows, err := store.Trail(ctx, id)
		if err != nil || len(rows) != 1 {
			return fmt.Errorf("row of %s: %d, %w", id, len(rows), err)
		}
		sent, err1 := time.Parse(time.RFC3339Nano, rows[0].SentAt)
		moved, err2 := time.Parse(time.RFC3339Nano, l.UpdatedAt)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("times of %s: %q, %q", id, rows[0].SentAt, l.UpdatedAt)
		}
		received, err3 := time.Parse(time.RFC3339Nano, rows[0].ReceivedAt)
		if err3 != nil {
			return fmt.Errorf("received_at of %s: %q", id, rows[0].ReceivedAt)
		}
		lags = append(lags, moved.Sub(sent))
		toRow = append(toRow, received.Sub(sent))
		toLatest = append(toLatest, moved.Sub(received))
	}
	for _, l := range [][]time.Duration{toRow, toLatest} {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	invocations, err := metricSum(ctx, cfg, "AWS/Lambda", "Invocations", out.ProjectorFunctionName)
	if err != nil {
		return err
	}
	busy, err := metricSum(ctx, cfg, "AWS/Lambda", "Duration", out.ProjectorFunctionName)
	if err != nil {
		return err
	}
	fmt.Printf("projection lag, send to latest status, %d updates/s for %d s (%d packages): p50 %s, p99 %s, max %s (target p99 < 1 s)\n",
		lagRate, lagSeconds, n, pct(lags, 50).Round(time.Millisecond), pct(lags, 99).Round(time.Millisecond), lags[len(lags)-1].Round(time.Millisecond))
	fmt.Printf("  of which send to row (the processor): p50 %s, p99 %s; row to latest status (the stream and the projector): p50 %s, p99 %s\n",
		pct(toRow, 50).Round(time.Millisecond), pct(toRow, 99).Round(time.Millisecond), pct(toLatest, 50).Round(time.Millisecond), pct(toLatest, 99).Round(time.Millisecond))
	fmt.Printf("  projector: %.0f invocations, %.0f rows and %.0f ms each on average (one stream shard, one batch at a time)\n",
		invocations, float64(n)/invocations, busy/invocations)
	return nil
}

// metricSum is the sum of a function's metric over the last hour.
func metricSum(ctx context.Context, cfg aws.Config, namespace, metric, function string) (float64, error) {
	got, err := cloudwatch.NewFromConfig(cfg).GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: &namespace, MetricName: &metric,
		Dimensions: []cwtypes.Dimension{{Name: aws.String("FunctionName"), Value: &function}},
		StartTime:  aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.Now().Add(time.Minute)),
		Period: aws.Int32(3600), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	if err != nil {
		return 0, fmt.Errorf("read %s %s: %w", namespace, metric, err)
	}
	var sum float64
	for _, p := range got.Datapoints {
		sum += aws.ToFloat64(p.Sum)
	}
	return sum, nil
}

// coldStarts starts n processes of function's code one at a time, each
// alone, and returns their init times, sorted.
func coldStarts(srv *localaws.Server, function string, n int) ([]time.Duration, error) {
	spec, ok := srv.Executor.Spec(function)
	if !ok {
		return nil, fmt.Errorf("function %s not deployed", function)
	}
	spec.Name, spec.Instances = "bench-init", 1
	var inits []time.Duration
	for range n {
		if err := srv.Executor.Deploy(spec); err != nil {
			return nil, fmt.Errorf("deploy %s: %w", spec.Name, err)
		}
		// An invocation starts the one instance (instances start on
		// demand); its init is recorded on its first Runtime API poll.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := srv.Executor.Invoke(ctx, spec.Name, []byte(`{"Records":[]}`))
		cancel()
		if err != nil {
			return nil, fmt.Errorf("invoke %s: %w", spec.Name, err)
		}
		inits = append(inits, srv.Executor.InitTimes(spec.Name)...)
		srv.Executor.Remove(spec.Name)
	}
	sort.Slice(inits, func(i, j int) bool { return inits[i] < inits[j] })
	return inits, nil
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

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)].Round(100 * time.Microsecond)
}
