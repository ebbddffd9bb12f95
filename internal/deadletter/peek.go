package deadletter

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ReasonRedrive groups DLQ messages SQS moved there after max receives:
// transient failures, the only ones ever redriven automatically.
const ReasonRedrive = "MAX_RECEIVES_EXCEEDED"

// ReasonOf is the reason a DLQ message is there: the processor's ErrorCode
// attribute, or ReasonRedrive when SQS moved it after max receives.
func ReasonOf(m types.Message) string {
	if v := m.MessageAttributes[AttrErrorCode].StringValue; v != nil {
		return *v
	}
	return ReasonRedrive
}

// Receiver is the part of the SQS client a peek uses.
type Receiver interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
}

// Peeked is a DLQ message received, and so hidden, for a look.
type Peeked struct {
	Held
	Reason string    // ReasonOf
	Error  string    // the processor's ErrorMessage attribute, if any
	SentAt time.Time // zero when SQS did not say
}

// Peek receives up to limit DLQ messages with their attributes, hidden for
// hide (SQS allows up to 12 hours); the caller gives them back (Release) or
// acts on them. On error the messages received so far are returned, still
// held, with the error.
func Peek(ctx context.Context, q Receiver, url string, limit int, hide time.Duration) ([]Peeked, error) {
	var out []Peeked
	for len(out) < limit {
		res, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &url, MaxNumberOfMessages: int32(min(10, limit-len(out))), //nolint:gosec // at most 10
			VisibilityTimeout:           int32(hide / time.Second), //nolint:gosec // at most SQS's 12 hours
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameSentTimestamp},
		})
		if err != nil {
			return out, fmt.Errorf("peek at the DLQ: %w", err)
		}
		if len(res.Messages) == 0 {
			break
		}
		for _, m := range res.Messages {
			p := Peeked{
				Held:   Held{MessageID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), Receipt: m.ReceiptHandle},
				Reason: ReasonOf(m), Error: aws.ToString(m.MessageAttributes[AttrErrorMessage].StringValue),
			}
			if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
				p.SentAt = time.UnixMilli(ms)
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// HeldOf returns the held part of peeked messages.
func HeldOf(peeked []Peeked) []Held {
	out := make([]Held, len(peeked))
	for i, p := range peeked {
		out[i] = p.Held
	}
	return out
}
