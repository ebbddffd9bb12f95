// Package maintenance is the scheduled job: a digest of the dead-letter
// queue, a safe redrive of transient failures, and the daily statistics.
package maintenance

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
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

// ReasonRedrive groups DLQ messages SQS moved there after max receives:
// transient failures, the only ones ever redriven automatically.
const ReasonRedrive = "MAX_RECEIVES_EXCEEDED"

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

// RedriveResult says whether a move task was started, and why not.
type RedriveResult struct {
	Started    bool   `json:"started"`
	TaskHandle string `json:"task_handle,omitempty"`
	Rate       int32  `json:"rate_per_second,omitempty"`
	Skipped    string `json:"skipped,omitempty"`
}

// Result is what one run did.
type Result struct {
	Day     string          `json:"day"`
	Digest  *Digest         `json:"dlq_digest,omitempty"`
	Redrive *RedriveResult  `json:"redrive,omitempty"`
	Stats   *audit.DayStats `json:"daily_stats,omitempty"`
}

// Queue is the part of the SQS client the job uses.
type Queue interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	StartMessageMoveTask(ctx context.Context, in *sqs.StartMessageMoveTaskInput, opts ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
}

// Stats reads a day's counters and keeps reports.
type Stats interface {
	DailyStats(ctx context.Context, day time.Time) (audit.DayStats, error)
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
	DLQARN           string
	IngestQueueARN   string
	RedriveTransient bool
	RedriveRate      int32
	MaxSample        int // messages inspected per digest
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
		d, err := j.digest(ctx)
		if err != nil {
			return res, err
		}
		res.Digest = &d
		if tasks[TaskDLQDigest] {
			if err := j.reportDigest(ctx, d); err != nil {
				return res, err
			}
		}
		if tasks[TaskRedrive] {
			r, err := j.redrive(ctx, d)
			if err != nil {
				return res, err
			}
			res.Redrive = &r
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
func (j *Job) digest(ctx context.Context) (Digest, error) {
	attrs, err := j.queue.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       &j.cfg.DLQURL,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return Digest{}, fmt.Errorf("read DLQ attributes: %w", err)
	}
	d := Digest{ByReason: map[string]int{}}
	d.Approximate, _ = strconv.Atoi(attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])

	now := j.now()
	var handles []sqstypes.ChangeMessageVisibilityBatchRequestEntry
	defer func() { j.release(context.WithoutCancel(ctx), handles) }()
	for d.Sampled < j.cfg.MaxSample {
		out, err := j.queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    &j.cfg.DLQURL,
			MaxNumberOfMessages:         int32(min(10, j.cfg.MaxSample-d.Sampled)), //nolint:gosec // at most 10
			VisibilityTimeout:           60,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameSentTimestamp},
		})
		if err != nil {
			return Digest{}, fmt.Errorf("peek at the DLQ: %w", err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			d.Sampled++
			handles = append(handles, sqstypes.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(len(handles))), ReceiptHandle: m.ReceiptHandle,
			})
			reason := ReasonRedrive
			if v := m.MessageAttributes[deadletter.AttrErrorCode].StringValue; v != nil {
				reason = *v
			}
			d.ByReason[reason]++
			var age int64
			if ms, err := strconv.ParseInt(m.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
				age = int64(now.Sub(time.UnixMilli(ms)).Seconds())
			}
			d.OldestAgeSec = max(d.OldestAgeSec, age)
			if len(d.Samples) < 5 {
				d.Samples = append(d.Samples, Sample{
					MessageID: aws.ToString(m.MessageId), Reason: reason, AgeSec: age,
					Message: aws.ToString(m.MessageAttributes[deadletter.AttrErrorMessage].StringValue),
				})
			}
		}
	}
	d.Approximate = max(d.Approximate, d.Sampled)
	return d, nil
}

// release makes peeked messages visible again at once.
func (j *Job) release(ctx context.Context, handles []sqstypes.ChangeMessageVisibilityBatchRequestEntry) {
	for start := 0; start < len(handles); start += 10 {
		batch := handles[start:min(start+10, len(handles))]
		if _, err := j.queue.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
			QueueUrl: &j.cfg.DLQURL, Entries: batch,
		}); err != nil {
			// They become visible anyway when the 60 s timeout ends.
			j.log.Warn("peeked DLQ messages not released early", zap.Error(err))
		}
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

// redrive moves the DLQ back to the ingest queue only when every inspected
// message is a transient failure: a move task cannot pick messages, and
// permanent failures must never be redriven automatically.
func (j *Job) redrive(ctx context.Context, d Digest) (RedriveResult, error) {
	switch {
	case !j.cfg.RedriveTransient:
		return RedriveResult{Skipped: "automatic redrive is off (maintenance_redrive_transient)"}, nil
	case d.Approximate == 0:
		return RedriveResult{Skipped: "the DLQ is empty"}, nil
	case d.Sampled < d.Approximate:
		return RedriveResult{Skipped: fmt.Sprintf("only %d of %d messages could be inspected; redrive by hand with trackctl", d.Sampled, d.Approximate)}, nil
	case d.ByReason[ReasonRedrive] != d.Sampled:
		return RedriveResult{Skipped: fmt.Sprintf("%d permanent failure(s) in the DLQ are never redriven automatically; use trackctl dlq redrive --reason", d.Sampled-d.ByReason[ReasonRedrive])}, nil
	}
	out, err := j.queue.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{
		SourceArn:                    &j.cfg.DLQARN,
		DestinationArn:               &j.cfg.IngestQueueARN,
		MaxNumberOfMessagesPerSecond: aws.Int32(j.cfg.RedriveRate),
	})
	if err != nil {
		return RedriveResult{}, fmt.Errorf("start DLQ redrive: %w", err)
	}
	j.log.Info("DLQ redrive started", zap.Int("messages", d.Approximate), zap.Int32("rate", j.cfg.RedriveRate))
	return RedriveResult{Started: true, TaskHandle: aws.ToString(out.TaskHandle), Rate: j.cfg.RedriveRate}, nil
}
