// Package soak runs the pipeline on the local AWS under injected faults and
// checks that nothing is lost: every update ends as exactly one audit row
// (or a counted duplicate or conflict), or in the DLQ with its reason.
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
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
	"github.com/tracking-pipeline/tracking-pipeline/internal/drivers/synth"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/faults"
)

// DefaultFaults are the faults a soak injects: DynamoDB throttling and
// internal errors; failed reads of the table's stream (the projector's
// mapping); SQS receive and delete errors (the poller's: a failed delete
// makes SQS deliver a settled message again); latency; a function's process
// (the processor's or the projector's) dying mid-batch or as it answers;
// invocations whose time runs out (a 2.1 s limit against the processor's
// 2 s margin: late groups are deferred).
const DefaultFaults = "dynamodb:GetRecords:server:0.05,dynamodb:*:throttle:0.05,dynamodb:*:server:0.03," +
	"sqs:ReceiveMessage:server:0.1,sqs:DeleteMessageBatch:server:0.1,*:*:latency=2ms:0.2," +
	"lambda:*:crash=50ms:0.03,lambda:*:timeout=2100ms:0.03"

// ShortFaults are DefaultFaults with the rarer faults made common enough
// that a short run (a few dozen invocations, a few dozen stream reads: the
// projector drains 400 updates in seconds) meets each of them.
//
// The first rule that fires decides a call, so the stream-read rule comes
// before the wildcard DynamoDB rules, which would otherwise take its reads.
const ShortFaults = "dynamodb:GetRecords:server:0.3,dynamodb:*:throttle:0.05,dynamodb:*:server:0.03," +
	"sqs:ReceiveMessage:server:0.1,sqs:DeleteMessageBatch:server:0.2,*:*:latency=2ms:0.2," +
	"lambda:*:crash=50ms:0.2,lambda:*:timeout=2100ms:0.15"

// Tune shortens the processor's timeout and the queue's visibility timeout
// (5 s each) so that the batches of crashed invocations come back within a
// soak. (AWS requires the visibility timeout to be at least the function's
// timeout; the module's 6x is a recommendation.)
func Tune(s *provision.Settings) {
	s.ProcessorTimeoutSeconds = 5
	visibility := 5
	s.VisibilityTimeoutSeconds = &visibility
}

// Crashes is how many crashes rules injected: the bound on poison messages
// parked twice (a process that dies between a message's DLQ send and its
// count leaves it to be parked again).
func Crashes(rules []faults.Rule) int64 {
	var n int64
	for _, r := range rules {
		if r.Kind == faults.Crash {
			n += r.Count
		}
	}
	return n
}

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
