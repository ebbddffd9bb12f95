package audit_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
)

var sentAt = time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)

func entry(t *testing.T, msgID, body string) audit.Entry {
	t.Helper()
	u, err := contract.Parse([]byte(body))
	require.NoError(t, err)
	return audit.Entry{Update: u, Payload: body, MessageID: msgID, SentAt: sentAt}
}

func newStore(t *testing.T) (*audit.Store, *dynamodb.Client, string) {
	t.Helper()
	env := testenv.Start(t)
	table := env.AuditTable(t)
	return audit.NewStore(env.DDB, table, 30), env.DDB, table
}

// inserted counts the table's items by kind (their sort key's prefix):
// the projector counts each INSERT of a row, conflict or settled message
// once, so an update counted once is an item written once.
func inserted(t *testing.T, db *dynamodb.Client, table string) map[string]int {
	t.Helper()
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, it := range out.Items {
		sk := it["sk"].(*types.AttributeValueMemberS).Value
		kind := sk
		if i := strings.Index(sk, "#"); i >= 0 {
			kind = sk[:i]
		}
		if kind == "SETTLED" {
			kind += "/" + it[audit.AttrOutcome].(*types.AttributeValueMemberS).Value
		}
		kinds[kind]++
	}
	return kinds
}

func TestRecordIsIdempotentPerEvent(t *testing.T) {
	t.Parallel()
	store, _, _ := newStore(t)
	ctx := context.Background()
	body := `{"tracking_id":"T1","event_id":"e1","status":"IN_TRANSIT","event_time":"2026-11-25T14:00:00Z"}`
	// The same update: redelivered by SQS (same message id), resent by the
	// producer (new id, other key order), redriven from the DLQ (new id).
	deliveries := []struct {
		msgID string
		body  string
		want  audit.Result
	}{
		{"m1", body, audit.Written},
		{"m1", body, audit.Redelivered},
		{"m2", `{"event_time":"2026-11-25T15:00:00+01:00","status":"IN_TRANSIT","event_id":"e1","tracking_id":"T1"}`, audit.Duplicate},
		{"m3", body, audit.Duplicate},
	}
	for _, d := range deliveries {
		got, err := store.Record(ctx, entry(t, d.msgID, d.body))
		require.NoError(t, err)
		assert.Equal(t, d.want, got, d.msgID)
	}
	rows, err := store.Trail(ctx, "T1")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "m1", rows[0].MessageID, "the first delivery's row stays")
	assert.Equal(t, body, rows[0].Payload)
	assert.Len(t, rows[0].PayloadHash, 64)
	assert.NotEmpty(t, rows[0].ReceivedAt)
}

// SQS delivers a message again when its delete failed or its function died
// after recording it: whatever it was, it is counted once.
func TestRedeliveryIsNeverCountedTwice(t *testing.T) {
	t.Parallel()
	store, db, table := newStore(t)
	ctx := context.Background()
	a := `{"tracking_id":"R1","event_id":"e1","status":"IN_TRANSIT","event_time":"2026-11-25T14:00:00Z"}`
	b := `{"tracking_id":"R1","event_id":"e1","status":"DELIVERED","event_time":"2026-11-25T14:00:00Z"}`
	deliveries := []struct {
		msgID, body string
		want        audit.Result
	}{
		{"m1", a, audit.Written},
		{"m1", a, audit.Redelivered},
		{"m2", a, audit.Duplicate},
		{"m2", a, audit.Redelivered},
		{"m3", b, audit.Conflict},
		{"m3", b, audit.Redelivered},
		{"m4", b, audit.Duplicate}, // a resend of the conflicting content
		{"m4", b, audit.Redelivered},
		{"m1", a, audit.Redelivered},
	}
	for i, d := range deliveries {
		got, err := store.Record(ctx, entry(t, d.msgID, d.body))
		require.NoError(t, err, i)
		assert.Equal(t, d.want, got, "delivery %d (%s)", i, d.msgID)
	}
	first, err := store.CountInvalid(ctx, sentAt, "bad")
	require.NoError(t, err)
	again, err := store.CountInvalid(ctx, sentAt, "bad")
	require.NoError(t, err)
	assert.True(t, first)
	assert.False(t, again, "a redelivered invalid message is counted once")

	// One row, one conflict, a settled item per duplicate message and per
	// invalid one: what the projector counts, once each.
	assert.Equal(t, map[string]int{"EVT": 1, "CONFLICT": 1, "SETTLED/duplicate": 2, "SETTLED/invalid": 1}, inserted(t, db, table))

	for _, c := range []struct {
		msgID string
		want  bool
	}{{"bad", true}, {"m1", false}, {"m2", false}, {"never", false}} {
		got, err := store.Parked(ctx, c.msgID)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "parked %s", c.msgID)
	}
}

func TestRecordDerivedIDDeduplicatesProducerRetries(t *testing.T) {
	t.Parallel()
	store, _, _ := newStore(t)
	ctx := context.Background()
	first, err := store.Record(ctx, entry(t, "m1", `{"tracking_id":"T2","status":"DELIVERED","timestamp":"2026-11-25T14:00:00Z"}`))
	require.NoError(t, err)
	again, err := store.Record(ctx, entry(t, "m2", `{"status":"DELIVERED","tracking_id":"T2","event_time":"2026-11-25T14:00:00Z"}`))
	require.NoError(t, err)
	assert.Equal(t, audit.Written, first)
	assert.Equal(t, audit.Duplicate, again)
	rows, err := store.Trail(ctx, "T2")
	require.NoError(t, err)
	assert.Len(t, rows, 1)
}

func TestRecordConflictKeepsFirstAndRecordsOnce(t *testing.T) {
	t.Parallel()
	store, db, table := newStore(t)
	ctx := context.Background()
	original := `{"tracking_id":"T3","event_id":"e1","status":"IN_TRANSIT","event_time":"2026-11-25T14:00:00Z"}`
	changed := `{"tracking_id":"T3","event_id":"e1","status":"DELIVERED","event_time":"2026-11-25T14:00:00Z"}`

	got, err := store.Record(ctx, entry(t, "m1", original))
	require.NoError(t, err)
	require.Equal(t, audit.Written, got)
	got, err = store.Record(ctx, entry(t, "m2", changed))
	require.NoError(t, err)
	assert.Equal(t, audit.Conflict, got)
	got, err = store.Record(ctx, entry(t, "m3", changed)) // the conflicting content again
	require.NoError(t, err)
	assert.Equal(t, audit.Duplicate, got, "a redelivered conflict is a duplicate")

	rows, err := store.Trail(ctx, "T3")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "IN_TRANSIT", rows[0].Status, "a conflict never overwrites the first row")

	conflicts, err := store.Conflicts(ctx, "T3")
	require.NoError(t, err)
	require.Len(t, conflicts, 1)
	assert.Equal(t, "e1", conflicts[0].EventID)
	assert.Equal(t, changed, conflicts[0].Payload)
	assert.Equal(t, rows[0].PayloadHash, conflicts[0].OriginalPayloadHash)
	assert.NotEqual(t, conflicts[0].OriginalPayloadHash, conflicts[0].PayloadHash)

	assert.Equal(t, map[string]int{"EVT": 1, "CONFLICT": 1, "SETTLED/duplicate": 1}, inserted(t, db, table),
		"a conflict is recorded once, its resend settled as a duplicate")
}

func TestLatestNeverRegresses(t *testing.T) {
	t.Parallel()
	store, _, _ := newStore(t)
	ctx := context.Background()
	ev := func(id, status, at string) contract.Update {
		return entry(t, "", fmt.Sprintf(`{"tracking_id":"T4","event_id":%q,"status":%q,"event_time":%q}`, id, status, at)).Update
	}
	// Arrival order differs from event order; e4 twice (a record read again).
	arrivals := []struct {
		u      contract.Update
		latest bool
		move   audit.StatusChange
	}{
		{ev("e2", "IN_TRANSIT", "2026-11-25T10:00:00Z"), true, audit.StatusChange{Old: "", New: "IN_TRANSIT"}},
		{ev("e4", "DELIVERED", "2026-11-25T16:00:00+02:00"), true, audit.StatusChange{Old: "IN_TRANSIT", New: "DELIVERED"}}, // 14:00Z, the newest
		{ev("e1", "PICKED_UP", "2026-11-25T08:00:00Z"), false, audit.StatusChange{}},
		{ev("e4", "DELIVERED", "2026-11-25T16:00:00+02:00"), true, audit.StatusChange{Old: "IN_TRANSIT", New: "DELIVERED"}},
		{ev("e3", "OUT_FOR_DELIVERY", "2026-11-25T12:00:00Z"), false, audit.StatusChange{}},
	}
	for i, a := range arrivals {
		move, latest, err := store.AdvanceLatest(ctx, a.u)
		require.NoError(t, err)
		assert.Equal(t, a.latest, latest, "arrival %d (%s)", i, a.u.EventID)
		assert.Equal(t, a.move, move, "arrival %d (%s)", i, a.u.EventID)
		got, ok, err := store.LatestStatus(ctx, "T4")
		require.NoError(t, err)
		require.True(t, ok)
		_, err = time.Parse(time.RFC3339Nano, got.UpdatedAt)
		require.NoError(t, err, "when the projector moved it")
		got.UpdatedAt = ""
		if i >= 1 {
			assert.Equal(t, audit.Latest{TrackingID: "T4", Status: "DELIVERED", EventTime: "2026-11-25T14:00:00.000000000Z", EventID: "e4"}, got, "after arrival %d", i)
		}
	}
	in, err := store.InStatus(ctx, "DELIVERED", time.Time{}, 10)
	require.NoError(t, err)
	assert.Equal(t, []audit.Latest{{TrackingID: "T4", Status: "DELIVERED", EventTime: "2026-11-25T14:00:00.000000000Z", EventID: "e4"}}, in,
		"the status index follows the latest status")
	in, err = store.InStatus(ctx, "IN_TRANSIT", time.Time{}, 10)
	require.NoError(t, err)
	assert.Empty(t, in, "and leaves the status it moved from")
}

func TestTrailInEventTimeOrder(t *testing.T) {
	t.Parallel()
	store, _, _ := newStore(t)
	ctx := context.Background()
	for i, body := range []string{
		`{"tracking_id":"T5","event_id":"e2","status":"IN_TRANSIT","event_time":"2026-11-25T10:00:00Z"}`,
		`{"tracking_id":"T5","event_id":"e4","status":"DELIVERED","event_time":"2026-11-25T16:00:00+02:00"}`,
		`{"tracking_id":"T5","event_id":"e1","status":"PICKED_UP","event_time":"2026-11-25T08:00:00Z"}`,
		`{"tracking_id":"T5","event_id":"e3","status":"OUT_FOR_DELIVERY","event_time":"2026-11-25T12:00:00Z"}`,
	} {
		_, err := store.Record(ctx, entry(t, fmt.Sprint("m", i), body))
		require.NoError(t, err)
	}
	rows, err := store.Trail(ctx, "T5")
	require.NoError(t, err)
	var statuses []string
	for _, r := range rows {
		statuses = append(statuses, r.Status)
		assert.Equal(t, "T5", r.TrackingID)
	}
	assert.Equal(t, []string{"PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"}, statuses, "trail in event-time order")
	assert.Equal(t, "e4", rows[3].EventID)
	assert.Equal(t, "2026-11-25T14:00:00.000000000Z", rows[3].EventTime)
}

func TestAddCountsOncePerStreamShard(t *testing.T) {
	t.Parallel()
	store, _, _ := newStore(t)
	ctx := context.Background()
	rec := func(seq int, counters ...string) audit.Counted {
		return audit.Counted{Seq: fmt.Sprintf("%021d", seq), Day: "2026-11-25", Counters: counters}
	}
	total, transit, delivered := audit.CounterTotal, audit.StatusCounter("IN_TRANSIT"), audit.StatusCounter("DELIVERED")
	batch := []audit.Counted{rec(100, total, transit), rec(101, total, delivered), rec(102, audit.CounterDuplicates), rec(103, audit.CounterInvalid)}
	steps := []struct {
		name    string
		shard   string
		records []audit.Counted
	}{
		{"a batch", "shard-A", batch},
		{"the same batch read again", "shard-A", batch},
		{"a retry from its third record, with one more", "shard-A", append(slices.Clone(batch[2:]), rec(104, audit.CounterConflicts))},
		{"another shard, whose sequence numbers are its own", "shard-B", []audit.Counted{rec(5, total, transit)}},
		{"another day", "shard-A", []audit.Counted{{Seq: fmt.Sprintf("%021d", 105), Day: "2026-11-26", Counters: []string{total, transit}}}},
		{"an older batch after a newer one (nothing new)", "shard-A", batch[:2]},
	}
	for _, st := range steps {
		require.NoError(t, store.AddCounts(ctx, st.shard, st.records), st.name)
	}
	stats, err := store.DailyStats(ctx, sentAt)
	require.NoError(t, err)
	assert.Equal(t, audit.DayStats{
		Day: "2026-11-25", Total: 3, Duplicates: 1, Conflicts: 1, Invalid: 1,
		ByStatus: map[string]int64{"IN_TRANSIT": 2, "DELIVERED": 1},
	}, stats)
	next, err := store.DailyStats(ctx, sentAt.Add(24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, int64(1), next.Total, "another day stays apart")
	assert.Equal(t, "000000000000000000000000000000000000042", audit.SequenceKey("42")[1:], "sequence numbers compare as numbers")
	assert.Less(t, audit.SequenceKey("999999999999999999999"), audit.SequenceKey("1000000000000000000000"))
}

func TestRowsExpireAfterRetention(t *testing.T) {
	t.Parallel()
	store, db, table := newStore(t)
	ctx := context.Background()
	_, err := store.Record(ctx, entry(t, "m1", `{"tracking_id":"S1","status":"IN_TRANSIT","event_time":"2026-11-25T14:00:00Z"}`))
	require.NoError(t, err)

	// Audit rows expire RETENTION_DAYS after they are written.
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "TRK#S1"},
			"sk": &types.AttributeValueMemberS{Value: "EVT#" + entry(t, "", `{"tracking_id":"S1","status":"IN_TRANSIT","event_time":"2026-11-25T14:00:00Z"}`).Update.EventID},
		},
	})
	require.NoError(t, err)
	n, ok := out.Item[audit.AttrExpiresAt].(*types.AttributeValueMemberN)
	require.True(t, ok, "audit row has a TTL attribute")
	exp, err := strconv.ParseInt(n.Value, 10, 64)
	require.NoError(t, err)
	wantExpiry := time.Now().Add(30 * 24 * time.Hour).Unix()
	assert.InDelta(t, wantExpiry, exp, 60, "expires_at is now + 30 days")
	size := 0
	for name, v := range out.Item {
		size += len(name)
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			size += len(s.Value)
		}
	}
	assert.Less(t, size, 400, "a row holds the key, the payload and a few attributes, nothing that repeats them")
	assert.NotContains(t, out.Item, "tracking_id")
	assert.NotContains(t, out.Item, "status")
}

func TestRecordBatchAgainstKumo(t *testing.T) {
	t.Parallel()
	store, db, table := newStore(t)
	ctx := context.Background()
	ev := func(tid, eid, status, at string) string {
		return fmt.Sprintf(`{"tracking_id":%q,"event_id":%q,"status":%q,"event_time":%q}`, tid, eid, status, at)
	}
	// 60 updates over 20 tracking ids, newest event first for each (out of
	// order within the batch).
	var first []audit.Entry
	for i := range 60 {
		tid, n := fmt.Sprint("B", i%20), i/20
		first = append(first, entry(t, fmt.Sprint("m", i), ev(tid, fmt.Sprint("e", 3-n), fmt.Sprint("S", 3-n, "_X"), fmt.Sprintf("2026-11-25T1%d:00:00Z", 3-n))))
	}
	for i, r := range store.RecordBatch(ctx, first) {
		require.NoError(t, r.Err, i)
		assert.Equal(t, audit.Written, r.Result, i)
	}

	// A second batch: a redelivery of the first batch's update, the same update
	// twice, an update and its conflicting twice, a new one.
	second := []audit.Entry{
		first[5],
		entry(t, "n1", ev("C1", "e1", "IN_TRANSIT", "2026-11-25T10:00:00Z")),
		entry(t, "n2", ev("C1", "e1", "IN_TRANSIT", "2026-11-25T10:00:00Z")),
		entry(t, "n3", ev("C2", "e1", "IN_TRANSIT", "2026-11-25T10:00:00Z")),
		entry(t, "n4", ev("C2", "e1", "DELIVERED", "2026-11-25T10:00:00Z")),
		entry(t, "n5", ev("C3", "e1", "DELIVERED", "2026-11-25T10:00:00Z")),
	}
	var got []audit.Result
	for _, r := range store.RecordBatch(ctx, second) {
		require.NoError(t, r.Err)
		got = append(got, r.Result)
	}
	assert.Equal(t, []audit.Result{audit.Redelivered, audit.Written, audit.Duplicate, audit.Written, audit.Conflict, audit.Written}, got)

	for i := range 20 {
		tid := fmt.Sprint("B", i)
		rows, err := store.Trail(ctx, tid)
		require.NoError(t, err)
		assert.Len(t, rows, 3, tid)
	}
	rows, err := store.Trail(ctx, "C2")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "IN_TRANSIT", rows[0].Status, "the first of two conflicting updates in one batch is kept")
	assert.Equal(t, map[string]int{"EVT": 63, "CONFLICT": 1, "SETTLED/duplicate": 1}, inserted(t, db, table))
}

// TestRebuildRepairsTheProjection loses the projection of a package and of
// a day, as a record given up on would, and rebuilds both from the rows,
// twice: the same result.
func TestRebuildRepairsTheProjection(t *testing.T) {
	t.Parallel()
	store, _, _ := newStore(t)
	ctx := context.Background()
	bodies := []string{
		`{"tracking_id":"RB1","event_id":"e1","status":"PICKED_UP","event_time":"2026-11-25T08:00:00Z"}`,
		`{"tracking_id":"RB1","event_id":"e3","status":"DELIVERED","event_time":"2026-11-25T12:00:00Z"}`,
		`{"tracking_id":"RB1","event_id":"e2","status":"IN_TRANSIT","event_time":"2026-11-25T10:00:00Z"}`,
		`{"tracking_id":"RB2","event_id":"e1","status":"IN_TRANSIT","event_time":"2026-11-25T10:00:00Z"}`,
	}
	for i, b := range bodies {
		_, err := store.Record(ctx, entry(t, fmt.Sprint("m", i), b))
		require.NoError(t, err)
	}
	_, err := store.Record(ctx, entry(t, "dup", bodies[0])) // a duplicate
	require.NoError(t, err)
	_, err = store.Record(ctx, entry(t, "x", strings.Replace(bodies[3], "IN_TRANSIT", "LOST", 1))) // a conflict
	require.NoError(t, err)
	_, err = store.CountInvalid(ctx, sentAt, "bad")
	require.NoError(t, err)
	// The projector saw only RB1's first row, and counted one row on a shard.
	_, _, err = store.AdvanceLatest(ctx, entry(t, "", bodies[0]).Update)
	require.NoError(t, err)
	require.NoError(t, store.AddCounts(ctx, "shardId-1", []audit.Counted{{Seq: "100000000000000000001", Day: "2026-11-25", Counters: []string{audit.CounterTotal}}}))

	want := audit.DayStats{Day: "2026-11-25", Total: 4, Duplicates: 1, Conflicts: 1, Invalid: 1,
		ByStatus: map[string]int64{"PICKED_UP": 1, "IN_TRANSIT": 2, "DELIVERED": 1}}
	for range 2 {
		l, err := store.RebuildLatest(ctx, "RB1")
		require.NoError(t, err)
		assert.Equal(t, "DELIVERED", l.Status)
		st, err := store.RebuildDay(ctx, sentAt)
		require.NoError(t, err)
		assert.Equal(t, want, st)
	}
	_, err = store.RebuildLatest(ctx, "NOPE")
	require.ErrorIs(t, err, audit.ErrNoRows)
}
