package bench

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tracking-pipeline/tracking-pipeline/internal/audit"
	"github.com/tracking-pipeline/tracking-pipeline/internal/deploy/provision"
)

// lagRate and lagSeconds are the projection-lag run: 1,000 updates a second
// for 10 seconds, one package each.
const (
	lagRate    = 1000
	lagSeconds = 10
)

// printProjectionLag deploys a stack, sends lagRate updates a second (one
// package each) for lagSeconds, and prints how long each took from its send
// (SQS SentTimestamp, the row's sent_at) to its package's latest status
// (the projector's updated_at): the latest status's p50 and p99.
func printProjectionLag(ctx context.Context, w io.Writer, cfg aws.Config, d deployment) error {
	s := d.settings("bench-lag")
	s.EventSourceMaximumConcurrency = instances
	out, err := provision.New(cfg, s).Apply(ctx, d.zips)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	q := sqs.NewFromConfig(cfg)
	n := lagRate * lagSeconds
	ids := make([]string, n)
	tick := time.NewTicker(10 * time.Millisecond) // 10 messages each: lagRate a second
	defer tick.Stop()
	for i := 0; i < n; i += 10 {
		<-tick.C
		entries := make([]sqstypes.SendMessageBatchRequestEntry, 0, 10)
		for j := i; j < min(i+10, n); j++ {
			ids[j] = fmt.Sprintf("LAG%06d", j)
			body := fmt.Sprintf(`{"tracking_id":%q,"event_id":"e1","status":"IN_TRANSIT","event_time":%q}`, ids[j], time.Now().UTC().Format(time.RFC3339))
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j - i)), MessageBody: &body})
		}
		if _, err := q.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &out.IngestQueueURL, Entries: entries}); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	store := audit.NewStore(dynamodb.NewFromConfig(cfg), out.AuditTableName, 90)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, err := store.DailyStats(ctx, time.Now())
		if err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		if st.Total >= int64(n) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("projection lag: %d of %d rows projected after 2 minutes", st.Total, n)
		}
		time.Sleep(200 * time.Millisecond) // polling the counters; the projection offers no completion signal
	}
	var lags, toRow, toLatest []time.Duration
	for _, id := range ids {
		l, ok, err := store.LatestStatus(ctx, id)
		if err != nil || !ok {
			return fmt.Errorf("latest status of %s: %t, %w", id, ok, err)
		}
		rows, err := store.Trail(ctx, id)
		if err != nil || len(rows) != 1 {
			return fmt.Errorf("row of %s: %d, %w", id, len(rows), err)
		}
		sent, err1 := time.Parse(time.RFC3339Nano, rows[0].SentAt)
		moved, err2 := time.Parse(time.RFC3339Nano, l.UpdatedAt)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("times of %s: %q, %q", id, rows[0].SentAt, l.UpdatedAt)
		}
		received, err3 := time.Parse(time.RFC3339Nano, rows[0].ReceivedAt)
		if err3 != nil {
			return fmt.Errorf("received_at of %s: %q", id, rows[0].ReceivedAt)
		}
		lags = append(lags, moved.Sub(sent))
		toRow = append(toRow, received.Sub(sent))
		toLatest = append(toLatest, moved.Sub(received))
	}
	for _, l := range [][]time.Duration{toRow, toLatest} {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	invocations, err := metricSum(ctx, cfg, "AWS/Lambda", "Invocations", out.ProjectorFunctionName)
	if err != nil {
		return err
	}
	busy, err := metricSum(ctx, cfg, "AWS/Lambda", "Duration", out.ProjectorFunctionName)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "projection lag, send to latest status, %d updates/s for %d s (%d packages): p50 %s, p99 %s, max %s (target p99 < 1 s)\n",
		lagRate, lagSeconds, n, pct(lags, 50).Round(time.Millisecond), pct(lags, 99).Round(time.Millisecond), lags[len(lags)-1].Round(time.Millisecond))
	fmt.Fprintf(w, "  of which send to row (the processor): p50 %s, p99 %s; row to latest status (the stream and the projector): p50 %s, p99 %s\n",
		pct(toRow, 50).Round(time.Millisecond), pct(toRow, 99).Round(time.Millisecond), pct(toLatest, 50).Round(time.Millisecond), pct(toLatest, 99).Round(time.Millisecond))
	fmt.Fprintf(w, "  projector: %.0f invocations, %.0f rows and %.0f ms each on average (one stream shard, one batch at a time)\n",
		invocations, float64(n)/invocations, busy/invocations)
	return nil
}
