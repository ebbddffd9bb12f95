// Package soak runs the pipeline on the local AWS under injected faults and
// checks that nothing is lost: every update ends as exactly one audit row
// (or a counted duplicate or conflict), or in the DLQ once with its reason.
package soak

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/synth"
)

// DefaultFaults are the faults a soak injects: DynamoDB throttling,
// internal errors and transaction conflicts, SQS receive errors (the
// poller's), and latency. Not injected: failed deletes and function
// crashes, after which SQS redelivers what was already written: the
// processor counts such a redelivery as a duplicate and may park poison
// twice, so the checks below could not be exact (see the reliability issue).
const DefaultFaults = "dynamodb:*:throttle:0.05,dynamodb:*:server:0.03,dynamodb:TransactWriteItems:conflict:0.1," +
	"sqs:ReceiveMessage:server:0.1,*:*:latency=2ms:0.2"

// Send puts msgs on the queue in batches of 10, sending refused entries
// again (up to 5 times).
func Send(ctx context.Context, q *sqs.Client, url string, msgs []synth.Message) error {
	for start := 0; start < len(msgs); start += 10 {
		batch := msgs[start:min(start+10, len(msgs))]
		pending := map[string]string{}
		for i, m := range batch {
			pending[strconv.Itoa(i)] = m.Body
		}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == 5 {
				return fmt.Errorf("send: %d message(s) refused 5 times", len(pending))
			}
			entries := make([]sqstypes.SendMessageBatchRequestEntry, 0, len(pending))
			for id, body := range pending {
				entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(body)})
			}
			out, err := q.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
			if err != nil {
				continue // the SDK retried already; try the batch again
			}
			for _, ok := range out.Successful {
				delete(pending, aws.ToString(ok.Id))
			}
		}
	}
	return nil
}

// Drain waits until the queue is empty and every message is accounted for
// in the day counters, or the timeout passes.
func Drain(ctx context.Context, w io.Writer, q *sqs.Client, url string, store *audit.Store, sent int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := days(ctx, store)
		if err != nil {
			return err
		}
		waiting, err := Waiting(ctx, q, url)
		if err != nil {
			return err
		}
		handled := st.Total + st.Duplicates + st.Conflicts + st.Invalid
		fmt.Fprintf(w, "\r    handled %d/%d, on the queue %d   ", handled, sent, waiting)
		if waiting == 0 && handled >= int64(sent) {
			fmt.Fprintln(w)
			return nil
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(w)
			return fmt.Errorf("not drained within %s: %d of %d handled, %d on the queue", timeout, handled, sent, waiting)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("drain: %w", ctx.Err())
		}
	}
}

// days sums today's and yesterday's counters (a run may cross midnight UTC).
func days(ctx context.Context, store *audit.Store) (audit.DayStats, error) {
	var sum audit.DayStats
	sum.ByStatus = map[string]int64{}
	now := time.Now().UTC()
	for _, d := range []time.Time{now, now.AddDate(0, 0, -1)} {
		st, err := store.DailyStats(ctx, d)
		if err != nil {
			return sum, fmt.Errorf("day counters: %w", err)
		}
		sum.Total += st.Total
		sum.Duplicates += st.Duplicates
		sum.Conflicts += st.Conflicts
		sum.Invalid += st.Invalid
		for k, v := range st.ByStatus {
			sum.ByStatus[k] += v
		}
	}
	return sum, nil
}

// Waiting is how many messages a queue holds, visible or in flight (the
// one depth read of the demo, the bench and the soak).
func Waiting(ctx context.Context, q *sqs.Client, url string) (int, error) {
	out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
	}})
	if err != nil {
		return 0, fmt.Errorf("read queue depth: %w", err)
	}
	v, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	f, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return v + f, nil
}
