// Package deadletter sends messages the processor can never accept to the
// dead-letter queue, with the reason attached as message attributes.
package deadletter

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Message attribute names of a rejected message. Operators and the
// maintenance job group the DLQ by AttrErrorCode.
const (
	AttrErrorCode         = "ErrorCode"
	AttrErrorMessage      = "ErrorMessage"
	AttrOriginalMessageID = "OriginalMessageId"
	AttrReceiveCount      = "ReceiveCount"
	AttrFirstSeenTime     = "FirstSeenTime"
	AttrSourceQueue       = "SourceQueueArn"
)

// maxErrorMessage bounds the reason text so the attributes stay small.
const maxErrorMessage = 512

// SQS is the part of the SQS client the sender uses.
type SQS interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ SQS = (*sqs.Client)(nil)

// Reason says why a message was rejected and where it came from.
type Reason struct {
	Code              string
	Message           string
	OriginalMessageID string
	ReceiveCount      string
	FirstSeen         time.Time
	SourceQueueARN    string
}

// Sender sends rejected messages to one queue.
type Sender struct {
	client   SQS
	queueURL string
}

// NewSender returns a sender to the queue at queueURL.
func NewSender(client SQS, queueURL string) *Sender {
	return &Sender{client: client, queueURL: queueURL}
}

// Send puts body, unchanged, on the dead-letter queue with r as attributes.
func (s *Sender) Send(ctx context.Context, body string, r Reason) error {
	attrs := map[string]types.MessageAttributeValue{
		AttrErrorCode:    stringAttr(r.Code),
		AttrErrorMessage: stringAttr(truncate(r.Message, maxErrorMessage)),
	}
	optional := map[string]string{
		AttrOriginalMessageID: r.OriginalMessageID,
		AttrReceiveCount:      r.ReceiveCount,
		AttrSourceQueue:       r.SourceQueueARN,
	}
	if !r.FirstSeen.IsZero() {
		optional[AttrFirstSeenTime] = r.FirstSeen.UTC().Format(time.RFC3339Nano)
	}
	for name, v := range optional {
		if v != "" {
			attrs[name] = stringAttr(v)
		}
	}
	if _, err := s.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          &s.queueURL,
		MessageBody:       &body,
		MessageAttributes: attrs,
	}); err != nil {
		return fmt.Errorf("send message %s to the DLQ: %w", r.OriginalMessageID, err)
	}
	return nil
}

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
