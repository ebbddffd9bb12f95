package deadletter_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/testenv"
)

// TestPeekReadsReasonsAndGivesBack parks a rejected message (with the
// processor's reason) and a redriven one (none), peeks at them with a
// limit, and gives them back: the one shared look of trackctl and the
// maintenance job.
func TestPeekReadsReasonsAndGivesBack(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := context.Background()
	dlq := env.Queue(t, "peek-dlq", nil)
	require.NoError(t, deadletter.NewSender(env.SQS, dlq).Send(ctx, `{"bad":1}`, deadletter.Reason{Code: "CONTRACT_VIOLATION", Message: "tracking_id: required"}))
	_, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &dlq, MessageBody: aws.String("moved by SQS")})
	require.NoError(t, err)
	_, err = env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &dlq, MessageBody: aws.String("third")})
	require.NoError(t, err)

	peeked, err := deadletter.Peek(ctx, env.SQS, dlq, 2, time.Minute)
	require.NoError(t, err)
	require.Len(t, peeked, 2, "the limit holds")
	all, err := deadletter.Peek(ctx, env.SQS, dlq, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, all, 1, "peeked messages stay hidden")
	peeked = append(peeked, all...)

	reasons := map[string]string{}
	for _, p := range peeked {
		reasons[p.Body] = p.Reason + "|" + p.Error
		assert.WithinDuration(t, time.Now(), p.SentAt, time.Minute)
	}
	assert.Equal(t, map[string]string{
		`{"bad":1}`: "CONTRACT_VIOLATION|tracking_id: required", "moved by SQS": deadletter.ReasonRedrive + "|", "third": deadletter.ReasonRedrive + "|",
	}, reasons)

	require.NoError(t, deadletter.Release(env.SQS, dlq, deadletter.HeldOf(peeked)))
	back, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &dlq, MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	require.NoError(t, err)
	assert.Len(t, back.Messages, 3, "given back at once")
}
