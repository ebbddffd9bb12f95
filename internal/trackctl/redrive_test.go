package trackctl

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/testenv"
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

// watch receives from the DLQ until stop, as another consumer peeking at it
// would, and returns the moving messages it was given while the redrive
// held them.
func (f redriveFixture) watch(stop <-chan struct{}) func() []string {
	var seen []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			out, err := f.q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &f.dlq, MaxNumberOfMessages: 10, VisibilityTimeout: 1})
			if err != nil {
				continue
			}
			for _, m := range out.Messages {
				if b := aws.ToString(m.Body); b[:4] == "MOVE" {
					seen = append(seen, b)
				}
				// A peeking consumer: it gives each message back at once.
				_, _ = f.q.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{QueueUrl: &f.dlq, ReceiptHandle: m.ReceiptHandle})
			}
		}
	})
	return func() []string { wg.Wait(); return seen }
}

// TestRedriveOutlastingItsHide redrives more messages than one hide allows
// at the rate asked (30 at 10/s against a 2 s hide) while another consumer
// reads the DLQ: the hide is renewed, so that consumer never gets a message
// being redriven, each one is sent once and deleted, and the other reasons
// stay in the DLQ. With the hide not renewed (the old redrive hid messages
// once, for 60 s), the consumer gets them and they are sent twice or left.
func TestRedriveOutlastingItsHide(t *testing.T) {
	t.Parallel()
	f := newRedriveFixture(t, 30, 5)
	tm := hideTiming{hide: 2 * time.Second, margin: time.Second}
	heldSince := time.Now()
	msgs, err := peekDLQ(context.Background(), f.q, f.dlq, 100, tm.hide)
	require.NoError(t, err)
	var move, keep []dlqMessage
	for _, m := range msgs {
		if m.Reason == "MOVE" {
			move = append(move, m)
		} else {
			keep = append(keep, m)
		}
	}
	require.Len(t, move, 30)
	release(context.Background(), f.q, f.dlq, keep)

	stop := make(chan struct{})
	seen := f.watch(stop) // from now on, another consumer reads the DLQ
	moved, err := redrive(context.Background(), f.q, f.dlq, f.ingest, move, heldSince, 10, tm)
	close(stop)
	require.NoError(t, err)
	assert.Empty(t, seen(), "messages being redriven reached another consumer")
	assert.Equal(t, 30, moved)

	ingest := f.drain(t, f.ingest)
	assert.Len(t, ingest, 30)
	for body, n := range ingest {
		assert.Equal(t, 1, n, "%s sent %d times", body, n)
	}
	assert.Len(t, f.drain(t, f.dlq), 5, "only the other reason stays in the DLQ")
}

// TestRedriveInterrupted stops a redrive part-way (a signal cancels its
// context): every message is either in the ingest queue or back in the DLQ,
// never both, never neither.
func TestRedriveInterrupted(t *testing.T) {
	t.Parallel()
	f := newRedriveFixture(t, 20, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond) // about 7 of 20 at 10/s
	defer cancel()
	plan := reasonRedrive{reason: "MOVE", limit: 100, rate: 10, timing: redriveTiming}
	res, err := plan.run(ctx, f.q, f.dlq, f.ingest)
	require.ErrorIs(t, err, errInterrupted)
	require.Positive(t, res.moved)
	require.Less(t, res.moved, 20)

	ingest, dlq := f.drain(t, f.ingest), f.drain(t, f.dlq)
	assert.Len(t, ingest, res.moved, "sent: exactly what the redrive reports")
	assert.Len(t, dlq, 20-res.moved, "the rest is visible in the DLQ again, at once")
	for body := range ingest {
		assert.NotContains(t, dlq, body, "%s is in both queues", body)
	}
}
