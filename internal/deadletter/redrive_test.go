package deadletter_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
)

// hold receives every message of url, hidden for hide.
func hold(t *testing.T, q *sqs.Client, url string, hide time.Duration) []deadletter.Held {
	t.Helper()
	var out []deadletter.Held
	for {
		res, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: int32(hide / time.Second),
		})
		require.NoError(t, err)
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			out = append(out, deadletter.Held{MessageID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), Receipt: m.ReceiptHandle})
		}
	}
}

// watch receives from url until stop, as another consumer peeking at it
// would (each message given back at once), and returns the bodies it got.
func watch(q *sqs.Client, url string, stop <-chan struct{}) func() []string {
	var seen []string
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 1})
			if err != nil {
				continue
			}
			for _, m := range out.Messages {
				seen = append(seen, aws.ToString(m.Body))
				_, _ = q.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle})
			}
		}
	})
	return func() []string { wg.Wait(); return seen }
}

// TestRedriveOutlastingItsHide redrives more messages than one hide allows
// at the rate asked (30 at 10/s against a 2 s hide) while another consumer
// reads the DLQ: the hide is renewed, so that consumer never gets a message
// waiting its turn, and each one is sent once and deleted. Hidden once and
// not renewed (as trackctl's redrive did, for 60 s), they reach the other
// consumer and their deletes fail.
func TestRedriveOutlastingItsHide(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	dlq, ingest := env.Queue(t, "held-dlq", nil), env.Queue(t, "held-ingest", nil)
	for i := range 30 {
		_, err := env.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &dlq, MessageBody: aws.String(fmt.Sprintf("m%02d", i))})
		require.NoError(t, err)
	}
	hide := deadletter.Hide{Hide: 2 * time.Second, Margin: time.Second}
	heldSince := time.Now()
	held := hold(t, env.SQS, dlq, hide.Hide)
	require.Len(t, held, 30)

	stop := make(chan struct{})
	seen := watch(env.SQS, dlq, stop)
	moved, err := deadletter.Redrive(context.Background(), env.SQS, dlq, ingest, held, heldSince, 10, hide)
	close(stop)
	require.NoError(t, err)
	assert.Equal(t, 30, moved)
	assert.Empty(t, seen(), "messages waiting their turn reached another consumer")

	sent := map[string]int{}
	for _, m := range hold(t, env.SQS, ingest, time.Minute) {
		sent[m.Body]++
	}
	assert.Len(t, sent, 30)
	for body, n := range sent {
		assert.Equal(t, 1, n, "%s sent %d times", body, n)
	}
	assert.Empty(t, hold(t, env.SQS, dlq, time.Minute), "every message left the DLQ")
}

// TestRedriveRefusedSendGivesTheRestBack: a send SQS refuses stops the
// redrive; the messages not sent are visible in the DLQ again at once.
func TestRedriveRefusedSendGivesTheRestBack(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	dlq := env.Queue(t, "refused-dlq", nil)
	for i := range 5 {
		_, err := env.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &dlq, MessageBody: aws.String(fmt.Sprint("r", i))})
		require.NoError(t, err)
	}
	held := hold(t, env.SQS, dlq, time.Minute)
	moved, err := deadletter.Redrive(context.Background(), env.SQS, dlq, dlq+"-missing", held, time.Now(), 50, deadletter.DefaultHide)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "send ")
	assert.Zero(t, moved)
	assert.Len(t, hold(t, env.SQS, dlq, time.Minute), 5, "all five are back in the DLQ, visible")
}

// TestRedriveRefusesARateOfZero: no panic, nothing sent, everything given back.
func TestRedriveRefusesARateOfZero(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	dlq := env.Queue(t, "rate-dlq", nil)
	_, err := env.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &dlq, MessageBody: aws.String("z")})
	require.NoError(t, err)
	held := hold(t, env.SQS, dlq, time.Minute)
	moved, err := deadletter.Redrive(context.Background(), env.SQS, dlq, dlq, held, time.Now(), 0, deadletter.DefaultHide)
	require.ErrorContains(t, err, "rate 0")
	assert.Zero(t, moved)
	assert.Len(t, hold(t, env.SQS, dlq, time.Minute), 1, "given back at once")
}
