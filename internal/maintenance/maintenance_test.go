package maintenance_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/contract"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
	"github.com/tracking-pipeline/tracking-pipeline/internal/maintenance"
)

type notes struct{ sent []string }

func (n *notes) Notify(_ context.Context, subject, message string) error {
	n.sent = append(n.sent, subject+": "+message)
	return nil
}

type fixture struct {
	env    *testenv.Env
	store  *audit.Store
	dlq    string
	ingest string
	notes  *notes
}

func setup(t *testing.T) *fixture {
	t.Helper()
	env := testenv.Start(t)
	return &fixture{
		env:    env,
		store:  audit.NewStore(env.DDB, env.AuditTable(t), 30),
		dlq:    env.Queue(t, "dlq", nil),
		ingest: env.Queue(t, "ingest", nil),
		notes:  &notes{},
	}
}

func (f *fixture) job(t *testing.T, redrive bool) *maintenance.Job {
	return maintenance.New(f.env.SQS, f.store, f.notes, emf.NewWriter(io.Discard, "Test", nil), zaptest.NewLogger(t), maintenance.Config{
		DLQURL: f.dlq, IngestQueueURL: f.ingest, RedriveTransient: redrive, RedriveRate: 50,
	})
}

// bodies receives every message of url (hiding them) and returns their bodies.
func (f *fixture) bodies(t *testing.T, url string) []string {
	t.Helper()
	var out []string
	for {
		res, err := f.env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 60})
		require.NoError(t, err)
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			out = append(out, aws.ToString(m.Body))
		}
	}
}

// park puts a message on the DLQ as the processor (with a reason) or SQS redrive (without) would.
func (f *fixture) park(t *testing.T, body, code string) {
	t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: &f.dlq, MessageBody: &body}
	if code != "" {
		in.MessageAttributes = map[string]sqstypes.MessageAttributeValue{
			deadletter.AttrErrorCode:    {DataType: aws.String("String"), StringValue: aws.String(code)},
			deadletter.AttrErrorMessage: {DataType: aws.String("String"), StringValue: aws.String("event_time: is required")},
		}
	}
	_, err := f.env.SQS.SendMessage(context.Background(), in)
	require.NoError(t, err)
}

func TestDigestGroupsByReasonAndLeavesMessages(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for i := range 3 {
		f.park(t, fmt.Sprint(`{"bad":`, i, `}`), "CONTRACT_VIOLATION")
	}
	f.park(t, `not json`, "MALFORMED_JSON")
	for range 2 {
		f.park(t, `{"tracking_id":"T1","status":"IN_TRANSIT","event_time":"2026-11-25T14:00:00Z"}`, "")
	}
	res, err := f.job(t, true).Run(context.Background(), maintenance.Request{Tasks: []string{maintenance.TaskDLQDigest, maintenance.TaskRedrive}})
	require.NoError(t, err)
	require.NotNil(t, res.Digest)
	assert.Equal(t, 6, res.Digest.Approximate)
	assert.Equal(t, map[string]int{"CONTRACT_VIOLATION": 3, "MALFORMED_JSON": 1, maintenance.ReasonRedrive: 2}, res.Digest.ByReason)
	require.Len(t, f.notes.sent, 1, "a non-empty DLQ is announced")
	assert.Contains(t, f.notes.sent[0], "CONTRACT_VIOLATION: 3")

	require.NotNil(t, res.Redrive)
	assert.Equal(t, 2, res.Redrive.Redriven, "the two transient failures, and only they, are redriven")
	assert.Contains(t, res.Redrive.Skipped, "4 permanent failure(s) stay in the DLQ")

	// The permanent failures stay on the DLQ, visible at once; the transient
	// ones are on the ingest queue, once each.
	assert.Len(t, f.bodies(t, f.dlq), 4)
	assert.Len(t, f.bodies(t, f.ingest), 2)

	var stored maintenance.Digest
	ok, err := f.store.Report(context.Background(), "DLQDIGEST", time.Now().UTC().Format(audit.DayLayout), &stored)
	require.NoError(t, err)
	require.True(t, ok, "the digest is stored")
	assert.Equal(t, res.Digest.ByReason, stored.ByReason)
}

func TestRedriveRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		redrive      bool
		parked       []string // error codes; "" is a transient failure
		wantRedriven int
		wantSkipped  string
		wantLeft     int // messages left in the DLQ, all visible
	}{
		{"off by default", false, []string{""}, 0, "automatic redrive is off", 1},
		{"empty DLQ", true, nil, 0, "the DLQ is empty", 0},
		{"only transient failures", true, []string{"", "", ""}, 3, "", 0},
		{"only permanent failures", true, []string{"OVERSIZE", "CONTRACT_VIOLATION"}, 0, "no transient failure to redrive; 2 permanent failure(s)", 2},
		{"transient ones beside a permanent one", true, []string{"", "OVERSIZE", ""}, 2, "1 permanent failure(s) stay in the DLQ", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			for i, code := range tt.parked {
				f.park(t, fmt.Sprint("m", i, code), code)
			}
			res, err := f.job(t, tt.redrive).Run(context.Background(), maintenance.Request{Tasks: []string{maintenance.TaskRedrive}})
			require.NoError(t, err)
			require.NotNil(t, res.Redrive)
			assert.Equal(t, tt.wantRedriven, res.Redrive.Redriven)
			assert.Contains(t, res.Redrive.Skipped, tt.wantSkipped)
			assert.Len(t, f.bodies(t, f.ingest), tt.wantRedriven, "each redriven message is sent once")
			assert.Len(t, f.bodies(t, f.dlq), tt.wantLeft)
			assert.Empty(t, f.notes.sent, "the redrive task alone publishes nothing")
		})
	}
}

// TestRedriveTakesOnlyWhatItInspected parks a permanent failure after the
// inspection: the job redrives the transient failures it judged, never the
// newcomer (a move task, as the job used before, moves it too).
func TestRedriveTakesOnlyWhatItInspected(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for i := range 3 {
		f.park(t, fmt.Sprint("transient-", i), "")
	}
	q := &parkAfterInspection{Queue: f.env.SQS, park: func() { f.park(t, "late-poison", "CONTRACT_VIOLATION") }}
	job := maintenance.New(q, f.store, f.notes, emf.NewWriter(io.Discard, "Test", nil), zaptest.NewLogger(t), maintenance.Config{
		DLQURL: f.dlq, IngestQueueURL: f.ingest, RedriveTransient: true, RedriveRate: 50,
	})
	res, err := job.Run(context.Background(), maintenance.Request{Tasks: []string{maintenance.TaskRedrive}})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Redrive.Redriven)
	assert.ElementsMatch(t, []string{"transient-0", "transient-1", "transient-2"}, f.bodies(t, f.ingest))
	assert.Equal(t, []string{"late-poison"}, f.bodies(t, f.dlq), "the late permanent failure stays in the DLQ")
}

// parkAfterInspection parks a message on the DLQ when the job has read it
// to the end (its first empty receive).
type parkAfterInspection struct {
	maintenance.Queue
	park   func()
	parked bool
}

func (p *parkAfterInspection) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out, err := p.Queue.ReceiveMessage(ctx, in, opts...)
	if err == nil && len(out.Messages) == 0 && !p.parked {
		p.parked = true
		p.park()
	}
	return out, err //nolint:wrapcheck // a test double
}

func TestDailyStatsStoredAndReplaced(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	// The projector counts each row from the stream.
	seq := 100
	record := func() {
		seq++
		require.NoError(t, f.store.AddCounts(ctx, "shardId-1", []audit.Counted{{
			Seq: fmt.Sprintf("%021d", seq), Day: day.Format(audit.DayLayout), Counters: []string{audit.CounterTotal, audit.StatusCounter("DELIVERED")},
		}}))
	}
	record()
	record()
	run := func() audit.DayStats {
		res, err := f.job(t, false).Run(ctx, maintenance.Request{Tasks: []string{maintenance.TaskDailyStats}, Day: "2026-11-24"})
		require.NoError(t, err)
		require.NotNil(t, res.Stats)
		var stored audit.DayStats
		ok, err := f.store.Report(ctx, "STATS", "2026-11-24", &stored)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, *res.Stats, stored)
		return stored
	}
	assert.Equal(t, int64(2), run().ByStatus["DELIVERED"])
	record()
	assert.Equal(t, int64(3), run().Total, "a re-run replaces the day's record")
}

// TestDailyDigestReportsStuckPackages moves packages' latest statuses, some stuck in a
// non-final status for longer than the threshold, and checks the daily run
// stores and announces exactly those, per status.
func TestDailyDigestReportsStuckPackages(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	now := time.Now().UTC()
	seq := 0
	record := func(tid, status string, at time.Time) {
		body := fmt.Sprintf(`{"tracking_id":%q,"status":%q,"event_time":%q}`, tid, status, at.Format(time.RFC3339))
		u, err := contract.Parse([]byte(body))
		require.NoError(t, err)
		// As the projector does for each row: the latest status, and the
		// day's counters (which say which statuses exist).
		_, _, err = f.store.AdvanceLatest(ctx, u)
		require.NoError(t, err)
		seq++
		require.NoError(t, f.store.AddCounts(ctx, "shardId-1", []audit.Counted{{
			Seq: fmt.Sprintf("%021d", seq), Day: now.Format(audit.DayLayout), Counters: []string{audit.StatusCounter(status)},
		}}))
	}
	record("OLD1", "IN_TRANSIT", now.Add(-100*time.Hour))
	record("OLD2", "EXCEPTION", now.Add(-80*time.Hour))
	record("NEW1", "IN_TRANSIT", now.Add(-2*time.Hour))    // not stuck yet
	record("DONE", "DELIVERED", now.Add(-200*time.Hour))   // final: never stuck
	record("MOVED", "IN_TRANSIT", now.Add(-150*time.Hour)) // moved on below
	record("MOVED", "OUT_FOR_DELIVERY", now.Add(-1*time.Hour))
	job := maintenance.New(f.env.SQS, f.store, f.notes, emf.NewWriter(io.Discard, "Test", nil), zaptest.NewLogger(t), maintenance.Config{
		DLQURL: "unused", IngestQueueURL: "unused", StuckAfter: 72 * time.Hour, FinalStatuses: []string{"DELIVERED"},
	})
	res, err := job.Run(ctx, maintenance.Request{Tasks: []string{maintenance.TaskDailyStats}, Day: now.Format(audit.DayLayout)})
	require.NoError(t, err)
	got := map[string][]string{}
	for status, st := range res.Stuck {
		for _, p := range st.Oldest {
			got[status] = append(got[status], p.TrackingID)
		}
		assert.Equal(t, len(st.Oldest), st.Count, status)
	}
	assert.Equal(t, map[string][]string{"IN_TRANSIT": {"OLD1"}, "EXCEPTION": {"OLD2"}}, got)
	var stored map[string]maintenance.StuckStatus
	ok, err := f.store.Report(ctx, "STUCK", now.Format(audit.DayLayout), &stored)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, res.Stuck, stored)
	require.Len(t, f.notes.sent, 1)
	assert.Contains(t, f.notes.sent[0], "EXCEPTION: 1 (oldest: OLD2 since")
	assert.Contains(t, f.notes.sent[0], "IN_TRANSIT: 1 (oldest: OLD1 since")
}

func TestRunRejectsBadRequests(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, err := f.job(t, false).Run(context.Background(), maintenance.Request{Tasks: []string{"vacuum"}})
	assert.ErrorContains(t, err, `unknown task "vacuum"`)
	_, err = f.job(t, false).Run(context.Background(), maintenance.Request{Day: "24/11/2026"})
	assert.ErrorContains(t, err, "YYYY-MM-DD")
}
