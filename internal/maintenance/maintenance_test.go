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
	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
	"github.com/tracking-pipeline/tracking-pipeline/internal/maintenance"
	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
)

type notes struct{ sent []string }

func (n *notes) Notify(_ context.Context, subject, message string) error {
	n.sent = append(n.sent, subject+": "+message)
	return nil
}

// moveRecorder is kumo's SQS plus a recorded StartMessageMoveTask, which kumo lacks.
type moveRecorder struct {
	maintenance.Queue
	started []*sqs.StartMessageMoveTaskInput
}

func (m *moveRecorder) StartMessageMoveTask(_ context.Context, in *sqs.StartMessageMoveTaskInput, _ ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error) {
	m.started = append(m.started, in)
	return &sqs.StartMessageMoveTaskOutput{TaskHandle: aws.String("task-1")}, nil
}

type fixture struct {
	env   *testenv.Env
	store *audit.Store
	dlq   string
	queue *moveRecorder
	notes *notes
}

func setup(t *testing.T) *fixture {
	t.Helper()
	env := testenv.Start(t)
	return &fixture{
		env:   env,
		store: audit.NewStore(env.DDB, env.AuditTable(t), 30),
		dlq:   env.Queue(t, "dlq", nil),
		queue: &moveRecorder{Queue: env.SQS},
		notes: &notes{},
	}
}

func (f *fixture) job(t *testing.T, redrive bool) *maintenance.Job {
	return maintenance.New(f.queue, f.store, f.notes, emf.NewWriter(io.Discard, "Test", nil), zaptest.NewLogger(t), maintenance.Config{
		DLQURL: f.dlq, DLQARN: "arn:aws:sqs:us-east-1:000000000000:dlq", IngestQueueARN: "arn:aws:sqs:us-east-1:000000000000:ingest",
		RedriveTransient: redrive, RedriveRate: 7,
	})
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
	assert.False(t, res.Redrive.Started, "permanent failures block the automatic redrive")
	assert.Contains(t, res.Redrive.Skipped, "4 permanent failure(s)")
	assert.Empty(t, f.queue.started)

	// Peeking leaves every message on the DLQ, visible at once.
	out, err := f.env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &f.dlq, MaxNumberOfMessages: 10})
	require.NoError(t, err)
	assert.Len(t, out.Messages, 6)

	var stored maintenance.Digest
	ok, err := f.store.Report(context.Background(), "DLQDIGEST", time.Now().UTC().Format(audit.DayLayout), &stored)
	require.NoError(t, err)
	require.True(t, ok, "the digest is stored")
	assert.Equal(t, res.Digest.ByReason, stored.ByReason)
}

func TestRedriveRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		redrive     bool
		parked      []string // error codes; "" is a transient failure
		wantStarted bool
		wantSkipped string
	}{
		{"off by default", false, []string{""}, false, "automatic redrive is off"},
		{"empty DLQ", true, nil, false, "the DLQ is empty"},
		{"only transient failures", true, []string{"", "", ""}, true, ""},
		{"a permanent failure blocks it", true, []string{"", "OVERSIZE"}, false, "1 permanent failure(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			for i, code := range tt.parked {
				f.park(t, fmt.Sprint("m", i), code)
			}
			res, err := f.job(t, tt.redrive).Run(context.Background(), maintenance.Request{Tasks: []string{maintenance.TaskRedrive}})
			require.NoError(t, err)
			require.NotNil(t, res.Redrive)
			assert.Equal(t, tt.wantStarted, res.Redrive.Started)
			assert.Contains(t, res.Redrive.Skipped, tt.wantSkipped)
			if tt.wantStarted {
				require.Len(t, f.queue.started, 1)
				in := f.queue.started[0]
				assert.Equal(t, "arn:aws:sqs:us-east-1:000000000000:dlq", aws.ToString(in.SourceArn))
				assert.Equal(t, "arn:aws:sqs:us-east-1:000000000000:ingest", aws.ToString(in.DestinationArn))
				assert.Equal(t, int32(7), aws.ToInt32(in.MaxNumberOfMessagesPerSecond))
			} else {
				assert.Empty(t, f.queue.started)
			}
			assert.Empty(t, f.notes.sent, "the redrive task alone publishes nothing")
		})
	}
}

func TestDailyStatsStoredAndReplaced(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	record := func(tid string) {
		body := fmt.Sprintf(`{"tracking_id":%q,"status":"DELIVERED","event_time":"2026-11-24T10:00:00Z"}`, tid)
		u, err := contract.Parse([]byte(body))
		require.NoError(t, err)
		_, err = f.store.Record(ctx, audit.Entry{Update: u, Payload: body, MessageID: tid, SentAt: day.Add(10 * time.Hour)})
		require.NoError(t, err)
	}
	record("A")
	record("B")
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
	record("C")
	assert.Equal(t, int64(3), run().Total, "a re-run replaces the day's record")
}

func TestRunRejectsBadRequests(t *testing.T) {
	t.Parallel()
	f := setup(t)
	_, err := f.job(t, false).Run(context.Background(), maintenance.Request{Tasks: []string{"vacuum"}})
	assert.ErrorContains(t, err, `unknown task "vacuum"`)
	_, err = f.job(t, false).Run(context.Background(), maintenance.Request{Day: "24/11/2026"})
	assert.ErrorContains(t, err, "YYYY-MM-DD")
}
