package lambda

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/eventpattern"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/service/dynamodb"
)

// streamPollInterval: "Lambda polls shards in your DynamoDB stream for
// records at a base rate of 4 times per second" (Lambda Developer Guide,
// "Using AWS Lambda with Amazon DynamoDB").
const streamPollInterval = 250 * time.Millisecond

// retryPause is the pause before a failed batch is tried again.
const retryPause = 100 * time.Millisecond

// windowState is a tumbling window's bounds and the state the function
// returned last ("Tumbling windows").
type windowState struct {
	start, end time.Time
	state      json.RawMessage
	delivered  bool // a batch of the window was delivered: a final invoke is due
}

// streamReader is one stream mapping's reader: one shard, in order
// (ParallelizationFactor 1 reads each shard with one batch at a time).
type streamReader struct {
	p          *poller
	m          mapping
	log        *zap.Logger
	shard      string
	checkpoint uint64 // the next sequence number to process
	window     *windowState
}

// pollStream runs a DynamoDB stream mapping until ctx ends.
func (p *poller) pollStream(ctx context.Context, m mapping) {
	r := &streamReader{p: p, m: m, log: p.s.log.With(zap.String("mapping", m.UUID), zap.String("function", m.FunctionName))}
	shard, trim, latest, ok := p.s.streams.StreamShard(m.EventSourceArn)
	if !ok {
		r.log.Warn("event source stream not found")
		return
	}
	r.shard, r.checkpoint = shard, trim
	if m.stream.StartingPosition == "LATEST" {
		r.checkpoint = latest
	}
	if n := m.progress.Load(); n != 0 { // an updated mapping goes on where it was
		r.checkpoint = n
	}
	for ctx.Err() == nil {
		worked := r.step(ctx)
		m.progress.Store(r.checkpoint)
		if !worked && !sleep(ctx, streamPollInterval) {
			return
		}
	}
}

// step reads and processes one batch; it reports whether it found work.
func (r *streamReader) step(ctx context.Context) bool {
	now := r.p.s.now()
	// A read that fails (an injected fault) is tried again at the next
	// poll, from the same checkpoint: nothing is skipped.
	if r.p.s.faults != nil && r.p.s.faults.Fails(ctx, "dynamodb", "GetRecords") {
		r.log.Debug("stream read failed (injected fault)")
		return false
	}
	batch, ok := r.p.s.streams.ReadStream(r.m.EventSourceArn, r.checkpoint, r.m.BatchSize)
	if !ok || len(batch) == 0 {
		return r.closeWindow(ctx, now, nil)
	}
	// A batching window waits for a full batch up to its length, counted
	// from the oldest record.
	if len(batch) < r.m.BatchSize && r.m.WindowSeconds > 0 && now.Sub(batch[0].At) < time.Duration(r.m.WindowSeconds)*time.Second {
		return false
	}
	if r.m.stream.TumblingWindowInSeconds > 0 {
		if r.closeWindow(ctx, now, &batch[0]) {
			return true
		}
		if batch = r.withinWindow(batch); len(batch) == 0 {
			r.window = nil // a window none of whose records was delivered
			return true
		}
	}
	// Records older than MaximumRecordAgeInSeconds are discarded to the
	// on-failure destination.
	if age := r.m.stream.MaximumRecordAgeInSeconds; age > 0 {
		n := 0
		for n < len(batch) && now.Sub(batch[n].At) > time.Duration(age)*time.Second {
			n++
		}
		if n > 0 {
			r.discard(ctx, batch[:n], "RecordAgeExceeded", 0)
			r.checkpoint = batch[n-1].Seq + 1
			return true
		}
	}
	matched := r.filter(batch)
	last := batch[len(batch)-1].Seq
	if len(matched) > 0 {
		if !r.deliver(ctx, matched) {
			return true // stopped; the checkpoint stays
		}
	}
	r.checkpoint = max(r.checkpoint, last+1)
	if r.window != nil {
		r.window.delivered = true
	}
	r.p.s.metrics.Record("AWS/Lambda", "IteratorAge", map[string]string{"FunctionName": r.m.FunctionName},
		float64(r.p.s.now().Sub(batch[len(batch)-1].At).Milliseconds()), "Milliseconds")
	return true
}

// filter keeps the records the mapping's filter criteria match: "Once
// your filter criteria processes an Kinesis or DynamoDB record, the
// streams iterator advances past this record" (Lambda event filtering).
func (r *streamReader) filter(batch []dynamodb.StreamRecord) []dynamodb.StreamRecord {
	if len(r.m.filters) == 0 {
		return batch
	}
	var out []dynamodb.StreamRecord
	for _, rec := range batch {
		doc, err := json.Marshal(eventRecord(rec, r.m.EventSourceArn))
		if err != nil {
			continue
		}
		ev, _ := eventpattern.Decode(doc)
		for _, pat := range r.m.filters {
			if pat.Matches(ev) {
				out = append(out, rec)
				break
			}
		}
	}
	return out
}

// deliver invokes the function with batch until every record is done: a
// success moves on; a partial batch response retries from the lowest
// failed sequence number; a function error retries the batch, or halves
// it (BisectBatchOnFunctionError: "Splitting batches doesn't consume the
// retry quota"); a batch past MaximumRetryAttempts or
// MaximumRecordAgeInSeconds goes to the on-failure destination. It returns
// false when ctx ended first.
func (r *streamReader) deliver(ctx context.Context, batch []dynamodb.StreamRecord) bool {
	type part struct {
		recs     []dynamodb.StreamRecord
		attempts int
	}
	pending := []part{{recs: batch}}
	for len(pending) > 0 {
		if ctx.Err() != nil {
			return false
		}
		cur := &pending[0]
		if age := r.m.stream.MaximumRecordAgeInSeconds; age > 0 && r.p.s.now().Sub(cur.recs[0].At) > time.Duration(age)*time.Second {
			r.discard(ctx, cur.recs, "RecordAgeExceeded", cur.attempts)
			pending = pending[1:]
			continue
		}
		failedAt, ok := r.invoke(ctx, cur.recs)
		cur.attempts++
		switch {
		case ok && failedAt < 0:
			pending = pending[1:]
			continue
		case ok: // the records before the lowest failure are done
			cur.recs = cur.recs[failedAt:]
		case r.m.stream.BisectBatchOnFunctionError && len(cur.recs) > 1:
			half := len(cur.recs) / 2
			first, second := part{recs: cur.recs[:half]}, part{recs: cur.recs[half:]}
			pending = append([]part{first, second}, pending[1:]...)
			continue
		}
		if retries := r.m.stream.MaximumRetryAttempts; retries >= 0 && cur.attempts > retries {
			r.discard(ctx, cur.recs, "RetryAttemptsExhausted", cur.attempts)
			pending = pending[1:]
			continue
		}
		if !sleep(ctx, retryPause) {
			return false
		}
	}
	return true
}

// invoke runs one batch. ok false is a failure of the whole batch (a
// function error, an unreadable answer, an unknown or empty item
// identifier, a window without state); failedAt is the index of the lowest
// failed record of a partial batch response, -1 for none.
func (r *streamReader) invoke(ctx context.Context, batch []dynamodb.StreamRecord) (int, bool) {
	payload, err := streamEvent(batch, r.m.EventSourceArn, r.window, false, r.shard)
	if err != nil {
		return 0, false
	}
	res, err := r.p.s.exec.Invoke(ctx, r.m.FunctionName, payload)
	if err != nil || res.FunctionError != "" {
		r.log.Debug("stream batch failed", zap.Error(err), zap.ByteString("payload", res.Payload))
		return 0, false
	}
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
		State json.RawMessage `json:"state"`
	}
	if len(res.Payload) > 0 && string(res.Payload) != "null" {
		if err := json.Unmarshal(res.Payload, &resp); err != nil && r.m.reportsItemFailures() {
			return 0, false
		}
	}
	if r.window != nil {
		// "If the response does not contain a state property, Lambda
		// considers this a failed invocation."
		if len(resp.State) == 0 {
			return 0, false
		}
		r.window.state = resp.State
	}
	if !r.m.reportsItemFailures() || len(resp.BatchItemFailures) == 0 {
		return -1, true
	}
	// "Lambda uses the record with the lowest sequence number as the
	// checkpoint"; an empty, null or unknown identifier fails the batch.
	lowest := -1
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == nil {
			return 0, false
		}
		i := indexOfSeq(batch, *f.ItemIdentifier)
		if i < 0 {
			return 0, false
		}
		if lowest < 0 || i < lowest {
			lowest = i
		}
	}
	return lowest, true
}

func indexOfSeq(batch []dynamodb.StreamRecord, seq string) int {
	n, ok := dynamodb.ParseSequenceNumber(seq)
	if !ok {
		return -1
	}
	for i, r := range batch {
		if r.Seq == n {
			return i
		}
	}
	return -1
}

// withinWindow cuts batch at the end of the tumbling window of its first
// record, opening that window when none is: windows are bounded "based on
// the time when records were inserted into the stream".
func (r *streamReader) withinWindow(batch []dynamodb.StreamRecord) []dynamodb.StreamRecord {
	size := time.Duration(r.m.stream.TumblingWindowInSeconds) * time.Second
	if r.window == nil {
		start := batch[0].At.Truncate(size)
		r.window = &windowState{start: start, end: start.Add(size), state: json.RawMessage(`{}`)}
	}
	for i, rec := range batch {
		if !rec.At.Before(r.window.end) {
			return batch[:i]
		}
	}
	return batch
}

// closeWindow makes the final invocation of a window once its records were
// delivered: the next record is past its end or, with none waiting, its end
// has passed (a record written later is later than that):
// isFinalInvokeForWindow true, no records, the state. It reports whether
// it invoked.
func (r *streamReader) closeWindow(ctx context.Context, now time.Time, next *dynamodb.StreamRecord) bool {
	w := r.window
	switch {
	case w == nil || !w.delivered:
		return false
	case next != nil && next.At.Before(w.end): // a record of the window is still to come
		return false
	case next == nil && now.Before(w.end): // the window may still get records
		return false
	}
	payload, err := streamEvent(nil, r.m.EventSourceArn, w, true, r.shard)
	if err != nil {
		return false
	}
	for ctx.Err() == nil {
		res, err := r.p.s.exec.Invoke(ctx, r.m.FunctionName, payload)
		if err == nil && res.FunctionError == "" {
			r.window = nil
			return true
		}
		// "If invocation is unsuccessful, your Lambda function suspends
		// further processing until a successful invocation."
		if !sleep(ctx, retryPause) {
			return true
		}
	}
	return true
}

// discard sends a record of a batch Lambda gave up on to the on-failure
// destination (Lambda Developer Guide, "Error handling for DynamoDB event
// sources": "The actual records aren't included"), as the function's role.
func (r *streamReader) discard(ctx context.Context, batch []dynamodb.StreamRecord, condition string, attempts int) {
	r.log.Warn("stream records discarded", zap.String("condition", condition), zap.Int("records", len(batch)))
	dest := r.m.stream.OnFailure
	if dest == "" {
		return
	}
	first, last := batch[0], batch[len(batch)-1]
	record, _ := json.Marshal(map[string]any{
		"requestContext": map[string]any{
			"requestId":              fmt.Sprintf("%s-%d", r.m.UUID, first.Seq),
			"functionArn":            "arn:aws:lambda:" + r.p.s.region + ":" + functionAccount + ":function:" + r.m.FunctionName,
			"condition":              condition,
			"approximateInvokeCount": attempts,
		},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"version":         "1.0",
		"timestamp":       r.p.s.now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"DDBStreamBatchInfo": map[string]any{
			"shardId":                         r.shard,
			"startSequenceNumber":             dynamodb.FormatSequenceNumber(first.Seq),
			"endSequenceNumber":               dynamodb.FormatSequenceNumber(last.Seq),
			"approximateArrivalOfFirstRecord": first.At.UTC().Format("2006-01-02T15:04:05Z"),
			"approximateArrivalOfLastRecord":  last.At.UTC().Format("2006-01-02T15:04:05Z"),
			"batchSize":                       len(batch),
			"streamArn":                       r.m.EventSourceArn,
		},
	})
	var err error
	if isQueue(dest) {
		var u string
		if u, err = r.p.s.kumo.QueueURL(ctx, dest); err == nil {
			if err = r.p.s.roleMaySend(ctx, r.m.FunctionName, u); err == nil {
				_, err = r.p.s.kumo.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &u, MessageBody: stringPtr(string(record))})
			}
		}
	} else {
		if err = r.p.s.roleMayPublish(ctx, r.m.FunctionName, dest); err == nil {
			_, err = r.p.s.kumo.SNS.Publish(ctx, &sns.PublishInput{TopicArn: &dest, Message: stringPtr(string(record))})
		}
	}
	if err != nil {
		r.log.Error("on-failure destination not reached", zap.String("destination", dest), zap.Error(err))
	}
}

func isQueue(arn string) bool { return len(arn) > 12 && arn[:12] == "arn:aws:sqs:" }

// roleMayPublish decides, by the role's identity policies, whether the
// function's role may publish to topic (the topic's own policy and key are
// not judged here: README, gap table).
func (s *Service) roleMayPublish(ctx context.Context, name, topic string) error {
	session := s.sessionOf(name)
	if s.access == nil || session.arn == "" {
		return nil
	}
	return s.access.RoleMayAct(ctx, session.arn, "sns", "sns:Publish", topic) //nolint:wrapcheck // the guard's refusal names the call
}
