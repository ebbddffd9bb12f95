package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/gruntwork-io/terratest/modules/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/outputs"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws"
)

// stack is the pipeline deployed on a fresh local AWS with the real zips.
type stack struct {
	srv   *localaws.Server
	out   outputs.Stack
	sqs   *sqs.Client
	ddb   *dynamodb.Client
	store *audit.Store
}

func deploy(t *testing.T, tune func(*provision.Settings)) *stack {
	t.Helper()
	return deployAt(t, 1, tune)
}

// deployAt deploys on a local AWS whose clock runs scale times real time.
func deployAt(t *testing.T, scale float64, tune func(*provision.Settings)) *stack {
	t.Helper()
	return deployWith(t, localaws.Options{Log: zaptest.NewLogger(t), FunctionOutput: testWriter{t}, TimeScale: scale}, tune, nil)
}

// deployWith deploys on a local AWS started with opts (on a free port, two
// processes per function), the settings tuned, the role policies edited.
func deployWith(t *testing.T, opts localaws.Options, tune func(*provision.Settings), edit func(policy, doc string) string) *stack {
	t.Helper()
	s, err := deployE(t, opts, tune, edit, nil)
	require.NoError(t, err)
	return s
}

// deployE is deployWith that returns the provisioner's error with the
// stack so far (its server running): the IAM mutation test counts a
// refused deployment as a failed scenario. prepare (nil: none) makes what
// the stack names but does not create, as a root would before applying.
func deployE(t *testing.T, opts localaws.Options, tune func(*provision.Settings), edit func(policy, doc string) string,
	prepare func(context.Context, aws.Config, provision.Settings) error,
) (*stack, error) {
	t.Helper()
	opts.Addr, opts.Instances = "127.0.0.1:0", 2
	srv, err := localaws.Start(opts)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	cfg := srv.ClientConfig()

	s := testenv.Settings(t, "e2e")
	s.ProcessorTimeoutSeconds = 5
	s.EventSourceMaximumConcurrency = 2
	if tune != nil {
		tune(&s)
	}
	if prepare != nil {
		require.NoError(t, prepare(context.Background(), cfg, s))
	}
	out, err := provision.New(cfg, s).EditPolicies(edit).Apply(context.Background(), provision.Zips{
		Processor: testenv.LambdaZip(t, "processor"), Projector: testenv.LambdaZip(t, "projector"), Maintenance: testenv.LambdaZip(t, "maintenance"),
	})
	ddb := dynamodb.NewFromConfig(cfg)
	return &stack{srv: srv, out: out, sqs: sqs.NewFromConfig(cfg), ddb: ddb, store: audit.NewStore(ddb, out.AuditTableName, 90)}, err
}

// testWriter sends function output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b))
	return len(b), nil
}

func (s *stack) send(t *testing.T, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		_, err := s.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &s.out.IngestQueueURL, MessageBody: aws.String(b)})
		require.NoError(t, err)
	}
}

// eventually retries check until it passes or the time is up.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	_, err := retry.DoWithRetryE(t, what, 120, 250*time.Millisecond, func() (string, error) { return "", check() })
	require.NoError(t, err, what)
}

func (s *stack) trailIDs(t *testing.T, tid string) []string {
	t.Helper()
	rows, err := s.store.Trail(context.Background(), tid)
	require.NoError(t, err)
	ids := []string{}
	for _, r := range rows {
		ids = append(ids, r.EventID)
	}
	return ids
}

func (s *stack) waitForTrail(t *testing.T, tid string, want ...string) {
	t.Helper()
	eventually(t, "trail of "+tid, func() error {
		if got := s.trailIDs(t, tid); fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("trail is %v, want %v", got, want)
		}
		return nil
	})
}

func (s *stack) queueCounts(t *testing.T, url string) (visible, inFlight int) {
	t.Helper()
	out, err := s.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"},
	})
	require.NoError(t, err)
	visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	inFlight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible, inFlight
}

func (s *stack) dlqMessages(t *testing.T) []sqstypes.Message {
	t.Helper()
	out, err := s.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: &s.out.IngestDLQURL, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}, VisibilityTimeout: 1,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	require.NoError(t, err)
	return out.Messages
}

func update(tid, eid, status, at string) string {
	return fmt.Sprintf(`{"tracking_id":%q,"event_id":%q,"status":%q,"event_time":%q}`, tid, eid, status, at)
}

func TestPipelineEndToEnd(t *testing.T) {
	t.Parallel()
	// Messages a crashed process held come back after the visibility
	// timeout: keep it short so the crash case finishes quickly.
	five := 5
	s := deploy(t, func(st *provision.Settings) { st.VisibilityTimeoutSeconds = &five })
	ctx := context.Background()

	t.Run("rows, duplicates, conflicts and out-of-order events", func(t *testing.T) {
		c, err := newConsumer(ctx, s)
		require.NoError(t, err)
		s.send(t,
			update("P1", "e2", "IN_TRANSIT", "2026-11-25T10:00:00Z"),
			update("P1", "e3", "DELIVERED", "2026-11-25T12:00:00Z"),
			update("P1", "e1", "PICKED_UP", "2026-11-25T08:00:00Z"), // late and older
		)
		s.waitForTrail(t, "P1", "e1", "e2", "e3")
		// e2 is recorded; the first delivery wins, so resend only now.
		s.send(t,
			update("P1", "e2", "IN_TRANSIT", "2026-11-25T10:00:00Z"), // the same update again
			update("P1", "e2", "RETURNED", "2026-11-25T10:00:00Z"),   // conflicting resend
		)
		eventually(t, "conflict recorded", func() error {
			c, err := s.store.Conflicts(ctx, "P1")
			if err != nil || len(c) != 1 {
				return fmt.Errorf("conflicts %d: %w", len(c), err)
			}
			return nil
		})
		// The latest status and the status-change events follow from the
		// table's stream: the newest event wins whatever the arrival order,
		// and each event moves the status on from the one before it.
		var changes []string
		eventually(t, "latest status projected, its change on the bus", func() error {
			latest, ok, err := s.store.LatestStatus(ctx, "P1")
			if err != nil || !ok || latest.Status != "DELIVERED" {
				return fmt.Errorf("latest status %+v (%w)", latest, err)
			}
			got, err := c.changes(ctx)
			if changes = append(changes, got...); err != nil {
				return err
			}
			if len(changes) == 0 || !strings.HasSuffix(changes[len(changes)-1], ">DELIVERED") {
				return fmt.Errorf("status changes %v", changes)
			}
			return nil
		})
		prev := "-"
		for _, ch := range slices.Compact(of(changes, "P1")) { // at least once: a copy may follow its original
			from, to, _ := strings.Cut(strings.TrimPrefix(ch, "P1:"), ">")
			assert.Equal(t, prev, from, "each change moves on from the status before it: %v", changes)
			if to == "PICKED_UP" {
				assert.Equal(t, "-", from, "the oldest event moves the status only when it comes first: %v", changes)
			}
			prev = to
		}
		rows, err := s.store.Trail(ctx, "P1")
		require.NoError(t, err)
		assert.Equal(t, "IN_TRANSIT", rows[1].Status, "the conflicting resend did not overwrite")
	})

	t.Run("a poison message lands in the DLQ once, with its reason", func(t *testing.T) {
		s.send(t, `{"tracking_id":"P2","status":"DELIVERED"}`)
		var msgs []sqstypes.Message
		eventually(t, "poison in the DLQ", func() error {
			if msgs = s.dlqMessages(t); len(msgs) != 1 {
				return fmt.Errorf("%d messages in the DLQ", len(msgs))
			}
			return nil
		})
		assert.Equal(t, "CONTRACT_VIOLATION", aws.ToString(msgs[0].MessageAttributes["ErrorCode"].StringValue))
		assert.Contains(t, aws.ToString(msgs[0].MessageAttributes["ErrorMessage"].StringValue), "event_time")
		assert.Empty(t, s.trailIDs(t, "P2"), "nothing of it is in the table")
		eventually(t, "ingest queue drained", func() error {
			if v, f := s.queueCounts(t, s.out.IngestQueueURL); v+f != 0 {
				return fmt.Errorf("%d visible, %d in flight", v, f)
			}
			return nil
		})
	})

	t.Run("a crashed handler is restarted and no message is lost", func(t *testing.T) {
		var bodies []string
		var want []string
		for i := range 30 {
			id := fmt.Sprintf("c%02d", i)
			bodies = append(bodies, update("P3", id, "IN_TRANSIT", fmt.Sprintf("2026-11-25T10:%02d:00Z", i)))
			want = append(want, id)
		}
		s.send(t, bodies[:15]...)
		resp, err := http.Post(s.srv.URL+"/_localaws/functions/"+s.out.ProcessorFunctionName+"/crash", "application/json", nil) //nolint:noctx // test
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		_ = resp.Body.Close()
		s.send(t, bodies[15:]...)
		s.waitForTrail(t, "P3", want...)
	})
}

// quickRedrive makes SQS move a failing message to the DLQ within seconds:
// two receives, each visible again after the function's timeout.
func quickRedrive(st *provision.Settings) {
	// As short as Lambda allows: "Queue visibility timeout: 1 seconds is
	// less than Function timeout: 5 seconds" refuses the mapping.
	visibility := st.ProcessorTimeoutSeconds
	st.MaxReceiveCount = 2
	st.VisibilityTimeoutSeconds = &visibility
}

func TestTransientFailureRedriveAndMoveBack(t *testing.T) {
	t.Parallel()
	s := deploy(t, quickRedrive)
	ctx := context.Background()

	// Make the table unavailable: every write fails as a transient error.
	_, err := s.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &s.out.AuditTableName})
	require.NoError(t, err)
	s.send(t, update("P9", "e1", "DELIVERED", "2026-11-25T10:00:00Z"))

	var msgs []sqstypes.Message
	eventually(t, "message redriven to the DLQ by SQS", func() error {
		if msgs = s.dlqMessages(t); len(msgs) != 1 {
			return fmt.Errorf("%d messages in the DLQ", len(msgs))
		}
		return nil
	})
	assert.Nil(t, msgs[0].MessageAttributes["ErrorCode"].StringValue, "SQS redrive attaches no processor reason")

	// The table is back: a move task returns the message, processed once.
	_, err = s.ddb.CreateTable(ctx, audit.CreateTableInput(s.out.AuditTableName))
	require.NoError(t, err)
	if v, f := s.queueCounts(t, s.out.IngestDLQURL); v+f != 1 {
		t.Fatalf("DLQ holds %d visible and %d in-flight messages, want 1", v, f)
	}
	task, err := s.sqs.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: &s.out.IngestDLQARN, MaxNumberOfMessagesPerSecond: aws.Int32(10)})
	require.NoError(t, err)
	require.NotEmpty(t, aws.ToString(task.TaskHandle))
	s.waitForTrail(t, "P9", "e1")

	eventually(t, "move task completed", func() error {
		list, err := s.sqs.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: &s.out.IngestDLQARN})
		if err != nil || len(list.Results) != 1 || aws.ToString(list.Results[0].Status) != "COMPLETED" {
			return fmt.Errorf("tasks %+v: %w", list, err)
		}
		assert.Equal(t, int64(1), list.Results[0].ApproximateNumberOfMessagesMoved)
		return nil
	})
	// A second redrive of the same update adds no row.
	s.send(t, update("P9", "e1", "DELIVERED", "2026-11-25T10:00:00Z"))
	eventually(t, "ingest drained", func() error {
		if v, f := s.queueCounts(t, s.out.IngestQueueURL); v+f != 0 {
			return fmt.Errorf("%d visible, %d in flight", v, f)
		}
		return nil
	})
	assert.Equal(t, []string{"e1"}, s.trailIDs(t, "P9"))
}

// TestMaintenanceRedrivesTransientFailures parks a transient failure (the
// table is gone while it is processed) beside a permanent one, brings the
// table back and fires the maintenance schedule with redrive on: the job
// sends back the transient failure only, which is then written once.
func TestMaintenanceRedrivesTransientFailures(t *testing.T) {
	t.Parallel()
	s := deploy(t, func(st *provision.Settings) {
		quickRedrive(st)
		st.MaintenanceRedriveTransient = true
	})
	ctx := context.Background()
	_, err := s.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &s.out.AuditTableName})
	require.NoError(t, err)
	s.send(t, update("P11", "e1", "DELIVERED", "2026-11-25T10:00:00Z"), `{"tracking_id":"P11","status":"lost"}`)
	eventually(t, "both in the DLQ", func() error {
		if v, f := s.queueCounts(t, s.out.IngestDLQURL); v+f != 2 {
			return fmt.Errorf("%d visible, %d in flight", v, f)
		}
		return nil
	})
	_, err = s.ddb.CreateTable(ctx, audit.CreateTableInput(s.out.AuditTableName))
	require.NoError(t, err)

	resp, err := http.Post(s.srv.URL+"/_localaws/schedules/"+s.out.MaintenanceScheduleName+"/trigger", "application/json", nil) //nolint:noctx // test
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, resp.Body.Close())

	s.waitForTrail(t, "P11", "e1")
	eventually(t, "only the permanent failure left in the DLQ", func() error {
		msgs := s.dlqMessages(t)
		if len(msgs) != 1 || msgs[0].MessageAttributes["ErrorCode"].StringValue == nil {
			return fmt.Errorf("%d messages in the DLQ", len(msgs))
		}
		return nil
	})
}

// TestScheduleRunsMaintenance fires the maintenance schedule now: the job
// digests the DLQ and stores its report.
func TestScheduleRunsMaintenance(t *testing.T) {
	t.Parallel()
	s := deploy(t, nil)
	s.send(t, `{"tracking_id":"P5","status":"lost"}`)
	eventually(t, "poison in the DLQ", func() error {
		if v, f := s.queueCounts(t, s.out.IngestDLQURL); v+f != 1 {
			return fmt.Errorf("%d messages in the DLQ", v+f)
		}
		return nil
	})
	resp, err := http.Post(s.srv.URL+"/_localaws/schedules/"+s.out.MaintenanceScheduleName+"/trigger", "application/json", nil) //nolint:noctx // test
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_ = resp.Body.Close()

	var digest struct {
		ByReason map[string]int `json:"by_reason"`
	}
	eventually(t, "DLQ digest stored by the maintenance job", func() error {
		ok, err := s.store.Report(context.Background(), "DLQDIGEST", time.Now().UTC().Format(audit.DayLayout), &digest)
		if err != nil || !ok {
			return fmt.Errorf("no digest yet: %w", err)
		}
		return nil
	})
	assert.Equal(t, map[string]int{"CONTRACT_VIOLATION": 1}, digest.ByReason)
}

// TestBatchingWindowDoesNotStall sends fewer messages than a batch: the
// poller must invoke when its 1 s window ends, not sit in the queue's 20 s
// long poll (the SDK cannot send a wait of 0).
func TestBatchingWindowDoesNotStall(t *testing.T) {
	t.Parallel()
	s := deploy(t, func(st *provision.Settings) {
		st.BatchSize = 100
		st.MaximumBatchingWindowSeconds = 1
	})
	var want []string
	for i := range 150 {
		id := fmt.Sprintf("w%03d", i)
		s.send(t, update("P7", id, "IN_TRANSIT", fmt.Sprintf("2026-11-25T10:%02d:%02dZ", i/60, i%60)))
		want = append(want, id)
	}
	// Give up after 12 s of 250 ms polls: a stalled partial batch waits 20 s.
	_, err := retry.DoWithRetryE(t, "150 rows", 48, 250*time.Millisecond, func() (string, error) {
		if got := s.trailIDs(t, "P7"); len(got) != len(want) {
			return "", fmt.Errorf("%d rows", len(got))
		}
		return "", nil
	})
	require.NoError(t, err)
}
