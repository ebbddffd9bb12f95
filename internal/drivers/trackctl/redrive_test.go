package trackctl

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
)

// redriveFixture is a DLQ holding moving messages of reason MOVE and kept
// ones of reason KEEP, and an empty ingest queue.
type redriveFixture struct {
	q           *sqs.Client
	dlq, ingest string
}

func newRedriveFixture(t *testing.T, moving, kept int) redriveFixture {
	t.Helper()
	env := testenv.Start(t)
	f := redriveFixture{q: env.SQS, dlq: env.Queue(t, "redrive-dlq", nil), ingest: env.Queue(t, "redrive-ingest", nil)}
	for i := range moving + kept {
		reason := "MOVE"
		if i >= moving {
			reason = "KEEP"
		}
		_, err := f.q.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: &f.dlq, MessageBody: aws.String(fmt.Sprintf("%s-%03d", reason, i)),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				deadletter.AttrErrorCode: {DataType: aws.String("String"), StringValue: aws.String(reason)},
			},
		})
		require.NoError(t, err)
	}
	return f
}

// drain receives every message of url and returns their bodies, counted.
func (f redriveFixture) drain(t *testing.T, url string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for {
		out, err := f.q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 60})
		require.NoError(t, err)
		if len(out.Messages) == 0 {
			return got
		}
		for _, m := range out.Messages {
			got[aws.ToString(m.Body)]++
		}
	}
}

// TestRedriveInterrupted stops a redrive part-way (a signal cancels its
// context): every message is either in the ingest queue or back in the DLQ,
// never both, never neither.
func TestRedriveInterrupted(t *testing.T) {
	t.Parallel()
	f := newRedriveFixture(t, 20, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond) // about 7 of 20 at 10/s
	defer cancel()
	plan := reasonRedrive{reason: "MOVE", limit: 100, rate: 10, hide: deadletter.DefaultHide}
	res, err := plan.run(ctx, f.q, f.dlq, f.ingest)
	require.ErrorIs(t, err, deadletter.ErrInterrupted)
	require.Positive(t, res.moved)
	require.Less(t, res.moved, 20)

	ingest, dlq := f.drain(t, f.ingest), f.drain(t, f.dlq)
	assert.Len(t, ingest, res.moved, "sent: exactly what the redrive reports")
	assert.Len(t, dlq, 20-res.moved, "the rest is visible in the DLQ again, at once")
	for body := range ingest {
		assert.NotContains(t, dlq, body, "%s is in both queues", body)
	}
}
