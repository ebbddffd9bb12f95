package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Held is a DLQ message received, and so hidden, by whoever holds it.
type Held struct {
	MessageID string
	Body      string
	Receipt   *string
}

// Hide sets how long held messages stay hidden from other consumers: Hide
// at a time, renewed when less than Margin is left. SQS allows 12 hours.
type Hide struct {
	Hide, Margin time.Duration
}

// DefaultHide is a minute at a time, renewed with 20 s to spare: a crashed
// holder's messages are out of sight for at most a minute.
var DefaultHide = Hide{Hide: 60 * time.Second, Margin: 20 * time.Second}

// RedriveQueue is the part of the SQS client a redrive uses.
type RedriveQueue interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// ErrInterrupted reports a redrive stopped by its context.
var ErrInterrupted = errors.New("redrive interrupted")

var errBadRate = errors.New("invalid redrive rate")

// Redrive sends each held message to the ingest queue at rate per second,
// deleting it from the DLQ once sent, and returns how many it moved. Every
// message ends either sent and deleted or left in the DLQ, made visible
// again at once: a send and its delete are never split by the context
// ending, and the hide of the messages still held is renewed before it runs
// out, so no other consumer (nor a second redrive) can receive one while it
// waits its turn. heldSince is when they were hidden, for hide.Hide.
func Redrive(ctx context.Context, q RedriveQueue, dlqURL, ingestURL string, held []Held, heldSince time.Time, rate int, hide Hide) (int, error) {
	if rate < 1 {
		return 0, errors.Join(fmt.Errorf("%w: rate %d, want at least 1 message a second", errBadRate, rate), Release(q, dlqURL, held))
	}
	until := heldSince.Add(hide.Hide)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i, m := range held {
		if i > 0 {
			select {
			case <-ctx.Done():
			case <-tick.C: // the requested rate
			}
		}
		if ctx.Err() != nil {
			return i, errors.Join(ErrInterrupted, Release(q, dlqURL, held[i:]))
		}
		if time.Until(until) < hide.Margin {
			if err := SetHide(ctx, q, dlqURL, held[i:], hide.Hide); err != nil {
				return i, fmt.Errorf("renew the hide of %d message(s): %w (they reappear in the DLQ)", len(held)-i, err)
			}
			until = time.Now().Add(hide.Hide)
		}
		// A send and its delete run to the end once started, whatever the context.
		whole := context.WithoutCancel(ctx)
		if _, err := q.SendMessage(whole, &sqs.SendMessageInput{QueueUrl: &ingestURL, MessageBody: aws.String(m.Body)}); err != nil {
			return i, errors.Join(fmt.Errorf("send %s: %w", m.MessageID, err), Release(q, dlqURL, held[i:]))
		}
		if _, err := q.DeleteMessage(whole, &sqs.DeleteMessageInput{QueueUrl: &dlqURL, ReceiptHandle: m.Receipt}); err != nil {
			return i + 1, errors.Join(
				fmt.Errorf("message %s was redriven but not deleted from the DLQ (it is processed idempotently if seen again): %w", m.MessageID, err),
				Release(q, dlqURL, held[i+1:]))
		}
	}
	return len(held), nil
}

// Release makes held messages visible again at once.
func Release(q RedriveQueue, url string, held []Held) error {
	return SetHide(context.Background(), q, url, held, 0)
}

// SetHide sets the visibility timeout of held messages, ten per call.
func SetHide(ctx context.Context, q RedriveQueue, url string, held []Held, hide time.Duration) error {
	var errs []error
	for start := 0; start < len(held); start += 10 {
		chunk := held[start:min(start+10, len(held))]
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(chunk))
		for k, m := range chunk {
			entries[k] = types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(k)), ReceiptHandle: m.Receipt,
				VisibilityTimeout: int32(hide / time.Second), //nolint:gosec // at most SQS's 12 hours
			}
		}
		out, err := q.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &url, Entries: entries})
		if err != nil {
			errs = append(errs, fmt.Errorf("change visibility: %w", err))
			continue
		}
		for _, f := range out.Failed {
			errs = append(errs, fmt.Errorf("change visibility of entry %s: %s", aws.ToString(f.Id), aws.ToString(f.Message)))
		}
	}
	return errors.Join(errs...)
}
