package projection_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
	"github.com/tracking-pipeline/tracking-pipeline/internal/projection"
)

// fakeStore keeps latest statuses as AdvanceLatest does (by event order,
// keeping the status it replaced) and the counts added per shard, with a
// high-water mark per shard and day.
type fakeStore struct {
	mu       sync.Mutex
	latest   map[string]latest
	counts   map[string]int64 // day/counter
	marks    map[string]string
	failLate map[string]bool // event ids whose AdvanceLatest fails
}

type latest struct{ order, status, prev string }

func newFakeStore() *fakeStore {
	return &fakeStore{latest: map[string]latest{}, counts: map[string]int64{}, marks: map[string]string{}, failLate: map[string]bool{}}
}

func (f *fakeStore) AdvanceLatest(_ context.Context, u contract.Update) (audit.StatusChange, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failLate[u.EventID] {
		return audit.StatusChange{}, false, errors.New("throttled")
	}
	order := u.EventTimeKey() + "#" + u.EventID
	cur, ok := f.latest[u.TrackingID]
	switch {
	case ok && cur.order == order:
		return audit.StatusChange{Old: cur.prev, New: u.Status}, true, nil
	case ok && cur.order > order:
		return audit.StatusChange{}, false, nil
	}
	f.latest[u.TrackingID] = latest{order: order, status: u.Status, prev: cur.status}
	return audit.StatusChange{Old: cur.status, New: u.Status}, true, nil
}

func (f *fakeStore) AddCounts(_ context.Context, shard string, records []audit.Counted) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range records {
		k := shard + "/" + r.Day
		if audit.SequenceKey(r.Seq) <= f.marks[k] {
			continue
		}
		f.marks[k] = audit.SequenceKey(r.Seq)
		for _, c := range r.Counters {
			f.counts[r.Day+"/"+c]++
		}
	}
	return nil
}

// fakeBus records what it was given; failing idempotency keys fail once.
type fakeBus struct {
	mu     sync.Mutex
	events []contract.StatusChanged
	fail   map[string]bool
}

func (b *fakeBus) Publish(_ context.Context, changes []contract.StatusChanged) []error {
	b.mu.Lock()
	defer b.mu.Unlock()
	errs := make([]error, len(changes))
	for i, c := range changes {
		if b.fail[c.IdempotencyKey] {
			delete(b.fail, c.IdempotencyKey)
			errs[i] = errors.New("InternalFailure")
			continue
		}
		b.events = append(b.events, c)
	}
	return errs
}

type discard struct{}

func (discard) Write(time.Time, map[string]emf.Metric) error { return nil }

var sent = time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)

func image(attrs map[string]string) map[string]events.DynamoDBAttributeValue {
	out := map[string]events.DynamoDBAttributeValue{}
	for k, v := range attrs {
		out[k] = events.NewStringAttribute(v)
	}
	return out
}

func record(seq int, attrs map[string]string) events.DynamoDBEventRecord {
	attrs[audit.AttrSentAt] = sent.Format(time.RFC3339Nano)
	return events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{
		SequenceNumber: fmt.Sprintf("%021d", seq), NewImage: image(attrs),
		ApproximateCreationDateTime: events.SecondsEpochTime{Time: sent},
	}}
}

func row(seq int, tid, eid, status, at string) events.DynamoDBEventRecord {
	body := fmt.Sprintf(`{"tracking_id":%q,"event_id":%q,"status":%q,"event_time":%q}`, tid, eid, status, at)
	return record(seq, map[string]string{audit.AttrPK: "TRK#" + tid, audit.AttrSK: audit.PrefixEvent + eid, audit.AttrPayload: body})
}

func settled(seq int, msg, outcome string) events.DynamoDBEventRecord {
	return record(seq, map[string]string{audit.AttrPK: "MSG#" + msg, audit.AttrSK: audit.SKSettled, audit.AttrOutcome: outcome})
}

func conflict(seq int, tid, eid string) events.DynamoDBEventRecord {
	return record(seq, map[string]string{audit.AttrPK: "TRK#" + tid, audit.AttrSK: audit.PrefixConflict + eid + "#abc"})
}

func batch(records ...events.DynamoDBEventRecord) events.DynamoDBTimeWindowEvent {
	ev := events.DynamoDBTimeWindowEvent{DynamoDBEvent: events.DynamoDBEvent{Records: records}}
	ev.ShardID = "shardId-1"
	return ev
}

func statuses(evs []contract.StatusChanged) []string {
	var out []string
	for _, e := range evs {
		prev := "-"
		if e.PreviousStatus != nil {
			prev = *e.PreviousStatus
		}
		out = append(out, e.TrackingID+":"+prev+">"+e.Status)
	}
	return out
}

func TestProjectBatch(t *testing.T) {
	t.Parallel()
	store, bus := newFakeStore(), &fakeBus{}
	p := projection.New(store, bus, discard{}, zaptest.NewLogger(t), 4)
	ctx := context.Background()
	first := batch(
		row(1, "P1", "e1", "PICKED_UP", "2026-11-25T08:00:00Z"),
		row(2, "P1", "e3", "DELIVERED", "2026-11-25T12:00:00Z"),
		row(3, "P2", "e1", "IN_TRANSIT", "2026-11-25T09:00:00Z"),
		row(4, "P1", "e2", "OUT_FOR_DELIVERY", "2026-11-25T10:00:00Z"), // older than P1's latest: no event
		settled(5, "m9", audit.SettledDuplicate),
		settled(6, "m10", audit.SettledInvalid),
		conflict(7, "P2", "e1"),
	)
	resp, err := p.Handle(ctx, first)
	require.NoError(t, err)
	assert.Empty(t, resp.BatchItemFailures)
	assert.NotNil(t, resp.State, "a tumbling window's answer always has a state")
	assert.ElementsMatch(t, []string{"P1:->PICKED_UP", "P1:PICKED_UP>DELIVERED", "P2:->IN_TRANSIT"}, statuses(bus.events))
	want := map[string]int64{
		"2026-11-25/total": 4, "2026-11-25/status_PICKED_UP": 1, "2026-11-25/status_DELIVERED": 1, "2026-11-25/status_IN_TRANSIT": 1,
		"2026-11-25/status_OUT_FOR_DELIVERY": 1, "2026-11-25/duplicates": 1, "2026-11-25/invalid": 1, "2026-11-25/conflicts": 1,
	}
	assert.Equal(t, want, store.counts)
	for _, e := range bus.events {
		assert.Equal(t, e.TrackingID+"/"+e.EventID, e.IdempotencyKey)
	}

	// The same batch read again: no count twice, the latest move's event
	// again (at least once), no event for the moves since overtaken.
	_, err = p.Handle(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, want, store.counts, "counted once")
	assert.ElementsMatch(t, []string{"P1:->PICKED_UP", "P1:PICKED_UP>DELIVERED", "P2:->IN_TRANSIT", "P1:PICKED_UP>DELIVERED", "P2:->IN_TRANSIT"}, statuses(bus.events))

	// The window's final invocation has no records.
	resp, err = p.Handle(ctx, events.DynamoDBTimeWindowEvent{})
	require.NoError(t, err)
	assert.NotNil(t, resp.State)
}

func TestProjectFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	records := func() events.DynamoDBTimeWindowEvent {
		return batch(
			row(10, "A", "e1", "IN_TRANSIT", "2026-11-25T08:00:00Z"),
			row(11, "B", "e1", "IN_TRANSIT", "2026-11-25T08:00:00Z"),
			row(12, "A", "e2", "DELIVERED", "2026-11-25T09:00:00Z"),
			settled(13, "m1", audit.SettledDuplicate),
		)
	}
	t.Run("a latest status that fails: retried from it, counted up to it", func(t *testing.T) {
		t.Parallel()
		store, bus := newFakeStore(), &fakeBus{}
		store.failLate["e1"] = true // A's and B's first rows
		p := projection.New(store, bus, discard{}, zaptest.NewLogger(t), 2)
		_, err := p.Handle(ctx, records())
		require.ErrorIs(t, err, projection.ErrBatchFailed, "the first record failed: the invocation fails")
		assert.Empty(t, store.counts)
		assert.Empty(t, bus.events, "A's later row waits for its first")

		delete(store.failLate, "e1")
		resp, err := p.Handle(ctx, records())
		require.NoError(t, err)
		assert.Empty(t, resp.BatchItemFailures)
		assert.Equal(t, []string{"A:->IN_TRANSIT", "A:IN_TRANSIT>DELIVERED", "B:->IN_TRANSIT"}, slices.Sorted(slices.Values(statuses(bus.events))))
		assert.Equal(t, int64(3), store.counts["2026-11-25/total"])
	})
	t.Run("an event the bus refuses: its record is the batch item failure, the move stays to be put again", func(t *testing.T) {
		t.Parallel()
		store := newFakeStore()
		bus := &fakeBus{fail: map[string]bool{"B/e1": true}}
		p := projection.New(store, bus, discard{}, zaptest.NewLogger(t), 2)
		resp, err := p.Handle(ctx, records())
		require.NoError(t, err)
		require.Len(t, resp.BatchItemFailures, 1)
		assert.Equal(t, fmt.Sprintf("%021d", 11), resp.BatchItemFailures[0].ItemIdentifier, "Lambda retries from B's row")
		assert.Equal(t, int64(1), store.counts["2026-11-25/total"], "only the record before the failure is counted")

		// Lambda retries from the failed record.
		retry := records()
		retry.Records = retry.Records[1:]
		resp, err = p.Handle(ctx, retry)
		require.NoError(t, err)
		assert.Empty(t, resp.BatchItemFailures)
		assert.Contains(t, statuses(bus.events), "B:->IN_TRANSIT", "the refused event is put on the retry")
		assert.Equal(t, int64(3), store.counts["2026-11-25/total"])
		assert.Equal(t, int64(1), store.counts["2026-11-25/duplicates"])
	})
	t.Run("a record the projector cannot read is skipped, not retried forever", func(t *testing.T) {
		t.Parallel()
		store, bus := newFakeStore(), &fakeBus{}
		p := projection.New(store, bus, discard{}, zaptest.NewLogger(t), 2)
		odd := record(20, map[string]string{audit.AttrPK: "X", audit.AttrSK: "LATEST"})
		resp, err := p.Handle(ctx, batch(odd, row(21, "C", "e1", "IN_TRANSIT", "2026-11-25T08:00:00Z")))
		require.NoError(t, err)
		assert.Empty(t, resp.BatchItemFailures)
		assert.Equal(t, int64(1), store.counts["2026-11-25/total"])
	})
}
