package trackctl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/synth"
	"github.com/tracking-pipeline/tracking-pipeline/internal/maintenance"
)

func runSend(ctx context.Context, args []string, io IO) error {
	var c common
	fs := newFlags("send", io, &c, false)
	file := fs.String("file", "-", "NDJSON file of updates, - for stdin")
	generate := fs.Int("generate", 0, "send N synthetic updates instead of reading input")
	seed := fs.Uint64("seed", 1, "seed of --generate")
	rate := fs.Float64("rate", 0, "messages per second, 0 for as fast as possible")
	retries := fs.Int("retries", 3, "retries of entries SQS refuses")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var lines []line
	switch {
	case *generate < 0:
		return fmt.Errorf("%w: --generate must be positive", ErrUsage)
	case *generate > 0:
		for i, m := range synth.Generate(synth.Options{Seed: *seed, Count: *generate}) {
			lines = append(lines, line{n: i + 1, body: m.Body})
		}
	default:
		in := io.In
		if *file != "-" {
			f, err := os.Open(*file)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrUsage, err)
			}
			defer f.Close()
			in = f
		}
		var err error
		if lines, err = readNDJSON(in); err != nil {
			return err
		}
	}
	s, err := c.stack.resolve(ctx)
	if err != nil {
		return err
	}
	if err := need("ingest queue URL", s.IngestQueueURL, "--ingest-queue-url"); err != nil {
		return err
	}
	cl, err := newClients(ctx, c.stack.Endpoint)
	if err != nil {
		return err
	}
	notSent := sendLines(ctx, cl.sqs, s.IngestQueueURL, lines, *rate, *retries, io.Err)
	fmt.Fprintf(io.Out, "sent %d of %d updates to %s\n", len(lines)-len(notSent), len(lines), s.IngestQueueURL)
	if len(notSent) > 0 {
		nums := make([]string, 0, len(notSent))
		for _, l := range notSent {
			nums = append(nums, strconv.Itoa(l.n))
		}
		return fmt.Errorf("%d update(s) NOT sent, at line(s) %s: send them again", len(notSent), strings.Join(nums, ", "))
	}
	return nil
}

// sendLines sends in batches of 10 at rate, retrying refused entries, with a
// progress bar; it returns the lines that could not be sent.
func sendLines(ctx context.Context, q *sqs.Client, url string, lines []line, rate float64, retries int, progress io.Writer) []line {
	var notSent []line
	start := time.Now()
	sent := 0
	for i := 0; i < len(lines); i += 10 {
		batch := lines[i:min(i+10, len(lines))]
		if rate > 0 {
			due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			select {
			case <-time.After(time.Until(due)):
			case <-ctx.Done():
				return append(notSent, lines[i:]...)
			}
		}
		for attempt := 0; len(batch) > 0; attempt++ {
			entries := make([]sqstypes.SendMessageBatchRequestEntry, len(batch))
			byID := map[string]line{}
			for j, l := range batch {
				id := strconv.Itoa(l.n)
				entries[j] = sqstypes.SendMessageBatchRequestEntry{Id: &id, MessageBody: aws.String(l.body)}
				byID[id] = l
			}
			out, err := q.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
			var failed []line
			if err != nil {
				failed = batch
			} else {
				for _, f := range out.Failed {
					failed = append(failed, byID[aws.ToString(f.Id)])
				}
			}
			sent += len(batch) - len(failed)
			if len(failed) == 0 || attempt >= retries {
				notSent = append(notSent, failed...)
				break
			}
			batch = failed
			time.Sleep(time.Duration(100<<attempt) * time.Millisecond) // backoff between retries of refused entries
		}
		bar(progress, sent, len(lines), time.Since(start))
	}
	fmt.Fprintln(progress)
	return notSent
}

func bar(w io.Writer, done, total int, elapsed time.Duration) {
	const width = 30
	filled := width * done / max(total, 1)
	fmt.Fprintf(w, "\r[%s%s] %d/%d  %.0f msgs/s", strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		done, total, float64(done)/max(elapsed.Seconds(), 0.001))
}

type auditView struct {
	TrackingID string                 `json:"tracking_id"`
	Latest     *audit.Latest          `json:"latest,omitempty"`
	Trail      []audit.Row            `json:"trail"`
	Conflicts  []audit.ConflictRecord `json:"conflicts"`
}

func runAudit(ctx context.Context, args []string, io IO) error {
	var c common
	fs := newFlags("audit", io, &c, true)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: give exactly one tracking id", ErrUsage)
	}
	if err := c.checkOutput(); err != nil {
		return err
	}
	s, cl, err := c.setup(ctx, "audit table", func(s Stack) string { return s.AuditTableName }, "--table")
	if err != nil {
		return err
	}
	store := cl.store(s)
	v := auditView{TrackingID: pos[0]}
	if v.Trail, err = store.Trail(ctx, pos[0]); err != nil {
		return err //nolint:wrapcheck // audit errors carry their context
	}
	if v.Conflicts, err = store.Conflicts(ctx, pos[0]); err != nil {
		return err //nolint:wrapcheck // as above
	}
	if latest, ok, err := store.LatestStatus(ctx, pos[0]); err != nil {
		return err //nolint:wrapcheck // as above
	} else if ok {
		v.Latest = &latest
	}
	return c.emit(io.Out, v, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "EVENT TIME\tSTATUS\tEVENT ID\tMESSAGE ID\tRECEIVED\n")
		for _, r := range v.Trail {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.EventTime, r.Status, r.EventID, r.MessageID, r.ReceivedAt)
		}
		if v.Latest != nil {
			fmt.Fprintf(tw, "\nlatest status:\t%s\t%s\t\t\n", v.Latest.Status, v.Latest.EventID)
		} else {
			fmt.Fprintf(tw, "\nno updates recorded for %s\n", v.TrackingID)
		}
		for _, cr := range v.Conflicts {
			fmt.Fprintf(tw, "conflict:\tevent %s resent with other content\t%s\t%s\t\n", cr.EventID, cr.MessageID, cr.ReceivedAt)
		}
	})
}

// setup resolves the stack, checks the resource a command needs, and builds clients.
func (c *common) setup(ctx context.Context, what string, get func(Stack) string, flagName string) (Stack, *clients, error) {
	s, err := c.stack.resolve(ctx)
	if err != nil {
		return s, nil, err
	}
	if err := need(what, get(s), flagName); err != nil {
		return s, nil, err
	}
	cl, err := newClients(ctx, c.stack.Endpoint)
	return s, cl, err
}

// dlqMessage is one peeked DLQ message.
type dlqMessage struct {
	MessageID  string `json:"message_id"`
	Reason     string `json:"reason"`
	Error      string `json:"error,omitempty"`
	TrackingID string `json:"tracking_id,omitempty"`
	AgeSeconds int64  `json:"age_seconds"`
	Body       string `json:"body"`

	receipt *string
}

// peekDLQ receives up to limit messages, hidden for hide; release makes them visible.
func peekDLQ(ctx context.Context, q *sqs.Client, url string, limit int, hide time.Duration) ([]dlqMessage, error) {
	peeked, err := deadletter.Peek(ctx, q, url, limit, hide)
	now := time.Now()
	out := make([]dlqMessage, 0, len(peeked))
	for _, p := range peeked {
		d := dlqMessage{MessageID: p.MessageID, Reason: p.Reason, Error: p.Error, Body: p.Body, receipt: p.Receipt}
		if !p.SentAt.IsZero() {
			d.AgeSeconds = int64(now.Sub(p.SentAt).Seconds())
		}
		var body struct {
			TrackingID string `json:"tracking_id"`
		}
		if json.Unmarshal([]byte(d.Body), &body) == nil {
			d.TrackingID = body.TrackingID
		}
		out = append(out, d)
	}
	return out, err //nolint:wrapcheck // Peek says what failed; what it received is returned with it
}

// release makes messages visible again at once; the DLQ keeps them either way.
func release(q *sqs.Client, url string, msgs []dlqMessage) {
	_ = deadletter.Release(q, url, held(msgs))
}

func runDLQList(ctx context.Context, args []string, io IO) error {
	var c common
	fs := newFlags("dlq list", io, &c, true)
	limit := fs.Int("max", 100, "messages to inspect")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := c.checkOutput(); err != nil {
		return err
	}
	s, cl, err := c.setup(ctx, "DLQ URL", func(s Stack) string { return s.IngestDLQURL }, "--dlq-url")
	if err != nil {
		return err
	}
	msgs, err := peekDLQ(ctx, cl.sqs, s.IngestDLQURL, *limit, time.Minute)
	release(cl.sqs, s.IngestDLQURL, msgs)
	if err != nil {
		return err
	}
	byReason := map[string]int{}
	for _, m := range msgs {
		byReason[m.Reason]++
	}
	return c.emit(io.Out, map[string]any{"messages": msgs, "by_reason": byReason}, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "MESSAGE ID\tREASON\tAGE\tTRACKING ID\tERROR\n")
		for _, m := range msgs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.MessageID, m.Reason, time.Duration(m.AgeSeconds)*time.Second, m.TrackingID, truncate(m.Error, 60))
		}
		reasons := make([]string, 0, len(byReason))
		for r := range byReason {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		fmt.Fprintf(tw, "\n%d message(s)", len(msgs))
		for _, r := range reasons {
			fmt.Fprintf(tw, ", %s: %d", r, byReason[r])
		}
		fmt.Fprintln(tw)
	})
}

func runDLQRedrive(ctx context.Context, args []string, io IO) error {
	var c common
	fs := newFlags("dlq redrive", io, &c, false)
	reason := fs.String("reason", "", "redrive only messages with this reason (ErrorCode, or MAX_RECEIVES_EXCEEDED); default all, with a move task")
	rate := fs.Int("rate", 10, "messages per second (1-500)")
	dryRun := fs.Bool("dry-run", false, "say what would move, move nothing")
	limit := fs.Int("max", 1000, "most messages to inspect with --reason")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *rate < 1 || *rate > 500 {
		return fmt.Errorf("%w: --rate must be from 1 to 500", ErrUsage)
	}
	s, cl, err := c.setup(ctx, "DLQ URL", func(s Stack) string { return s.IngestDLQURL }, "--dlq-url")
	if err != nil {
		return err
	}
	if *reason == "" {
		return redriveAll(ctx, io, cl, s, int32(*rate), *dryRun) //nolint:gosec // checked 1-500
	}
	if err := need("ingest queue URL", s.IngestQueueURL, "--ingest-queue-url"); err != nil {
		return err
	}
	plan := reasonRedrive{reason: *reason, limit: *limit, rate: *rate, dryRun: *dryRun, hide: deadletter.DefaultHide}
	res, err := plan.run(ctx, cl.sqs, s.IngestDLQURL, s.IngestQueueURL)
	switch {
	case err != nil:
		return fmt.Errorf("redrive stopped after %d of %d (the rest stay in the DLQ): %w", res.moved, res.matched, err)
	case *dryRun:
		fmt.Fprintf(io.Out, "dry run: %d of %d inspected message(s) have reason %s and would be redriven\n", res.matched, res.inspected, *reason)
	default:
		fmt.Fprintf(io.Out, "redrove %d message(s) with reason %s; %d other(s) left in the DLQ\n", res.moved, *reason, res.inspected-res.matched)
	}
	return nil
}

func redriveAll(ctx context.Context, io IO, cl *clients, s Stack, rate int32, dryRun bool) error {
	if err := need("DLQ ARN", s.IngestDLQARN, "--dlq-arn"); err != nil {
		return err
	}
	if dryRun {
		attrs, err := cl.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &s.IngestDLQURL,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
		if err != nil {
			return fmt.Errorf("count DLQ messages: %w", err)
		}
		fmt.Fprintf(io.Out, "dry run: a move task would redrive about %s message(s) at %d/s\n", attrs.Attributes["ApproximateNumberOfMessages"], rate)
		return nil
	}
	in := &sqs.StartMessageMoveTaskInput{SourceArn: &s.IngestDLQARN, MaxNumberOfMessagesPerSecond: &rate}
	if s.IngestQueueARN != "" {
		in.DestinationArn = &s.IngestQueueARN
	}
	out, err := cl.sqs.StartMessageMoveTask(ctx, in)
	if err != nil {
		return fmt.Errorf("start the move task: %w", err)
	}
	fmt.Fprintf(io.Out, "move task %s started at %d/s; follow it with trackctl dlq list\n", aws.ToString(out.TaskHandle), rate)
	return nil
}

func runStats(ctx context.Context, args []string, io IO) error {
	var c common
	fs := newFlags("stats", io, &c, true)
	day := fs.String("day", time.Now().UTC().Format(audit.DayLayout), "UTC day, YYYY-MM-DD")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := c.checkOutput(); err != nil {
		return err
	}
	d, err := time.Parse(audit.DayLayout, *day)
	if err != nil {
		return fmt.Errorf("%w: --day must be YYYY-MM-DD, got %q", ErrUsage, *day)
	}
	s, cl, err := c.setup(ctx, "audit table", func(s Stack) string { return s.AuditTableName }, "--table")
	if err != nil {
		return err
	}
	st, err := cl.store(s).DailyStats(ctx, d)
	if err != nil {
		return err //nolint:wrapcheck // audit errors carry their context
	}
	return c.emit(io.Out, st, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "day\t%s\nrows written\t%d\nduplicates\t%d\nconflicts\t%d\ninvalid\t%d\n", st.Day, st.Total, st.Duplicates, st.Conflicts, st.Invalid)
		for _, name := range st.Statuses() {
			fmt.Fprintf(tw, "  %s\t%d\n", name, st.ByStatus[name])
		}
	})
}

func runMaintenance(ctx context.Context, args []string, io IO) error {
	var c common
	fs := newFlags("maintenance run", io, &c, false)
	day := fs.String("day", "", "UTC day for the stats, YYYY-MM-DD (default yesterday)")
	tasks := fs.String("tasks", "", "comma-separated tasks: dlq-digest, redrive, daily-stats (default all)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	req := maintenance.Request{Day: *day}
	if *tasks != "" {
		req.Tasks = strings.Split(*tasks, ",")
	}
	s, cl, err := c.setup(ctx, "maintenance function", func(s Stack) string { return s.MaintenanceFunctionName }, "--maintenance-function")
	if err != nil {
		return err
	}
	payload, _ := json.Marshal(req)
	out, err := cl.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: &s.MaintenanceFunctionName, Payload: payload})
	if err != nil {
		return fmt.Errorf("invoke %s: %w", s.MaintenanceFunctionName, err)
	}
	if out.FunctionError != nil {
		return fmt.Errorf("maintenance failed: %s", out.Payload)
	}
	fmt.Fprintln(io.Out, string(out.Payload))
	return nil
}

// truncate shortens s to n runes for a table cell.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
