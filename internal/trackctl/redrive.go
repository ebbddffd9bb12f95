package trackctl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// hideTiming sets how long a redrive keeps the DLQ messages it holds hidden
// from other consumers: hide at a time, renewed when less than margin is left.
type hideTiming struct {
	hide, margin time.Duration
}

// redriveTiming is the command's: SQS allows 12 hours; a minute at a time,
// renewed with 20 s to spare, keeps a crashed redrive's messages out of
// sight for at most a minute.
var redriveTiming = hideTiming{hide: 60 * time.Second, margin: 20 * time.Second}

// redriveQueue is the part of SQS a redrive uses.
type redriveQueue interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// errInterrupted reports a redrive stopped by its context (a signal).
var errInterrupted = errors.New("redrive interrupted")

// redrive sends each held message to the ingest queue at rate per second,
// deleting it from the DLQ once sent. Every message ends either sent and
// deleted or left in the DLQ, made visible again: a send and its delete are
// never split by an interruption, and the hide of the messages still held is
// renewed before it runs out, so no other consumer (nor a second redrive)
// can receive one while it is being sent. heldSince is when they were hidden.
func redrive(ctx context.Context, q redriveQueue, dlqURL, ingestURL string, held []dlqMessage, heldSince time.Time, rate int, tm hideTiming) (int, error) {
	until := heldSince.Add(tm.hide)
	interval := time.Second / time.Duration(rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i, m := range held {
		if i > 0 {
			select {
			case <-ctx.Done():
				return i, errors.Join(errInterrupted, unhide(q, dlqURL, held[i:]))
			case <-tick.C: // the requested rate
			}
		}
		if ctx.Err() != nil {
			return i, errors.Join(errInterrupted, unhide(q, dlqURL, held[i:]))
		}
		if time.Until(until) < tm.margin {
			if err := setHide(ctx, q, dlqURL, held[i:], tm.hide); err != nil {
				return i, fmt.Errorf("renew the hide of %d message(s): %w (they reappear in the DLQ)", len(held)-i, err)
			}
			until = time.Now().Add(tm.hide)
		}
		// A send and its delete run to the end once started, whatever the context.
		whole := context.WithoutCancel(ctx)
		if _, err := q.SendMessage(whole, &sqs.SendMessageInput{QueueUrl: &ingestURL, MessageBody: aws.String(m.Body)}); err != nil {
			return i, errors.Join(fmt.Errorf("send %s: %w", m.MessageID, err), unhide(q, dlqURL, held[i:]))
		}
		if _, err := q.DeleteMessage(whole, &sqs.DeleteMessageInput{QueueUrl: &dlqURL, ReceiptHandle: m.receipt}); err != nil {
			return i + 1, errors.Join(
				fmt.Errorf("message %s was redriven but not deleted from the DLQ (it is processed idempotently if seen again): %w", m.MessageID, err),
				unhide(q, dlqURL, held[i+1:]))
		}
	}
	return len(held), nil
}

// unhide makes held messages visible again at once.
func unhide(q redriveQueue, url string, held []dlqMessage) error {
	return setHide(context.Background(), q, url, held, 0)
}

// setHide sets the visibility timeout of held messages, ten per call.
func setHide(ctx context.Context, q redriveQueue, url string, held []dlqMessage, hide time.Duration) error {
	var errs []error
	for start := 0; start < len(held); start += 10 {
		chunk := held[start:min(start+10, len(held))]
		entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, len(chunk))
		for k, m := range chunk {
			entries[k] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(k)), ReceiptHandle: m.receipt,
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

// reasonRedrive moves the DLQ messages of one reason back to the ingest queue.
type reasonRedrive struct {
	reason string
	limit  int // most messages inspected
	rate   int // messages sent per second
	dryRun bool
	timing hideTiming
}

// redriveResult counts what a reasonRedrive saw and did.
type redriveResult struct {
	inspected, matched, moved int
}

// run inspects up to limit DLQ messages, releases at once those of other
// reasons, and redrives the matching ones (a dry run only counts them).
func (p reasonRedrive) run(ctx context.Context, q *sqs.Client, dlqURL, ingestURL string) (redriveResult, error) {
	heldSince := time.Now()
	msgs, err := peekDLQ(ctx, q, dlqURL, p.limit, p.timing.hide)
	if err != nil {
		release(context.WithoutCancel(ctx), q, dlqURL, msgs)
		return redriveResult{}, err
	}
	res := redriveResult{inspected: len(msgs)}
	var keep, move []dlqMessage
	for _, m := range msgs {
		if m.Reason == p.reason {
			res.matched++
			if !p.dryRun {
				move = append(move, m)
				continue
			}
		}
		keep = append(keep, m)
	}
	release(context.WithoutCancel(ctx), q, dlqURL, keep)
	if p.dryRun {
		return res, nil
	}
	res.moved, err = redrive(ctx, q, dlqURL, ingestURL, move, heldSince, p.rate, p.timing)
	return res, err
}
