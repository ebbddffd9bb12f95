// Package processor handles SQS batches of tracking updates: each record is
// parsed, recorded in the audit store, or sent to the dead-letter queue with
// its reason, or reported back to SQS for a retry. Every record ends in
// exactly one of those places and its outcome is logged once.
package processor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.uber.org/zap"
	"golang.org/x/sync/semaphore"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
)

// Auditor records valid updates and counts rejected ones, each SQS message
// once however often SQS delivers it.
type Auditor interface {
	RecordBatch(ctx context.Context, entries []audit.Entry) []audit.Recorded
	CountInvalid(ctx context.Context, sentAt time.Time, messageID string) (bool, error)
	Parked(ctx context.Context, messageID string) (bool, error)
}

// DeadLetters takes messages that can never be processed.
type DeadLetters interface {
	Send(ctx context.Context, body string, r deadletter.Reason) error
}

// Metrics receives one line of batch metrics.
type Metrics interface {
	Write(at time.Time, metrics map[string]emf.Metric) error
}

var (
	_ Auditor     = (*audit.Store)(nil)
	_ DeadLetters = (*deadletter.Sender)(nil)
	_ Metrics     = (*emf.Writer)(nil)
)

// Outcome is where one record ended.
type Outcome string

// Outcomes, as logged in the outcome field.
const (
	OutcomeWritten   Outcome = "written"   // audit row written
	OutcomeDuplicate Outcome = "duplicate" // seen before, acknowledged
	OutcomeConflict  Outcome = "conflict"  // same event id, other content: recorded apart, acknowledged
	OutcomeRejected  Outcome = "rejected"  // permanent error: in the DLQ with its reason, acknowledged
	OutcomeRetry     Outcome = "retry"     // transient error: left on the queue
	OutcomeDeferred  Outcome = "deferred"  // not started before the deadline: left on the queue
	// OutcomeRedelivered: an earlier delivery of this very message was
	// settled (its delete failed, or the function died after settling it);
	// acknowledged, nothing written or counted again.
	OutcomeRedelivered Outcome = "redelivered"
)

// errorCodeAuditRejected is the DLQ error code of an update DynamoDB refuses.
const errorCodeAuditRejected = "AUDIT_REJECTED"

// Config tunes a Handler.
type Config struct {
	MaxConcurrency int           // writes in flight at once: rows being written and invalid records going to the DLQ
	GroupSize      int           // valid updates written side by side in one job; 0 or more than audit.MaxBatchWrites means that, and never more than MaxConcurrency
	DeadlineMargin time.Duration // no job starts closer than this to the deadline
}

// Handler processes SQS batches. It is safe for concurrent use.
type Handler struct {
	auditor Auditor
	dlq     DeadLetters
	metrics Metrics
	log     *zap.Logger
	cfg     Config
	now     func() time.Time
}

// New returns a handler.
func New(a Auditor, d DeadLetters, m Metrics, log *zap.Logger, cfg Config) *Handler {
	if cfg.MaxConcurrency < 1 {
		cfg.MaxConcurrency = 1
	}
	if cfg.GroupSize < 1 || cfg.GroupSize > audit.MaxBatchWrites {
		cfg.GroupSize = audit.MaxBatchWrites
	}
	cfg.GroupSize = min(cfg.GroupSize, cfg.MaxConcurrency)
	return &Handler{auditor: a, dlq: d, metrics: m, log: log, cfg: cfg, now: time.Now}
}

// result is what processing one record gave.
type result struct {
	outcome  Outcome
	parsed   bool          // the body is a valid update
	eventAge time.Duration // now - event_time, when parsed
	queueAge time.Duration // now - SentTimestamp
}

// record is one SQS record on its way: parsed, or with the reason it is
// invalid, and its logger carrying its correlation fields.
type record struct {
	msg    *events.SQSMessage
	log    *zap.Logger
	sentAt time.Time
	entry  audit.Entry
	bad    *contract.Error // nil when the body is a valid update
}

// ErrBatchFailed is returned when no record of a batch was settled and at
// least one failed: the failure is systemic (the table or the DLQ is down),
// so the invocation fails and Lambda's Errors metric, and the alarm on it,
// show it within one period. SQS then returns the whole batch, as it would
// have the listed failures. (AWS's batch utilities do the same: "if all
// records fail, the batch processor raises an error".)
var ErrBatchFailed = errors.New("every record of the batch failed")

// Handle processes a batch and reports the records to retry as batch item
// failures. When none was settled and at least one failed it also returns
// ErrBatchFailed; records only deferred (the deadline came before they
// started) fail nothing.
//
// Each record is parsed; an invalid one is a job of its own (to the DLQ),
// valid ones are written in groups of cfg.GroupSize, each group one job
// whose rows are written side by side, one conditional PutItem each. At
// most cfg.MaxConcurrency writes are in flight at once, whatever the batch
// size: a batch of 100 runs one group of 10 at a time by default, as a
// batch of 10 does (measured in make bench: 65% of the local ceiling with
// 100 writes in flight per invocation, 78% with 10).
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	log := h.log
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With(zap.String("aws_request_id", lc.AwsRequestID))
	}

	// Stop starting jobs at stopAt; cut in-flight calls at cutAt, leaving
	// half the margin to report back before Lambda's own timeout.
	stopAt, hasDeadline := time.Time{}, false
	if deadline, ok := ctx.Deadline(); ok {
		hasDeadline = true
		stopAt = deadline.Add(-h.cfg.DeadlineMargin)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-h.cfg.DeadlineMargin/2))
		defer cancel()
	}

	results := make([]result, len(ev.Records))
	recs := make([]record, len(ev.Records))
	var jobs [][]int // indexes into recs: one invalid record, or a group of valid ones
	var group []int
	for i := range ev.Records {
		recs[i], results[i] = h.parse(log, &ev.Records[i])
		if recs[i].bad != nil {
			jobs = append(jobs, []int{i})
			continue
		}
		if group = append(group, i); len(group) == h.cfg.GroupSize {
			jobs, group = append(jobs, group), nil
		}
	}
	if len(group) > 0 {
		jobs = append(jobs, group)
	}

	// A job holds a unit of the pool per write it has in flight: one for a
	// rejection, one per row of a group (written side by side). Jobs start
	// in order (the semaphore is first come, first served).
	pool := semaphore.NewWeighted(int64(h.cfg.MaxConcurrency))
	var wg sync.WaitGroup
	for _, job := range jobs {
		units := int64(len(job))
		if err := pool.Acquire(ctx, units); err != nil { // the cut came first: not started
			h.deferJob(recs, results, job)
			continue
		}
		wg.Go(func() {
			defer pool.Release(units)
			if hasDeadline && !h.now().Before(stopAt) {
				h.deferJob(recs, results, job)
				return
			}
			if r := &recs[job[0]]; r.bad != nil {
				results[job[0]].outcome = h.reject(ctx, r, string(r.bad.Code), r.bad.Error())
				return
			}
			h.write(ctx, recs, job, results)
		})
	}
	wg.Wait()

	var resp events.SQSEventResponse
	for i, r := range results {
		if r.outcome == OutcomeRetry || r.outcome == OutcomeDeferred {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	if err := h.metrics.Write(h.now(), batchMetrics(results)); err != nil {
		log.Warn("batch metrics not written", zap.Error(err))
	}
	if failed := systemicFailure(results); failed > 0 {
		err := fmt.Errorf("%w: %d of %d records failed, none settled", ErrBatchFailed, failed, len(results))
		log.Error("batch failed", zap.Int("records", len(results)), zap.Error(err))
		return resp, err
	}
	return resp, nil
}

// deferJob leaves a job's records to SQS's retry: the deadline is near.
func (h *Handler) deferJob(recs []record, results []result, job []int) {
	for _, i := range job {
		results[i].outcome = OutcomeDeferred
		recs[i].log.Warn("record deferred: invocation deadline is near", zap.String("outcome", string(OutcomeDeferred)))
	}
}

// systemicFailure returns how many records failed when none was settled
// (deferred records were not tried), else 0.
func systemicFailure(results []result) int {
	failed := 0
	for _, r := range results {
		switch r.outcome {
		case OutcomeRetry:
			failed++
		case OutcomeDeferred:
		default:
			return 0
		}
	}
	return failed
}

// parse reads one record's body into an audit entry, or the reason it is invalid.
func (h *Handler) parse(log *zap.Logger, msg *events.SQSMessage) (record, result) {
	now := h.now()
	r := record{msg: msg, log: log.With(zap.String("message_id", msg.MessageId)), sentAt: msAttr(msg.Attributes, "SentTimestamp", now)}
	res := result{queueAge: now.Sub(r.sentAt)}
	u, err := contract.Parse([]byte(msg.Body))
	if err != nil {
		var ok bool
		if r.bad, ok = contract.AsError(err); !ok { // Parse says why in a *contract.Error; never lose one that does not
			r.bad = &contract.Error{Code: contract.CodeMalformedJSON, Reason: err.Error()}
		}
		return r, res
	}
	r.log = r.log.With(zap.String("tracking_id", u.TrackingID), zap.String("event_id", u.EventID))
	r.entry = audit.Entry{Update: u, Payload: msg.Body, MessageID: msg.MessageId, SentAt: r.sentAt}
	res.parsed, res.eventAge = true, now.Sub(u.EventTime)
	return r, res
}

// write records a group of valid updates and logs each one's outcome once.
func (h *Handler) write(ctx context.Context, recs []record, group []int, results []result) {
	entries := make([]audit.Entry, len(group))
	for k, i := range group {
		entries[k] = recs[i].entry
	}
	for k, got := range h.auditor.RecordBatch(ctx, entries) {
		r, res := &recs[group[k]], &results[group[k]]
		switch {
		case errors.Is(got.Err, audit.ErrRejected):
			res.outcome = h.reject(ctx, r, errorCodeAuditRejected, got.Err.Error())
		case got.Err != nil:
			res.outcome = OutcomeRetry
			r.log.Warn("record left for retry", zap.String("outcome", string(res.outcome)), zap.Error(got.Err))
		case got.Result == audit.Conflict:
			res.outcome = OutcomeConflict
			r.log.Warn("event id reused with other content; first row kept, conflict recorded",
				zap.String("outcome", string(res.outcome)), zap.String("payload_hash", r.entry.Update.PayloadHash))
		case got.Result == audit.Duplicate:
			res.outcome = OutcomeDuplicate
			r.log.Info("duplicate acknowledged", zap.String("outcome", string(res.outcome)))
		case got.Result == audit.Redelivered:
			res.outcome = OutcomeRedelivered
			r.log.Info("redelivery of a recorded message acknowledged", zap.String("outcome", string(res.outcome)))
		default:
			res.outcome = OutcomeWritten
			r.log.Info("audit row written", zap.String("outcome", string(res.outcome)), zap.String("status", r.entry.Update.Status))
		}
	}
}

// reject sends a record that can never succeed to the DLQ and acknowledges
// it; when the DLQ cannot take it, the record stays on its queue. A
// redelivery of a message parked before is only acknowledged. (The one
// window left: a function that dies between the DLQ send and the count
// that marks it parked leaves the message to be parked again; the copies
// share the reason's original message id.)
func (h *Handler) reject(ctx context.Context, r *record, code, reason string) Outcome {
	rec, log := r.msg, r.log
	parked, err := h.auditor.Parked(ctx, rec.MessageId)
	switch {
	case err != nil:
		log.Warn("rejected record left for retry: parked mark unread",
			zap.String("outcome", string(OutcomeRetry)), zap.String("error_code", code), zap.Error(err))
		return OutcomeRetry
	case parked:
		log.Info("redelivery of a parked message acknowledged", zap.String("outcome", string(OutcomeRedelivered)))
		return OutcomeRedelivered
	}
	err = h.dlq.Send(ctx, rec.Body, deadletter.Reason{
		Code:              code,
		Message:           reason,
		OriginalMessageID: rec.MessageId,
		ReceiveCount:      rec.Attributes["ApproximateReceiveCount"],
		FirstSeen:         msAttr(rec.Attributes, "ApproximateFirstReceiveTimestamp", time.Time{}),
		SourceQueueARN:    rec.EventSourceARN,
	})
	if err != nil {
		log.Warn("rejected record left for retry: DLQ send failed",
			zap.String("outcome", string(OutcomeRetry)), zap.String("error_code", code), zap.Error(err))
		return OutcomeRetry
	}
	if _, err := h.auditor.CountInvalid(ctx, r.sentAt, rec.MessageId); err != nil {
		// The message is safe in the DLQ; only the day's invalid counter is
		// short (and a redelivery would park it again).
		log.Warn("invalid counter not updated", zap.Error(err))
	}
	log.Warn("record rejected to the DLQ", zap.String("outcome", string(OutcomeRejected)),
		zap.String("error_code", code), zap.String("reason", reason))
	return OutcomeRejected
}

func batchMetrics(results []result) map[string]emf.Metric {
	counts := map[Outcome]float64{}
	var maxEvent, maxQueue, sumEvent, sumQueue time.Duration
	var valid int
	for _, r := range results {
		counts[r.outcome]++
		if r.outcome == OutcomeDeferred {
			continue
		}
		maxQueue = max(maxQueue, r.queueAge)
		sumQueue += r.queueAge
		if r.parsed {
			valid++
			maxEvent = max(maxEvent, r.eventAge)
			sumEvent += r.eventAge
		}
	}
	started := len(results) - int(counts[OutcomeDeferred])
	m := map[string]emf.Metric{
		"BatchSize":   {Value: float64(len(results)), Unit: "Count"},
		"Processed":   {Value: counts[OutcomeWritten], Unit: "Count"},
		"Duplicates":  {Value: counts[OutcomeDuplicate], Unit: "Count"},
		"Conflicts":   {Value: counts[OutcomeConflict], Unit: "Count"},
		"Invalid":     {Value: counts[OutcomeRejected], Unit: "Count"},
		"Retried":     {Value: counts[OutcomeRetry] + counts[OutcomeDeferred], Unit: "Count"},
		"Deferred":    {Value: counts[OutcomeDeferred], Unit: "Count"},
		"Redelivered": {Value: counts[OutcomeRedelivered], Unit: "Count"},
	}
	if started > 0 {
		m["QueueAgeMax"] = emf.Metric{Value: ms(maxQueue), Unit: "Milliseconds"}
		m["QueueAgeAvg"] = emf.Metric{Value: ms(sumQueue) / float64(started), Unit: "Milliseconds"}
	}
	if valid > 0 {
		m["EventAgeMax"] = emf.Metric{Value: ms(maxEvent), Unit: "Milliseconds"}
		m["EventAgeAvg"] = emf.Metric{Value: ms(sumEvent) / float64(valid), Unit: "Milliseconds"}
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// msAttr reads an SQS system attribute holding epoch milliseconds.
func msAttr(attrs map[string]string, name string, def time.Time) time.Time {
	v, err := strconv.ParseInt(attrs[name], 10, 64)
	if err != nil {
		return def
	}
	return time.UnixMilli(v)
}
