// Package demo runs the whole pipeline on the local AWS: deploy, send a
// realistic stream, wait for it to drain, and report what happened.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/soak"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/synth"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/tfrun"
	"github.com/tracking-pipeline/tracking-pipeline/internal/lambdazip"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
)

// Options configure a demo run.
type Options struct {
	Root    string // repository root
	ZipDir  string // host-architecture processor.zip and maintenance.zip
	Count   int    // messages to send
	Seed    uint64
	Timeout time.Duration // for draining the queue
	Out     io.Writer
	LogFile string // function and local AWS logs
	// TimeScale runs the local AWS's clock faster, so that CloudWatch's
	// minutes (alarm periods) pass in seconds; 1 is real time.
	TimeScale float64
}

// OnCall is the e-mail address the demo subscribes to the alert topic.
const OnCall = "oncall@example.com"

// Run deploys, sends, waits and reports; it stops everything it started.
func Run(ctx context.Context, o Options) error {
	w := o.Out
	logFile, err := os.Create(o.LogFile)
	if err != nil {
		return fmt.Errorf("create log file: %w", err)
	}
	defer logFile.Close()

	step(w, "Starting the local AWS (kumo + compatibility layer + Lambda executor)")
	srv, err := localaws.Start(localaws.Options{Addr: "127.0.0.1:0", FunctionOutput: logFile, Log: fileLogger(logFile), Instances: 4, TimeScale: o.TimeScale})
	if err != nil {
		return fmt.Errorf("start the local AWS: %w", err)
	}
	defer srv.Close()
	fmt.Fprintf(w, "    endpoint %s, logs in %s, clock at %gx real time (a CloudWatch minute lasts %s)\n",
		srv.URL, o.LogFile, srv.Clock.Scale(), srv.Clock.RealDuration(time.Minute).Round(time.Millisecond))

	cfg := srv.ClientConfig()
	out, err := deploy(ctx, w, srv, cfg, o)
	if err != nil {
		return err
	}

	msgs := synth.Generate(synth.Options{Seed: o.Seed, Count: o.Count})
	kinds := map[synth.Kind]int{}
	for _, m := range msgs {
		kinds[m.Kind]++
	}
	step(w, fmt.Sprintf("Sending %d tracking updates (%d new events, %d producer retries, %d conflicting resends, %d poison), shuffled per package",
		len(msgs), kinds[synth.Valid], kinds[synth.Duplicate], kinds[synth.Conflict], kinds[synth.Poison]))
	q := sqs.NewFromConfig(cfg)
	start := time.Now()
	if err := send(ctx, w, q, out.IngestQueueURL, msgs); err != nil {
		return err
	}
	fmt.Fprintf(w, "    sent in %s\n", time.Since(start).Round(time.Millisecond))

	step(w, "Processing (SQS event source -> processor Lambda -> DynamoDB / DLQ)")
	ddb := dynamodb.NewFromConfig(cfg)
	store := audit.NewStore(ddb, out.AuditTableName, 90)
	stats, err := waitForDrain(ctx, w, q, out.IngestQueueURL, store, len(msgs), o.Timeout)
	if err != nil {
		return err
	}
	drained := time.Since(start)

	// The mailbox first: the summary reads the DLQ, and a read hides its
	// messages for a while, which would clear the DLQ alarm.
	if err := mailbox(ctx, w, srv, kinds[synth.Poison] > 0); err != nil {
		return err
	}
	return report(ctx, w, q, store, out, msgs, kinds, stats, drained)
}

// deploy takes the Terraform path where the aws provider can be installed,
// else the Go provisioner with the module's defaults; it says which and why.
func deploy(ctx context.Context, w io.Writer, srv *localaws.Server, cfg aws.Config, o Options) (outputs.Stack, error) {
	prefix := fmt.Sprintf("demo-%d", time.Now().Unix()%100000)
	arch := lambdazip.HostArchitecture()
	zips := provision.ZipsIn(o.ZipDir)
	for _, z := range []string{zips.Processor, zips.Maintenance} {
		if _, err := os.Stat(z); err != nil {
			return outputs.Stack{}, fmt.Errorf("%s is missing: run make build-host", z)
		}
	}

	reason := terraformPath(ctx, w, srv, o, prefix, arch)
	if out, ok := reason.outputs(); ok {
		return out, nil
	}
	step(w, "Deploying with the Go provisioner (module defaults): "+reason.why)
	// A failed apply may have left part of its stack: deploy beside it.
	s, err := provision.Load(filepath.Join(o.Root, provision.ModuleDir), prefix+"g")
	if err != nil {
		return outputs.Stack{}, err
	}
	s.LambdaArchitecture = arch
	s.AlertEmailAddresses = []string{OnCall}
	out, err := provision.New(cfg, s).Apply(ctx, zips)
	if err != nil {
		return out, fmt.Errorf("provision the stack: %w", err)
	}
	fmt.Fprintf(w, "    queue %s, table %s, functions %s and %s\n", path.Base(out.IngestQueueURL), out.AuditTableName, out.ProcessorFunctionName, out.MaintenanceFunctionName)
	return out, nil
}

type tfResult struct {
	why string
	out *outputs.Stack
}

func (r tfResult) outputs() (outputs.Stack, bool) {
	if r.out == nil {
		return outputs.Stack{}, false
	}
	return *r.out, true
}

// terraformPath applies envs/dev on the local AWS through a generated
// provider override in a temporary copy, when the provider is available.
func terraformPath(ctx context.Context, w io.Writer, srv *localaws.Server, o Options, prefix, arch string) tfResult {
	bin := tfrun.Binary(o.Root)
	if _, err := exec.LookPath(bin); err != nil {
		return tfResult{why: "no Terraform binary (" + bin + "; make tools builds OpenTofu)"}
	}
	dir, err := os.MkdirTemp("", "demo-tf-*")
	if err != nil {
		return tfResult{why: err.Error()}
	}
	defer os.RemoveAll(dir)
	if err := tfrun.CopyRoots(o.Root, dir); err != nil {
		return tfResult{why: err.Error()}
	}
	env := filepath.Join(dir, "envs", "dev")
	if err := tfrun.WriteLocalOverride(env, srv.URL); err != nil {
		return tfResult{why: err.Error()}
	}
	reason, ok, err := tfrun.Init(ctx, bin, env)
	switch {
	case err != nil:
		return tfResult{why: "terraform init failed: " + firstLine(err.Error())}
	case !ok:
		return tfResult{why: reason}
	}
	step(w, "Deploying envs/dev with "+filepath.Base(bin)+" apply (provider endpoints pointed at the local AWS)")
	// The local AWS is one region: its topics' and queues' ARNs name it
	// whatever region a call is signed for (its README, gap table), and the
	// key policy names the alert topic by ARN, so envs/dev deploys there.
	if out, err := tfrun.Run(ctx, bin, env, "apply", "-auto-approve", "-input=false", "-no-color",
		"-var", "name_prefix="+prefix, "-var", "lambda_zip_dir="+o.ZipDir, "-var", "lambda_architecture="+arch,
		"-var", "region="+srv.ClientConfig().Region, "-var", `alert_email_addresses=["`+OnCall+`"]`); err != nil {
		return tfResult{why: "terraform apply against the local AWS failed (" + firstLine(err.Error()) + "): " + tfrun.FirstError(out)}
	}
	raw, err := tfrun.Run(ctx, bin, env, "output", "-json")
	if err != nil {
		return tfResult{why: "terraform output failed: " + firstLine(err.Error())}
	}
	out, err := outputs.Decode([]byte(raw))
	if err != nil {
		return tfResult{why: "terraform outputs: " + err.Error()}
	}
	return tfResult{out: &out}
}

// send puts msgs on the queue in batches of 10 from a few senders.
func send(ctx context.Context, w io.Writer, q *sqs.Client, url string, msgs []synth.Message) error {
	batches := make(chan []synth.Message)
	var sent atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for b := range batches {
				entries := make([]sqstypes.SendMessageBatchRequestEntry, len(b))
				for i, m := range b {
					entries[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(m.Body)}
				}
				out, err := q.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
				if err == nil && len(out.Failed) > 0 {
					err = fmt.Errorf("%d messages refused: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
				}
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("send: %w", err) })
					continue
				}
				sent.Add(int64(len(b)))
			}
		})
	}
	for i := 0; i < len(msgs); i += 10 {
		batches <- msgs[i:min(i+10, len(msgs))]
		if i%500 == 0 {
			fmt.Fprintf(w, "\r    sent %d/%d", sent.Load(), len(msgs))
		}
	}
	close(batches)
	wg.Wait()
	fmt.Fprintf(w, "\r    sent %d/%d\n", sent.Load(), len(msgs))
	return firstErr
}

// waitForDrain shows progress until every message is handled and the queue is empty.
func waitForDrain(ctx context.Context, w io.Writer, q *sqs.Client, url string, store *audit.Store, sent int, timeout time.Duration) (audit.DayStats, error) {
	deadline := time.Now().Add(timeout)
	var st audit.DayStats
	emptyPolls, last, lastHandled := 0, "", int64(-1)
	for {
		var err error
		if st, err = store.DailyStats(ctx, time.Now()); err != nil {
			return st, fmt.Errorf("read stats: %w", err)
		}
		waiting, err := soak.Waiting(ctx, q, url)
		if err != nil {
			return st, err
		}
		handled := st.Total + st.Duplicates + st.Conflicts + st.Invalid
		line := fmt.Sprintf("\r    handled %4d/%d  (rows %d, duplicates %d, conflicts %d, invalid %d)  on the queue %d   ",
			handled, sent, st.Total, st.Duplicates, st.Conflicts, st.Invalid, waiting)
		if line != last {
			fmt.Fprint(w, line)
			last = line
		}
		if waiting == 0 && handled == lastHandled {
			emptyPolls++
		} else {
			emptyPolls = 0
		}
		lastHandled = handled
		// Done when every message is accounted for, or the queue has stayed
		// empty and the counters still for 3 s (a message can be handled
		// without a counter). The counters follow the rows from the table's
		// stream: they still move for a moment after the queue is empty.
		if (waiting == 0 && handled >= int64(sent)) || emptyPolls >= 12 {
			fmt.Fprintln(w)
			return st, nil
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(w)
			return st, fmt.Errorf("the queue did not drain within %s (%d messages handled of %d); see the log file", timeout, handled, sent)
		}
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
			return st, fmt.Errorf("interrupted: %w", ctx.Err())
		}
	}
}

func report(ctx context.Context, w io.Writer, q *sqs.Client, store *audit.Store, out outputs.Stack,
	msgs []synth.Message, kinds map[synth.Kind]int, st audit.DayStats, drained time.Duration,
) error {
	step(w, "Summary")
	fmt.Fprintf(w, "    %-28s %8s %8s\n", "", "observed", "sent as")
	fmt.Fprintf(w, "    %-28s %8d %8d\n", "audit rows written", st.Total, kinds[synth.Valid])
	fmt.Fprintf(w, "    %-28s %8d %8d\n", "duplicates acknowledged", st.Duplicates, kinds[synth.Duplicate])
	fmt.Fprintf(w, "    %-28s %8d %8d\n", "conflicts recorded", st.Conflicts, kinds[synth.Conflict])
	fmt.Fprintf(w, "    %-28s %8d %8d\n", "invalid, sent to the DLQ", st.Invalid, kinds[synth.Poison])

	reasons, err := dlqReasons(ctx, q, out.IngestDLQURL)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\n    DLQ by reason:")
	for _, r := range sortedKeys(reasons) {
		fmt.Fprintf(w, "      %-22s %d\n", r, reasons[r])
	}

	// Latency and throughput from every row's send and write times.
	var lat []time.Duration
	var first, last time.Time
	seen := map[string]bool{}
	var conflicted string
	for _, m := range msgs {
		if m.Kind == synth.Conflict && conflicted == "" {
			conflicted = m.TrackingID
		}
		if seen[m.TrackingID] || m.Kind == synth.Poison {
			continue
		}
		seen[m.TrackingID] = true
		rows, err := store.Trail(ctx, m.TrackingID)
		if err != nil {
			return fmt.Errorf("read trail: %w", err)
		}
		for _, r := range rows {
			sentAt, err1 := time.Parse(time.RFC3339Nano, r.SentAt)
			wrote, err2 := time.Parse(time.RFC3339Nano, r.ReceivedAt)
			if err1 != nil || err2 != nil {
				continue
			}
			lat = append(lat, wrote.Sub(sentAt))
			if first.IsZero() || sentAt.Before(first) {
				first = sentAt
			}
			if wrote.After(last) {
				last = wrote
			}
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		window := last.Sub(first)
		fmt.Fprintf(w, "\n    throughput: %d rows in %s = %.0f rows/s (all %d messages drained in %s)\n",
			len(lat), window.Round(time.Millisecond), float64(len(lat))/window.Seconds(), len(msgs), drained.Round(time.Millisecond))
		fmt.Fprintf(w, "    send-to-row latency: p50 %s, p99 %s, max %s\n",
			pct(lat, 50).Round(time.Millisecond), pct(lat, 99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	}

	if conflicted == "" && len(msgs) > 0 {
		conflicted = msgs[0].TrackingID
	}
	return trail(ctx, w, store, conflicted)
}

// trail prints one package's audit trail, latest status and conflicts.
func trail(ctx context.Context, w io.Writer, store *audit.Store, tid string) error {
	rows, err := store.Trail(ctx, tid)
	if err != nil {
		return fmt.Errorf("read trail: %w", err)
	}
	fmt.Fprintf(w, "\n    Audit trail of %s (event-time order, whatever the arrival order):\n", tid)
	for _, r := range rows {
		fmt.Fprintf(w, "      %s  %-18s %s\n", r.EventTime[:19]+"Z", r.Status, r.EventID)
	}
	if latest, ok, err := store.LatestStatus(ctx, tid); err == nil && ok {
		fmt.Fprintf(w, "    latest status: %s (event %s)\n", latest.Status, latest.EventID)
	}
	conflicts, err := store.Conflicts(ctx, tid)
	if err != nil {
		return fmt.Errorf("read conflicts: %w", err)
	}
	for _, c := range conflicts {
		fmt.Fprintf(w, "    conflict: event %s resent with other content (hash %s…), first row kept\n", c.EventID, c.PayloadHash[:12])
	}
	return nil
}

func dlqReasons(ctx context.Context, q *sqs.Client, url string) (map[string]int, error) {
	reasons := map[string]int{}
	var held []deadletter.Held
	// Reading hides the messages; give them back at once, or the DLQ would
	// look empty (and its alarm clear) until the hide ran out.
	defer func() { _ = deadletter.Release(q, url, held) }()
	for {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 120, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			return nil, fmt.Errorf("read the DLQ: %w", err)
		}
		if len(out.Messages) == 0 {
			return reasons, nil
		}
		for _, m := range out.Messages {
			held = append(held, deadletter.Held{MessageID: aws.ToString(m.MessageId), Receipt: m.ReceiptHandle})
			code := "MAX_RECEIVES_EXCEEDED"
			if v := m.MessageAttributes["ErrorCode"].StringValue; v != nil {
				code = *v
			}
			reasons[code]++
		}
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i, len(sorted))-1)]
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func step(w io.Writer, s string) { fmt.Fprintf(w, "\n==> %s\n", s) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// fileLogger writes the local AWS's own log lines to f as JSON.
func fileLogger(f *os.File) *zap.Logger {
	return zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.Lock(f), zap.InfoLevel))
}
