package processor_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
	"github.com/tracking-pipeline/tracking-pipeline/internal/processor"
)

// fakeAuditor answers each entry by tracking id: results[tid] or errs[tid].
type fakeAuditor struct {
	mu       sync.Mutex
	results  map[string]audit.Result
	errs     map[string]error
	entries  []audit.Entry
	groups   [][]string // message ids of each RecordBatch call
	invalid  int
	parked   map[string]bool // message ids counted invalid
	parkErr  error           // Parked's answer when set
	inFlight atomic.Int32    // entries being recorded
	peak     atomic.Int32
	hold     chan struct{} // when set, RecordBatch waits for it or for ctx
	entered  chan struct{} // when set, RecordBatch signals it on entry
}

func (f *fakeAuditor) RecordBatch(ctx context.Context, entries []audit.Entry) []audit.Recorded {
	n := f.inFlight.Add(int32(len(entries))) //nolint:gosec // a batch holds at most 10,000 records
	defer f.inFlight.Add(-int32(len(entries)))
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	out := make([]audit.Recorded, len(entries))
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
			for i := range out {
				out[i].Err = fmt.Errorf("record: %w", ctx.Err())
			}
			return out
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for i, e := range entries {
		f.entries = append(f.entries, e)
		ids = append(ids, e.MessageID)
		out[i].Result = audit.Written
		if err := f.errs[e.Update.TrackingID]; err != nil {
			out[i] = audit.Recorded{Err: err}
		} else if r, ok := f.results[e.Update.TrackingID]; ok {
			out[i].Result = r
		}
	}
	f.groups = append(f.groups, ids)
	return out
}

func (f *fakeAuditor) CountInvalid(_ context.Context, _ time.Time, messageID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.parked[messageID] {
		return false, nil
	}
	if f.parked == nil {
		f.parked = map[string]bool{}
	}
	f.parked[messageID] = true
	f.invalid++
	return true, nil
}

func (f *fakeAuditor) Parked(_ context.Context, messageID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.parked[messageID], f.parkErr
}

type sentLetter struct {
	body   string
	reason deadletter.Reason
}

type fakeDLQ struct {
	mu   sync.Mutex
	err  error
	sent []sentLetter
}

func (f *fakeDLQ) Send(_ context.Context, body string, r deadletter.Reason) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, sentLetter{body, r})
	return nil
}

type fakeMetrics struct{ lines []map[string]emf.Metric }

func (f *fakeMetrics) Write(_ time.Time, m map[string]emf.Metric) error {
	f.lines = append(f.lines, m)
	return nil
}

func body(tid string) string {
	return fmt.Sprintf(`{"tracking_id":%q,"status":"IN_TRANSIT","event_time":"2026-11-25T14:03:00Z"}`, tid)
}

func record(id, body string) events.SQSMessage {
	return events.SQSMessage{
		MessageId:      id,
		Body:           body,
		EventSourceARN: "arn:aws:sqs:eu-west-1:111122223333:tp-ingest",
		Attributes: map[string]string{
			"SentTimestamp":                    strconv.FormatInt(time.Now().Add(-time.Second).UnixMilli(), 10),
			"ApproximateReceiveCount":          "1",
			"ApproximateFirstReceiveTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10),
		},
	}
}

func failedIDs(resp events.SQSEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestHandleOutcomes(t *testing.T) {
	t.Parallel()
	throttled := errors.New("ProvisionedThroughputExceededException: rate exceeded")
	tests := []struct {
		name        string
		records     []events.SQSMessage
		results     map[string]audit.Result
		errs        map[string]error
		dlqErr      error
		parked      []string // message ids parked by an earlier delivery
		parkErr     error
		wantFailed  []string
		wantErr     bool              // the invocation fails: nothing settled, something failed
		wantDLQ     map[string]string // message id -> error code
		wantOutcome map[string]string // message id -> logged outcome
		wantMetric  map[string]float64
	}{
		{
			name:        "written",
			records:     []events.SQSMessage{record("m1", body("T1"))},
			wantFailed:  []string{},
			wantOutcome: map[string]string{"m1": "written"},
			wantMetric:  map[string]float64{"Processed": 1, "Retried": 0},
		},
		{
			name:        "duplicate is acknowledged",
			records:     []events.SQSMessage{record("m1", body("T1"))},
			results:     map[string]audit.Result{"T1": audit.Duplicate},
			wantFailed:  []string{},
			wantOutcome: map[string]string{"m1": "duplicate"},
			wantMetric:  map[string]float64{"Duplicates": 1, "Processed": 0},
		},
		{
			name:        "redelivery of a written message is acknowledged, not counted",
			records:     []events.SQSMessage{record("m1", body("T1"))},
			results:     map[string]audit.Result{"T1": audit.Redelivered},
			wantFailed:  []string{},
			wantOutcome: map[string]string{"m1": "redelivered"},
			wantMetric:  map[string]float64{"Redelivered": 1, "Duplicates": 0, "Processed": 0},
		},
		{
			name:        "redelivery of a parked message is not parked again",
			records:     []events.SQSMessage{record("m1", `not json`)},
			parked:      []string{"m1"},
			wantFailed:  []string{},
			wantOutcome: map[string]string{"m1": "redelivered"},
			wantMetric:  map[string]float64{"Redelivered": 1, "Invalid": 0},
		},
		{
			name:        "a poison message whose parked mark cannot be read stays on its queue",
			records:     []events.SQSMessage{record("m1", `not json`), record("m2", body("T2"))},
			parkErr:     errors.New("ProvisionedThroughputExceededException"),
			wantFailed:  []string{"m1"},
			wantOutcome: map[string]string{"m1": "retry", "m2": "written"},
		},
		{
			name:        "conflict is acknowledged",
			records:     []events.SQSMessage{record("m1", body("T1"))},
			results:     map[string]audit.Result{"T1": audit.Conflict},
			wantFailed:  []string{},
			wantOutcome: map[string]string{"m1": "conflict"},
			wantMetric:  map[string]float64{"Conflicts": 1},
		},
		{
			name:        "malformed json goes to the DLQ, not retried",
			records:     []events.SQSMessage{record("m1", `{"tracking_id":`)},
			wantFailed:  []string{},
			wantDLQ:     map[string]string{"m1": "MALFORMED_JSON"},
			wantOutcome: map[string]string{"m1": "rejected"},
			wantMetric:  map[string]float64{"Invalid": 1},
		},
		{
			name:        "contract violation goes to the DLQ",
			records:     []events.SQSMessage{record("m1", `{"tracking_id":"T1","status":"lower","event_time":"2026-11-25T14:03:00Z"}`)},
			wantFailed:  []string{},
			wantDLQ:     map[string]string{"m1": "CONTRACT_VIOLATION"},
			wantOutcome: map[string]string{"m1": "rejected"},
		},
		{
			name:        "transient store error is retried, not sent to the DLQ",
			records:     []events.SQSMessage{record("m1", body("T1")), record("m2", body("T2"))},
			errs:        map[string]error{"T2": throttled},
			wantFailed:  []string{"m2"},
			wantOutcome: map[string]string{"m1": "written", "m2": "retry"},
			wantMetric:  map[string]float64{"Processed": 1, "Retried": 1},
		},
		{
			name:        "every record failing transiently fails the invocation",
			records:     []events.SQSMessage{record("m1", body("T1")), record("m2", body("T2"))},
			errs:        map[string]error{"T1": throttled, "T2": throttled},
			wantFailed:  []string{"m1", "m2"},
			wantErr:     true,
			wantOutcome: map[string]string{"m1": "retry", "m2": "retry"},
			wantMetric:  map[string]float64{"Processed": 0, "Retried": 2},
		},
		{
			name:        "a poison message the DLQ cannot take, alone, fails the invocation",
			records:     []events.SQSMessage{record("m1", `not json`)},
			dlqErr:      errors.New("connection reset"),
			wantFailed:  []string{"m1"},
			wantErr:     true,
			wantOutcome: map[string]string{"m1": "retry"},
		},
		{
			name:        "one settled record keeps the invocation successful",
			records:     []events.SQSMessage{record("m1", body("T1")), record("m2", body("T2")), record("m3", body("T3"))},
			errs:        map[string]error{"T1": throttled, "T3": throttled},
			results:     map[string]audit.Result{"T2": audit.Duplicate},
			wantFailed:  []string{"m1", "m3"},
			wantOutcome: map[string]string{"m1": "retry", "m2": "duplicate", "m3": "retry"},
		},
		{
			name:        "store rejection is permanent",
			records:     []events.SQSMessage{record("m1", body("T1"))},
			errs:        map[string]error{"T1": fmt.Errorf("%w: item too large", audit.ErrRejected)},
			wantFailed:  []string{},
			wantDLQ:     map[string]string{"m1": "AUDIT_REJECTED"},
			wantOutcome: map[string]string{"m1": "rejected"},
		},
		{
			name:        "DLQ unavailable leaves the poison message on its queue",
			records:     []events.SQSMessage{record("m1", `not json`), record("m2", body("T2"))},
			dlqErr:      errors.New("connection reset"),
			wantFailed:  []string{"m1"},
			wantOutcome: map[string]string{"m1": "retry", "m2": "written"},
		},
		{
			name: "partial failure maps exactly the failed ids",
			records: []events.SQSMessage{
				record("a", body("T1")), record("b", body("T2")), record("c", `[]`),
				record("d", body("T4")), record("e", body("T5")),
			},
			errs:        map[string]error{"T2": throttled, "T5": throttled},
			wantFailed:  []string{"b", "e"},
			wantDLQ:     map[string]string{"c": "CONTRACT_VIOLATION"},
			wantOutcome: map[string]string{"a": "written", "b": "retry", "c": "rejected", "d": "written", "e": "retry"},
			wantMetric:  map[string]float64{"Processed": 2, "Retried": 2, "Invalid": 1, "BatchSize": 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			aud := &fakeAuditor{results: tt.results, errs: tt.errs, parked: map[string]bool{}, parkErr: tt.parkErr}
			for _, id := range tt.parked {
				aud.parked[id] = true
			}
			dlq := &fakeDLQ{err: tt.dlqErr}
			met := &fakeMetrics{}
			core, logs := observer.New(zap.DebugLevel)
			h := processor.New(aud, dlq, met, zap.New(core), processor.Config{MaxConcurrency: 3, DeadlineMargin: time.Second})

			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
			resp, err := h.Handle(ctx, events.SQSEvent{Records: tt.records})
			if tt.wantErr {
				require.ErrorIs(t, err, processor.ErrBatchFailed)
			} else {
				require.NoError(t, err)
			}
			assert.ElementsMatch(t, tt.wantFailed, failedIDs(resp))

			gotDLQ := map[string]string{}
			for _, l := range dlq.sent {
				gotDLQ[l.reason.OriginalMessageID] = l.reason.Code
				assert.NotEmpty(t, l.reason.Message)
				assert.Equal(t, "1", l.reason.ReceiveCount)
				assert.False(t, l.reason.FirstSeen.IsZero())
				for _, r := range tt.records {
					if r.MessageId == l.reason.OriginalMessageID {
						assert.Equal(t, r.Body, l.body, "the DLQ gets the original body")
					}
				}
			}
			if tt.wantDLQ == nil {
				tt.wantDLQ = map[string]string{}
			}
			assert.Equal(t, tt.wantDLQ, gotDLQ)
			assert.Equal(t, len(tt.wantDLQ), aud.invalid, "each rejection is counted")

			// Each record's outcome is logged exactly once, with correlation fields.
			gotOutcome := map[string]string{}
			for _, e := range logs.FilterFieldKey("outcome").All() {
				fields := e.ContextMap()
				id, _ := fields["message_id"].(string)
				_, seen := gotOutcome[id]
				assert.False(t, seen, "outcome of %s logged twice", id)
				gotOutcome[id], _ = fields["outcome"].(string)
				assert.Equal(t, "req-1", fields["aws_request_id"])
			}
			assert.Equal(t, tt.wantOutcome, gotOutcome)

			require.Len(t, met.lines, 1, "one metrics line per batch")
			for name, want := range tt.wantMetric {
				assert.InDelta(t, want, met.lines[0][name].Value, 0, name)
			}
		})
	}
}

func TestHandleLogsCorrelationFields(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zap.InfoLevel)
	h := processor.New(&fakeAuditor{}, &fakeDLQ{}, &fakeMetrics{}, zap.New(core), processor.Config{MaxConcurrency: 1})
	msg := record("m1", `{"tracking_id":"T9","event_id":"e-9","status":"DELIVERED","event_time":"2026-11-25T14:03:00Z"}`)
	_, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}})
	require.NoError(t, err)
	entries := logs.FilterFieldKey("outcome").All()
	require.Len(t, entries, 1)
	fields := entries[0].ContextMap()
	assert.Equal(t, "m1", fields["message_id"])
	assert.Equal(t, "T9", fields["tracking_id"])
	assert.Equal(t, "e-9", fields["event_id"])
}

func TestHandleBoundsWritesInFlight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		records, limit, size int // size: GroupSize
		wantPerCall          int // entries per RecordBatch call
	}{
		{"one row per job", 40, 4, 1, 1},
		{"a batch of 100 in groups of 10: one group at a time", 100, 10, 0, 10},
		{"two groups at a time", 100, 20, 0, 10},
		{"a group never holds more writes than the limit", 30, 3, 10, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls, atOnce := tt.records/tt.wantPerCall, tt.limit/tt.wantPerCall
			aud := &fakeAuditor{hold: make(chan struct{}), entered: make(chan struct{}, calls)}
			h := processor.New(aud, &fakeDLQ{}, &fakeMetrics{}, zap.NewNop(), processor.Config{MaxConcurrency: tt.limit, GroupSize: tt.size})
			var recs []events.SQSMessage
			for i := range tt.records {
				recs = append(recs, record(fmt.Sprint("m", i), body(fmt.Sprint("T", i))))
			}
			done := make(chan events.SQSEventResponse, 1)
			go func() {
				resp, _ := h.Handle(context.Background(), events.SQSEvent{Records: recs})
				done <- resp
			}()
			release := sync.OnceFunc(func() { close(aud.hold) })
			t.Cleanup(release)
			entered := func(k int) {
				select {
				case <-aud.entered:
				case <-time.After(10 * time.Second): // a guard, not a wait: the call comes at once or never
					t.Fatalf("RecordBatch call %d of %d never came (groups so far: %d)", k+1, calls, len(aud.groups))
				}
			}
			// Fill the pool, then release one call per new one: the pool is
			// always full, and the peak shows whether it ever went past the limit.
			for k := range atOnce {
				entered(k)
			}
			for k := range calls - atOnce {
				aud.hold <- struct{}{}
				entered(atOnce + k)
			}
			release() // the last calls, and any the pool should not have let in
			resp := <-done
			assert.Empty(t, resp.BatchItemFailures)
			assert.Equal(t, int32(tt.limit), aud.peak.Load(), "writes in flight at the peak")
			assert.Len(t, aud.entries, tt.records)
			for _, g := range aud.groups {
				assert.Len(t, g, tt.wantPerCall)
			}
		})
	}
}

func TestHandleWritesValidRecordsInGroups(t *testing.T) {
	t.Parallel()
	var recs []events.SQSMessage
	for i := range 7 {
		b := body(fmt.Sprint("T", i))
		if i == 2 {
			b = `{"tracking_id":"bad id"}`
		}
		recs = append(recs, record(fmt.Sprint("m", i), b))
	}
	many := make([]events.SQSMessage, 30)
	for i := range many {
		many[i] = record(fmt.Sprint("n", i), body(fmt.Sprint("U", i)))
	}
	tests := []struct {
		name       string
		records    []events.SQSMessage
		groupSize  int
		wantGroups [][]string
	}{
		{"in order, invalid records left out", recs, 3, [][]string{{"m0", "m1", "m3"}, {"m4", "m5", "m6"}}},
		{"a group per batch of writes by default", many, 0, [][]string{messageIDs(many[:audit.MaxBatchWrites]), messageIDs(many[audit.MaxBatchWrites : 2*audit.MaxBatchWrites]), messageIDs(many[2*audit.MaxBatchWrites:])}},
		{"a group size over the writes limit is capped", many, 1000, [][]string{messageIDs(many[:audit.MaxBatchWrites]), messageIDs(many[audit.MaxBatchWrites : 2*audit.MaxBatchWrites]), messageIDs(many[2*audit.MaxBatchWrites:])}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			aud := &fakeAuditor{}
			dlq := &fakeDLQ{}
			h := processor.New(aud, dlq, &fakeMetrics{}, zap.NewNop(), processor.Config{MaxConcurrency: 1000, GroupSize: tt.groupSize})
			resp, err := h.Handle(context.Background(), events.SQSEvent{Records: tt.records})
			require.NoError(t, err)
			assert.Empty(t, resp.BatchItemFailures)
			assert.ElementsMatch(t, tt.wantGroups, aud.groups)
			assert.Len(t, dlq.sent, len(tt.records)-len(aud.entries), "every invalid record went to the DLQ")
		})
	}
}

func messageIDs(recs []events.SQSMessage) []string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.MessageId
	}
	return ids
}

func TestHandleDeadline(t *testing.T) {
	t.Parallel()
	t.Run("records not started before the margin are reported, none lost", func(t *testing.T) {
		t.Parallel()
		aud := &fakeAuditor{}
		met := &fakeMetrics{}
		h := processor.New(aud, &fakeDLQ{}, met, zap.NewNop(), processor.Config{MaxConcurrency: 2, DeadlineMargin: 5 * time.Second})
		// Less time left than the margin: nothing may start.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		recs := []events.SQSMessage{record("m1", body("T1")), record("m2", body("T2")), record("m3", `bad`)}
		resp, err := h.Handle(ctx, events.SQSEvent{Records: recs})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"m1", "m2", "m3"}, failedIDs(resp))
		assert.Empty(t, aud.entries)
		assert.InDelta(t, 3.0, met.lines[0]["Deferred"].Value, 0)
	})
	t.Run("in-flight work is cut before the deadline and reported", func(t *testing.T) {
		t.Parallel()
		aud := &fakeAuditor{hold: make(chan struct{})} // never released: a hung call
		h := processor.New(aud, &fakeDLQ{}, &fakeMetrics{}, zap.NewNop(), processor.Config{MaxConcurrency: 1, DeadlineMargin: 400 * time.Millisecond})
		deadline := time.Now().Add(600 * time.Millisecond)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{record("m1", body("T1")), record("m2", body("T2"))}})
		require.ErrorIs(t, err, processor.ErrBatchFailed, "a store that hangs on every write fails the invocation")
		assert.True(t, time.Now().Before(deadline), "the handler returned after its deadline")
		assert.ElementsMatch(t, []string{"m1", "m2"}, failedIDs(resp))
	})
}
