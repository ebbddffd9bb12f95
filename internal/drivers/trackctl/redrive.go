package trackctl

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/tracking-pipeline/tracking-pipeline/internal/deadletter"
)

// reasonRedrive moves the DLQ messages of one reason back to the ingest queue.
type reasonRedrive struct {
	reason string
	limit  int // most messages inspected
	rate   int // messages sent per second
	dryRun bool
	hide   deadletter.Hide
}

// redriveResult counts what a reasonRedrive saw and did.
type redriveResult struct {
	inspected, matched, moved int
}

// run inspects up to limit DLQ messages, releases at once those of other
// reasons, and redrives the matching ones (a dry run only counts them)
// through deadletter.Redrive: each ends sent once or back in the DLQ.
func (p reasonRedrive) run(ctx context.Context, q *sqs.Client, dlqURL, ingestURL string) (redriveResult, error) {
	heldSince := time.Now()
	msgs, err := peekDLQ(ctx, q, dlqURL, p.limit, p.hide.Hide)
	if err != nil {
		release(q, dlqURL, msgs)
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
	release(q, dlqURL, keep)
	if p.dryRun {
		return res, nil
	}
	res.moved, err = deadletter.Redrive(ctx, q, dlqURL, ingestURL, held(move), heldSince, p.rate, p.hide)
	return res, err //nolint:wrapcheck // the command says where it stopped
}

// held are messages as deadletter.Redrive takes them.
func held(msgs []dlqMessage) []deadletter.Held {
	out := make([]deadletter.Held, len(msgs))
	for i, m := range msgs {
		out[i] = deadletter.Held{MessageID: m.MessageID, Body: m.Body, Receipt: m.receipt}
	}
	return out
}
