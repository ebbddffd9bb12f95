package processor_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
	"github.com/tracking-pipeline/tracking-pipeline/internal/emf"
	"github.com/tracking-pipeline/tracking-pipeline/internal/processor"
)

// TestHandleAgainstLocalAWS runs the handler with real DynamoDB and SQS calls
// on an in-process kumo, one invocation per delivery.
func TestHandleAgainstLocalAWS(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	table := env.AuditTable(t)
	dlqURL := env.Queue(t, "ingest-dlq", nil)
	store := audit.NewStore(env.DDB, table, 30)
	h := processor.New(store, deadletter.NewSender(env.SQS, dlqURL), emf.NewWriter(io.Discard, "Test", nil),
		zaptest.NewLogger(t), processor.Config{MaxConcurrency: 4, DeadlineMargin: time.Second})
	ctx := context.Background()
	invoke := func(recs ...events.SQSMessage) events.SQSEventResponse {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		resp, err := h.Handle(ctx, events.SQSEvent{Records: recs})
		require.NoError(t, err)
		return resp
	}

	v1 := `{"tracking_id":"PKG1","event_id":"e1","status":"IN_TRANSIT","event_time":"2026-11-25T10:00:00Z"}`
	v1Changed := `{"tracking_id":"PKG1","event_id":"e1","status":"LOST","event_time":"2026-11-25T10:00:00Z"}`
	newer := `{"tracking_id":"PKG1","event_id":"e2","status":"DELIVERED","event_time":"2026-11-25T12:00:00Z"}`
	older := `{"tracking_id":"PKG1","event_id":"e0","status":"PICKED_UP","event_time":"2026-11-25T08:00:00Z"}`
	poison := `{"tracking_id":"PKG1","status":"DELIVERED"}`

	assert.Empty(t, invoke(record("m1", v1), record("m2", newer)).BatchItemFailures)
	assert.Empty(t, invoke(record("m1", v1)).BatchItemFailures, "SQS redelivery")
	assert.Empty(t, invoke(record("m3", v1)).BatchItemFailures, "producer resend")
	assert.Empty(t, invoke(record("m4", v1Changed)).BatchItemFailures, "conflicting resend")
	assert.Empty(t, invoke(record("m5", older)).BatchItemFailures, "late, older event")
	assert.Empty(t, invoke(record("m6", poison)).BatchItemFailures, "poison is acknowledged")
	assert.Empty(t, invoke(record("m6", poison)).BatchItemFailures, "SQS redelivers the parked poison: acknowledged, not parked again")

	rows, err := store.Trail(ctx, "PKG1")
	require.NoError(t, err)
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.EventID)
	}
	assert.Equal(t, []string{"e0", "e1", "e2"}, ids, "one row per event, in event-time order")

	conflicts, err := store.Conflicts(ctx, "PKG1")
	require.NoError(t, err)
	require.Len(t, conflicts, 1)
	assert.Equal(t, "m4", conflicts[0].MessageID)

	out, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1,
	})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1, "only the poison message is in the DLQ, once")
	msg := out.Messages[0]
	assert.Equal(t, poison, aws.ToString(msg.Body))
	attr := func(name string) string { return aws.ToString(msg.MessageAttributes[name].StringValue) }
	assert.Equal(t, "CONTRACT_VIOLATION", attr(deadletter.AttrErrorCode))
	assert.Contains(t, attr(deadletter.AttrErrorMessage), "event_time")
	assert.Equal(t, "m6", attr(deadletter.AttrOriginalMessageID))
	assert.Equal(t, "1", attr(deadletter.AttrReceiveCount))
	_, err = time.Parse(time.RFC3339Nano, attr(deadletter.AttrFirstSeenTime))
	assert.NoError(t, err)

	// What the projector counts from the stream: three rows, the producer's
	// resend settled as a duplicate (SQS's redelivery is not one), the
	// conflict, the poison settled as invalid, each written once.
	items, err := env.DDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, it := range items.Items {
		sk := it["sk"].(*ddbtypes.AttributeValueMemberS).Value
		if sk == audit.SKSettled {
			sk += "/" + it[audit.AttrOutcome].(*ddbtypes.AttributeValueMemberS).Value
		}
		kind, _, _ := strings.Cut(sk, "#")
		kinds[kind]++
	}
	assert.Equal(t, map[string]int{"EVT": 3, "CONFLICT": 1, "SETTLED/duplicate": 1, "SETTLED/invalid": 1}, kinds)
}

// TestHandleTransientFailureIsRetried makes the table unavailable: the record
// is reported for retry, the invocation fails (a systemic failure must reach
// Lambda's Errors metric) and nothing reaches the DLQ.
func TestHandleTransientFailureIsRetried(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	dlqURL := env.Queue(t, "dlq", nil)
	store := audit.NewStore(env.DDB, testenv.Unique("missing-table"), 30)
	h := processor.New(store, deadletter.NewSender(env.SQS, dlqURL), emf.NewWriter(io.Discard, "Test", nil),
		zaptest.NewLogger(t), processor.Config{MaxConcurrency: 2, DeadlineMargin: time.Second})
	resp, err := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{record("m1", body("T1"))}})
	require.ErrorIs(t, err, processor.ErrBatchFailed)
	assert.Equal(t, []string{"m1"}, failedIDs(resp))
	attrs, err := env.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(dlqURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
	})
	require.NoError(t, err)
	assert.Equal(t, "0", attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
}
