// Package maintenance is the scheduled job: a digest of the dead-letter
// queue, a safe redrive of transient failures, and the daily statistics.
package maintenance

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
)

// Task names accepted in a Request.
const (
	TaskDLQDigest  = "dlq-digest"
	TaskRedrive    = "redrive"
	TaskDailyStats = "daily-stats"
)

// ReasonRedrive is deadletter.ReasonRedrive, kept for the job's readers.
const ReasonRedrive = deadletter.ReasonRedrive

// Request is the invocation event. Empty Tasks means every task; empty Day
// means yesterday (UTC).
type Request struct {
	Tasks []string `json:"tasks,omitempty"`
	Day   string   `json:"day,omitempty"`
}

// Digest summarises the DLQ.
type Digest struct {
	Approximate  int            `json:"approximate_messages"`
	Sampled      int            `json:"sampled"`
	OldestAgeSec int64          `json:"oldest_age_seconds"`
	ByReason     map[string]int `json:"by_reason"`
	Samples      []Sample       `json:"samples,omitempty"`
}

// Sample is one inspected DLQ message.
type Sample struct {
	MessageID string `json:"message_id"`
	Reason    string `json:"reason"`
	Message   string `json:"error_message,omitempty"`
	AgeSec    int64  `json:"age_seconds"`
}

// RedriveResult says how many transient failures were redriven, and why
// none or not all were.
type RedriveResult struct {
	Redriven int    `json:"redriven"`
	Rate     int32  `json:"rate_per_second,omitempty"`
	Skipped  string `json:"skipped,omitempty"`
}

// Result is what one run did.
type Result struct {
	Day     string                 `json:"day"`
	Digest  *Digest                `json:"dlq_digest,omitempty"`
	Stuck   map[string]StuckStatus `json:"stuck_packages,omitempty"`
	Redrive *RedriveResult         `json:"redrive,omitempty"`
	Stats   *audit.DayStats        `json:"daily_stats,omitempty"`
}

// Queue is the part of the SQS client the job uses.
type Queue interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	deadletter.RedriveQueue
}

// Stats reads a day's counters and the status index, and keeps reports.
type Stats interface {
	DailyStats(ctx context.Context, day time.Time) (audit.DayStats, error)
	InStatus(ctx context.Context, status string, before time.Time, limit int) ([]audit.Latest, error)
	PutReport(ctx context.Context, kind, day string, report any) error
}

// Notifier publishes a short text to the alert topic.
type Notifier interface {
	Notify(ctx context.Context, subject, message string) error
}

// Metrics receives one line of run metrics.
type Metrics interface {
	Write(at time.Time, metrics map[string]emf.Metric) error
}

var _ Queue = (*sqs.Client)(nil)

// Config names the queues and the redrive policy.
type Config struct {
	DLQURL           string
	IngestQueueURL   string
	RedriveTransient bool
	RedriveRate      int32
	StuckAfter       time.Duration   // a package longer in a non-final status is stuck; 0: not checked
	FinalStatuses    []string        // statuses a package stays in for good
	MaxSample        int             // messages inspected per digest
	Hide             deadletter.Hide // how the inspected messages stay hidden; zero: deadletter.DefaultHide
}

// Job runs maintenance tasks.
type Job struct {
	queue   Queue
	stats   Stats
	notify  Notifier
	metrics Metrics
	log     *zap.Logger
	cfg     Config
	now     func() time.Time
}

// New returns a job.
func New(q Queue, s Stats, n Notifier, m Metrics, log *zap.Logger, cfg Config) *Job {
	if cfg.MaxSample <= 0 {
		cfg.MaxSample = 100
	}
	if cfg.Hide.Hide <= 0 {
		cfg.Hide = deadletter.DefaultHide
	}
	return &Job{queue: q, stats: s, notify: n, metrics: m, log: log, cfg: cfg, now: time.Now}
}

// Handle is the Lambda entry point: Run, with the request id on every log
// line and one metrics line per run. A failed task fails the invocation, so
// the schedule's retries and DLQ apply.
func (j *Job) Handle(ctx context.Context, req Request) (Result, error) {
	log := j.log
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With(zap.String("aws_request_id", lc.AwsRequestID))
	}
	run := *j
	run.log = log
	res, err := run.Run(ctx, req)
	m := map[string]emf.Metric{"Failed": {Unit: "Count"}}
	if err != nil {
		m["Failed"] = emf.Metric{Value: 1, Unit: "Count"}
	}
	if res.Digest != nil {
		m["DLQMessages"] = emf.Metric{Value: float64(res.Digest.Approximate), Unit: "Count"}
		m["DLQOldestAge"] = emf.Metric{Value: float64(res.Digest.OldestAgeSec), Unit: "Seconds"}
	}
	if werr := j.metrics.Write(j.now(), m); werr != nil {
		log.Warn("maintenance metrics not written", zap.Error(werr))
	}
	if err != nil {
		return res, err
	}
	log.Info("maintenance run done", zap.Any("result", res))
	return res, nil
}

// Run runs the requested tasks in a fixed order: digest, redrive, stats.
func (j *Job) Run(ctx context.Context, req Request) (Result, error) {
	tasks, err := normaliseTasks(req.Tasks)
	if err != nil {
		return Result{}, err
	}
	day := j.now().UTC().AddDate(0, 0, -1).Truncate(24 * time.Hour)
	if req.Day != "" {
		if day, err = time.Parse(audit.DayLayout, req.Day); err != nil {
			return Result{}, fmt.Errorf("day %q is not YYYY-MM-DD: %w", req.Day, err)
		}
	}
	res := Result{Day: day.Format(audit.DayLayout)}

	if tasks[TaskDLQDigest] || tasks[TaskRedrive] {
		in, err := j.inspect(ctx)
		if err != nil {
			return res, err
		}
		res.Digest = &in.digest
		// Only transient failures stay held, and only for a redrive.
		transient := j.holdTransient(in, tasks[TaskRedrive] && j.cfg.RedriveTransient)
		release := func() { j.release(transient) }
		if tasks[TaskDLQDigest] {
			if err := j.reportDigest(ctx, in.digest); err != nil {
				release()
				return res, err
			}
		}
		if tasks[TaskRedrive] {
			r, err := j.redrive(ctx, in, transient)
			res.Redrive = &r
			if err != nil {
				return res, err
			}
		}
	}
	if tasks[TaskDailyStats] {
		st, err := j.stats.DailyStats(ctx, day)
		if err != nil {
			return res, fmt.Errorf("daily stats: %w", err)
		}
		if err := j.stats.PutReport(ctx, "STATS", res.Day, st); err != nil {
			return res, fmt.Errorf("store daily stats: %w", err)
		}
		res.Stats = &st
		j.log.Info("daily stats stored", zap.String("day", res.Day), zap.Int64("total", st.Total))
		stuck, err := j.stuck(ctx, day)
		if err != nil {
			return res, err
		}
		if err := j.reportStuck(ctx, res.Day, stuck); err != nil {
			return res, err
		}
		res.Stuck = stuck
	}
	return res, nil
}

func normaliseTasks(names []string) (map[string]bool, error) {
	all := []string{TaskDLQDigest, TaskRedrive, TaskDailyStats}
	if len(names) == 0 {
		names = all
	}
	out := map[string]bool{}
	for _, n := range names {
		switch n {
		case TaskDLQDigest, TaskRedrive, TaskDailyStats:
			out[n] = true
		default:
			return nil, fmt.Errorf("unknown task %q; tasks are %s", n, strings.Join(all, ", "))
		}
	}
	return out, nil
}

// digest peeks at up to MaxSample DLQ messages, then makes them visible again.
// inspection is what one look at the DLQ found: the digest, and the
// inspected messages, held (hidden) since since, with their reasons.
type inspection struct {
	digest  Digest
	held    []deadletter.Held
	reasons []string
	since   time.Time
}

// inspect receives up to MaxSample DLQ messages, hidden for the job's hide,
// and digests them. On error nothing stays held.
func (j *Job) inspect(ctx context.Context) (inspection, error) {
	attrs, err := j.queue.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       &j.cfg.DLQURL,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return inspection{}, fmt.Errorf("read DLQ attributes: %w", err)
	}
	in := inspection{digest: Digest{ByReason: map[string]int{}}, since: time.Now()} // since: real time, for the hide
	now := j.now()
	d := &in.digest
	d.Approximate, _ = strconv.Atoi(attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])

	peeked, err := deadletter.Peek(ctx, j.queue, j.cfg.DLQURL, j.cfg.MaxSample, j.cfg.Hide.Hide)
	if err != nil {
		j.release(deadletter.HeldOf(peeked))
		return inspection{}, err //nolint:wrapcheck // Peek says what failed
	}
	for _, p := range peeked {
		d.Sampled++
		in.held = append(in.held, p.Held)
		in.reasons = append(in.reasons, p.Reason)
		d.ByReason[p.Reason]++
		var age int64
		if !p.SentAt.IsZero() {
			age = int64(now.Sub(p.SentAt).Seconds())
		}
		d.OldestAgeSec = max(d.OldestAgeSec, age)
		if len(d.Samples) < 5 {
			d.Samples = append(d.Samples, Sample{MessageID: p.MessageID, Reason: p.Reason, AgeSec: age, Message: p.Error})
		}
	}
	d.Approximate = max(d.Approximate, d.Sampled)
	return in, nil
}

// holdTransient releases every message in holds but the transient failures
// (all of them unless keep) and returns those still held.
func (j *Job) holdTransient(in inspection, keep bool) []deadletter.Held {
	var held, others []deadletter.Held
	for i, m := range in.held {
		if keep && in.reasons[i] == ReasonRedrive {
			held = append(held, m)
		} else {
			others = append(others, m)
		}
	}
	j.release(others)
	return held
}

// release makes held messages visible again at once.
func (j *Job) release(held []deadletter.Held) {
	if err := deadletter.Release(j.queue, j.cfg.DLQURL, held); err != nil {
		// They become visible anyway when their hide ends.
		j.log.Warn("peeked DLQ messages not released early", zap.Error(err))
	}
}

func (j *Job) reportDigest(ctx context.Context, d Digest) error {
	if err := j.stats.PutReport(ctx, "DLQDIGEST", j.now().UTC().Format(audit.DayLayout), d); err != nil {
		return fmt.Errorf("store DLQ digest: %w", err)
	}
	if d.Approximate == 0 {
		j.log.Info("DLQ is empty")
		return nil
	}
	reasons := make([]string, 0, len(d.ByReason))
	for r, n := range d.ByReason {
		reasons = append(reasons, fmt.Sprintf("%s: %d", r, n))
	}
	sort.Strings(reasons)
	msg := fmt.Sprintf("%d message(s) in the tracking DLQ, oldest %s old. By reason (of %d inspected): %s.",
		d.Approximate, time.Duration(d.OldestAgeSec)*time.Second, d.Sampled, strings.Join(reasons, ", "))
	if err := j.notify.Notify(ctx, "Tracking pipeline DLQ is not empty", msg); err != nil {
		return fmt.Errorf("publish DLQ digest: %w", err)
	}
	j.log.Warn("DLQ is not empty", zap.Int("messages", d.Approximate), zap.Any("by_reason", d.ByReason))
	return nil
}

// redriveDeadlineMargin is left of the invocation for giving back what a
// redrive still holds when the deadline stops it.
const redriveDeadlineMargin = 5 * time.Second

// redrive sends back to the ingest queue exactly the transient failures the
// inspection holds (SQS moved them after max receives; they carry no
// ErrorCode), at the configured rate; permanent failures are never touched.
// A move task is not used: it would move whatever the DLQ holds when it
// runs, including permanent failures parked after the inspection.
func (j *Job) redrive(ctx context.Context, in inspection, transient []deadletter.Held) (RedriveResult, error) {
	d := in.digest
	var notes []string
	if permanent := d.Sampled - d.ByReason[ReasonRedrive]; permanent > 0 {
		notes = append(notes, fmt.Sprintf("%d permanent failure(s) stay in the DLQ (never redriven automatically; use trackctl dlq redrive --reason)", permanent))
	}
	if d.Sampled < d.Approximate {
		notes = append(notes, fmt.Sprintf("%d message(s) not inspected this run", d.Approximate-d.Sampled))
	}
	switch {
	case !j.cfg.RedriveTransient:
		return RedriveResult{Skipped: "automatic redrive is off (maintenance_redrive_transient)"}, nil
	case d.Approximate == 0:
		return RedriveResult{Skipped: "the DLQ is empty"}, nil
	case len(transient) == 0:
		return RedriveResult{Skipped: strings.Join(append([]string{"no transient failure to redrive"}, notes...), "; ")}, nil
	}
	rctx := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		rctx, cancel = context.WithDeadline(ctx, deadline.Add(-redriveDeadlineMargin))
		defer cancel()
	}
	n, err := deadletter.Redrive(rctx, j.queue, j.cfg.DLQURL, j.cfg.IngestQueueURL, transient, in.since, int(j.cfg.RedriveRate), j.cfg.Hide)
	res := RedriveResult{Redriven: n, Rate: j.cfg.RedriveRate}
	switch {
	case errors.Is(err, deadletter.ErrInterrupted) && ctx.Err() == nil:
		notes = append(notes, fmt.Sprintf("%d transient failure(s) left for the next run (the invocation's deadline came first)", len(transient)-n))
	case err != nil:
		return res, fmt.Errorf("redrive after %d of %d: %w", n, len(transient), err)
	}
	res.Skipped = strings.Join(notes, "; ")
	j.log.Info("DLQ transient failures redriven", zap.Int("redriven", n), zap.Int("held", len(transient)), zap.Int32("rate", j.cfg.RedriveRate))
	return res, nil
}
