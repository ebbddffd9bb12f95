package audit_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
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
	store, _, _ := newStore(t)
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

	stats, err := store.DailyStats(ctx, sentAt)
	require.NoError(t, err)
	assert.Equal(t, audit.DayStats{
		Day: "2026-11-25", Total: 1, Duplicates: 2, Conflicts: 1, Invalid: 1,
		ByStatus: map[string]int64{"IN_TRANSIT": 1},
	}, stats)

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
	store, _, _ := newStore(t)
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
	latest, ok, err := store.LatestStatus(ctx, "T3")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "IN_TRANSIT", latest.Status, "a conflict never moves the latest status")

	conflicts, err := store.Conflicts(ctx, "T3")
	require.NoError(t, err)
	require.Len(t, conflicts, 1)
	assert.Equal(t, "e1", conflicts[0].EventID)
	assert.Equal(t, changed, conflicts[0].Payload)
	assert.Equal(t, rows[0].PayloadHash, conflicts[0].OriginalPayloadHash)
	assert.NotEqual(t, conflicts[0].OriginalPayloadHash, conflicts[0].PayloadHash)

	stats, err := store.DailyStats(ctx, sentAt)
	require.NoError(t, err)
	assert.Equal(t, int64(1), stats.Conflicts, "a conflict is counted once")
	assert.Equal(t, int64(1), stats.Duplicates, "its redelivery is a duplicate")
}

func TestLatestNeverRegresses(t *testing.T) {
	t.Parallel()
	store, _, _ := newStore(t)
	ctx := context.Background()
	ev := func(id, status, at string) string {
		return fmt.Sprintf(`{"tracking_id":"T4","event_id":%q,"status":%q,"event_time":%q}`, id, status, at)
	}
	// Arrival order differs from event order.
	arrivals := []string{
		ev("e2", "IN_TRANSIT", "2026-11-25T10:00:00Z"),
		ev("e4", "DELIVERED", "2026-11-25T16:00:00+02:00"), // 14:00Z, the newest
		ev("e1", "PICKED_UP", "2026-11-25T08:00:00Z"),
		ev("e3", "OUT_FOR_DELIVERY", "2026-11-25T12:00:00Z"),
	}
	for i, body := range arrivals {
		_, err := store.Record(ctx, entry(t, fmt.Sprint("m", i), body))
		require.NoError(t, err)
		latest, ok, err := store.LatestStatus(ctx, "T4")
		require.NoError(t, err)
		require.True(t, ok)
		if i >= 1 {
			assert.Equal(t, "DELIVERED", latest.Status, "after arrival %d", i)
		}
	}
	rows, err := store.Trail(ctx, "T4")
	require.NoError(t, err)
	var statuses []string
	for _, r := range rows {
		statuses = append(statuses, r.Status)
	}
	assert.Equal(t, []string{"PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"}, statuses, "trail in event-time order")
}

func TestDailyStatsAndRetention(t *testing.T) {
	t.Parallel()
	store, db, table := newStore(t)
	ctx := context.Background()
	for i := range 40 {
		status := "IN_TRANSIT"
		if i%4 == 0 {
			status = "DELIVERED"
		}
		body := fmt.Sprintf(`{"tracking_id":"S%d","status":%q,"event_time":"2026-11-25T14:00:00Z"}`, i, status)
		_, err := store.Record(ctx, entry(t, fmt.Sprint("m", i), body))
		require.NoError(t, err)
		if i < 3 {
			_, err = store.Record(ctx, entry(t, fmt.Sprint("dup", i), body))
			require.NoError(t, err)
		}
	}
	for i := range 2 {
		first, err := store.CountInvalid(ctx, sentAt, fmt.Sprint("bad", i))
		require.NoError(t, err)
		assert.True(t, first)
	}
	// Another day stays apart.
	other := entry(t, "x", `{"tracking_id":"S0","status":"IN_TRANSIT","event_time":"2026-11-26T14:00:00Z"}`)
	other.SentAt = sentAt.Add(24 * time.Hour)
	_, err := store.Record(ctx, other)
	require.NoError(t, err)

	stats, err := store.DailyStats(ctx, sentAt)
	require.NoError(t, err)
	assert.Equal(t, audit.DayStats{
		Day: "2026-11-25", Total: 40, Duplicates: 3, Conflicts: 0, Invalid: 2,
		ByStatus: map[string]int64{"DELIVERED": 10, "IN_TRANSIT": 30},
	}, stats)

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
}

func TestRecordBatchAgainstKumo(t *testing.T) {
	t.Parallel()
	store, _, _ := newStore(t)
	ctx := context.Background()
	ev := func(tid, eid, status, at string) string {
		return fmt.Sprintf(`{"tracking_id":%q,"event_id":%q,"status":%q,"event_time":%q}`, tid, eid, status, at)
	}
	// 60 updates over 20 tracking ids, newest event first for each (out of
	// order within the batch): three transactions.
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
		latest, ok, err := store.LatestStatus(ctx, tid)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, "S3_X", latest.Status, "%s: the newest event holds the latest status, whatever the order in the batch", tid)
	}
	rows, err := store.Trail(ctx, "C2")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "IN_TRANSIT", rows[0].Status, "the first of two conflicting updates in one batch is kept")

	stats, err := store.DailyStats(ctx, sentAt)
	require.NoError(t, err)
	assert.Equal(t, audit.DayStats{
		Day: "2026-11-25", Total: 63, Duplicates: 1, Conflicts: 1,
		ByStatus: map[string]int64{"S1_X": 20, "S2_X": 20, "S3_X": 20, "IN_TRANSIT": 2, "DELIVERED": 1},
	}, stats)
}
