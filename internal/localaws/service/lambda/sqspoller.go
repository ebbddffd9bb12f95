package lambda

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/eventpattern"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// defaultPollers is how many batches Lambda's SQS poller has in flight at
// first for a mapping without a maximum concurrency.
const defaultPollers = 5

// mapping is an SQS event source mapping as Lambda runs it.
type mapping struct {
	UUID                  string
	EventSourceArn        string
	FunctionName          string
	BatchSize             int
	WindowSeconds         int
	FunctionResponseTypes []string
	MaximumConcurrency    int
	FilterCriteria        json.RawMessage
	Enabled               bool

	stream streamSettings // a DynamoDB stream's settings

	filters  []eventpattern.Pattern // FilterCriteria's
	cancel   context.CancelFunc
	progress *atomic.Uint64 // a stream mapping's checkpoint, kept across updates
}

func (m *mapping) reportsItemFailures() bool {
	for _, t := range m.FunctionResponseTypes {
		if t == "ReportBatchItemFailures" {
			return true
		}
	}
	return false
}

// poller runs the SQS event source mappings, which kumo stores but never
// polls, with Lambda's documented semantics (Lambda Developer Guide, "Using
// Lambda with Amazon SQS"). A mapping's settings and cancel function change
// only under mu; each polling goroutine works on a copy of its mapping.
type poller struct {
	s    *Service
	ctx  context.Context // ends when the service closes
	stop context.CancelFunc
	wg   sync.WaitGroup // polling and deleting goroutines

	mu       sync.Mutex
	mappings map[string]*mapping
}

func newPoller(s *Service) *poller {
	ctx, stop := context.WithCancel(context.Background())
	return &poller{s: s, ctx: ctx, stop: stop, mappings: map[string]*mapping{}}
}

// stopAll stops every mapping's pollers and waits for them.
func (p *poller) stopAll() {
	p.stop()
	p.wg.Wait()
}

type mappingRequest struct {
	EventSourceArn                 *string
	FunctionName                   *string
	BatchSize                      *int
	MaximumBatchingWindowInSeconds *int
	FunctionResponseTypes          []string
	ScalingConfig                  *struct{ MaximumConcurrency int }
	FilterCriteria                 json.RawMessage
	Enabled                        *bool

	streamRequest

	filters []eventpattern.Pattern // FilterCriteria's, read by readFilters
}

// readFilters reads the request's FilterCriteria into its patterns, or
// returns Lambda's refusal of them.
func (req *mappingRequest) readFilters() string {
	var msg string
	req.filters, msg = filtersOf(req.FilterCriteria)
	return msg
}

func (m *mapping) apply(req mappingRequest) {
	if req.EventSourceArn != nil {
		m.EventSourceArn = *req.EventSourceArn
	}
	if req.FunctionName != nil {
		m.FunctionName = awsapi.FunctionName(*req.FunctionName)
	}
	if req.BatchSize != nil {
		m.BatchSize = *req.BatchSize
	}
	if req.MaximumBatchingWindowInSeconds != nil {
		m.WindowSeconds = *req.MaximumBatchingWindowInSeconds
	}
	if req.FunctionResponseTypes != nil {
		m.FunctionResponseTypes = req.FunctionResponseTypes
	}
	if req.ScalingConfig != nil {
		m.MaximumConcurrency = req.ScalingConfig.MaximumConcurrency
	}
	if req.FilterCriteria != nil {
		m.FilterCriteria, m.filters = req.FilterCriteria, req.filters
	}
	if req.Enabled != nil {
		m.Enabled = *req.Enabled
	}
	m.stream.apply(req.streamRequest)
}

// document merges the mapping's settings into kumo's description of it.
func (m *mapping) document(kumoDoc []byte) map[string]any {
	doc := map[string]any{}
	_ = json.Unmarshal(kumoDoc, &doc)
	doc["UUID"] = m.UUID
	doc["BatchSize"] = m.BatchSize
	doc["MaximumBatchingWindowInSeconds"] = m.WindowSeconds
	doc["FunctionResponseTypes"] = m.FunctionResponseTypes
	if m.MaximumConcurrency > 0 {
		doc["ScalingConfig"] = map[string]int{"MaximumConcurrency": m.MaximumConcurrency}
	}
	if m.FilterCriteria != nil {
		doc["FilterCriteria"] = m.FilterCriteria
	}
	if isStream(m.EventSourceArn) {
		m.stream.document(doc)
	}
	if m.Enabled {
		doc["State"] = "Enabled"
	} else {
		doc["State"] = "Disabled"
	}
	return doc
}

func (p *poller) create(w http.ResponseWriter, r *http.Request) {
	body, err := awsapi.ReadBody(r)
	var req mappingRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", "request body is not JSON")
		return
	}
	if msg := req.readFilters(); msg != "" {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", msg)
		return
	}
	m := &mapping{BatchSize: 10, Enabled: true, progress: &atomic.Uint64{}}
	if req.EventSourceArn != nil && isStream(*req.EventSourceArn) {
		// "Amazon DynamoDB Streams – Default 100"; retries and age -1
		// (until the records expire); one batch per shard at a time.
		m.BatchSize, m.stream = 100, streamSettings{MaximumRetryAttempts: -1, MaximumRecordAgeInSeconds: -1, ParallelizationFactor: 1}
		m.apply(req)
		if code, msg := streamRefusal(req.streamRequest, m); msg != "" {
			awsapi.WriteError(w, http.StatusBadRequest, code, msg)
			return
		}
		if msg := p.s.roleMayReadStream(r.Context(), aws.ToString(req.FunctionName), m.EventSourceArn); msg != "" {
			awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", msg)
			return
		}
	}
	m.apply(req)
	if !isStream(m.EventSourceArn) && m.BatchSize > 10 && m.WindowSeconds < 1 {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException",
			"Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
		return
	}
	if m.MaximumConcurrency != 0 && (m.MaximumConcurrency < 2 || m.MaximumConcurrency > 1000) {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", "MaximumConcurrency must be from 2 to 1000")
		return
	}
	if msg := p.s.roleMayPoll(r.Context(), req.FunctionName, req.EventSourceArn); msg != "" {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", msg)
		return
	}
	if msg := p.s.visibilityCoversTimeout(r.Context(), req.FunctionName, req.EventSourceArn); msg != "" {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", msg)
		return
	}
	status, h, out, ok := p.s.kumo.Exchange(w, r, body)
	if !ok {
		return
	}
	if status >= 300 {
		awsapi.Relay(w, status, h, out)
		return
	}
	var created struct{ UUID string }
	_ = json.Unmarshal(out, &created)
	m.UUID = created.UUID
	p.mu.Lock()
	p.mappings[m.UUID] = m
	p.runLocked(m)
	doc := m.document(out)
	p.mu.Unlock()
	awsapi.WriteJSON(w, status, doc)
}

func (p *poller) list(w http.ResponseWriter, r *http.Request) {
	status, h, out, err := p.s.kumo.Forward(r, nil)
	if err != nil || status >= 300 {
		if err != nil {
			awsapi.WriteError(w, http.StatusBadGateway, "ServiceException", err.Error())
			return
		}
		awsapi.Relay(w, status, h, out)
		return
	}
	var list struct {
		EventSourceMappings []json.RawMessage
		NextMarker          *string
	}
	_ = json.Unmarshal(out, &list)
	docs := make([]any, 0, len(list.EventSourceMappings))
	for _, raw := range list.EventSourceMappings {
		var id struct{ UUID string }
		_ = json.Unmarshal(raw, &id)
		p.mu.Lock()
		if m := p.mappings[id.UUID]; m != nil {
			docs = append(docs, m.document(raw))
		} else {
			docs = append(docs, raw)
		}
		p.mu.Unlock()
	}
	awsapi.WriteJSON(w, http.StatusOK, map[string]any{"EventSourceMappings": docs, "NextMarker": list.NextMarker})
}

func (p *poller) mapping(w http.ResponseWriter, r *http.Request) {
	uuid := r.PathValue("uuid")
	body, ok := awsapi.ReadOrReject(w, r)
	if !ok {
		return
	}
	var req mappingRequest
	if r.Method == http.MethodPut {
		_ = json.Unmarshal(body, &req)
		if msg := req.readFilters(); msg != "" {
			awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValueException", msg)
			return
		}
	}
	status, h, out, ok := p.s.kumo.Exchange(w, r, body)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.mappings[uuid]
	if status >= 300 || m == nil {
		awsapi.Relay(w, status, h, out)
		return
	}
	switch r.Method {
	case http.MethodDelete:
		delete(p.mappings, uuid)
		m.cancel()
		doc := m.document(out)
		doc["State"] = "Deleting"
		awsapi.WriteJSON(w, status, doc)
		return
	case http.MethodPut:
		m.cancel()
		m.apply(req)
		p.runLocked(m)
	}
	awsapi.WriteJSON(w, status, m.document(out))
}

// runLocked starts the mapping's pollers, each on a copy of its settings; a
// disabled mapping polls nothing. The caller holds p.mu.
func (p *poller) runLocked(m *mapping) {
	ctx, cancel := context.WithCancel(p.ctx)
	m.cancel = cancel
	if !m.Enabled || ctx.Err() != nil {
		return
	}
	pollers := defaultPollers
	if m.MaximumConcurrency > 0 {
		pollers = m.MaximumConcurrency
	}
	settings := *m
	if isStream(m.EventSourceArn) {
		// ParallelizationFactor 1: one batch of the shard at a time, in order.
		p.wg.Go(func() { p.pollStream(ctx, settings) })
		return
	}
	for range pollers {
		p.wg.Go(func() { p.poll(ctx, settings) })
	}
}

// poll receives batches and invokes the function until ctx ends. It keeps
// receiving even when the function fails, so SQS's own redrive to the
// dead-letter queue happens after maxReceiveCount, as on AWS.
func (p *poller) poll(ctx context.Context, m mapping) {
	log := p.s.log.With(zap.String("mapping", m.UUID), zap.String("function", m.FunctionName))
	queueURL := ""
	for ctx.Err() == nil {
		if queueURL == "" {
			u, err := p.s.kumo.QueueURL(ctx, m.EventSourceArn)
			if err != nil {
				log.Warn("event source queue not found", zap.Error(err))
				sleep(ctx, time.Second)
				continue
			}
			queueURL = u
		}
		batch, unmatched := splitByFilters(m.filters, p.receive(ctx, queueURL, m), m.EventSourceArn, p.s.region)
		if len(unmatched) > 0 {
			p.wg.Go(func() { p.deleteExcept(context.WithoutCancel(ctx), queueURL, unmatched, nil) })
		}
		if len(batch) == 0 {
			continue
		}
		failed, err := p.deliver(ctx, m, batch)
		if err != nil {
			log.Warn("batch not delivered; messages return after their visibility timeout", zap.Error(err))
			sleep(ctx, time.Second)
			continue
		}
		// Delete while the next batch is received, as Lambda's pollers overlap
		// their work; a delete lost at shutdown only means a redelivery.
		p.wg.Go(func() { p.deleteExcept(context.WithoutCancel(ctx), queueURL, batch, failed) })
	}
}

// receive gathers up to BatchSize messages: with no batching window, what
// one receive returns; with one, until the batch is full or the window,
// counted from the first message, has passed.
func (p *poller) receive(ctx context.Context, queueURL string, m mapping) []sqstypes.Message {
	var batch []sqstypes.Message
	var deadline time.Time
	for ctx.Err() == nil {
		// A wait of 0 cannot be sent (the SDK omits it and the queue's own
		// long-poll default, often 20 s, applies): wait at most what is left
		// of the window, in whole seconds.
		wait := int32(1)
		if len(batch) > 0 {
			wait = int32(min(20, max(1, int(time.Until(deadline).Seconds()+0.999)))) //nolint:gosec // 1-20
		}
		out, err := p.s.kumo.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    &queueURL,
			MaxNumberOfMessages:         int32(min(10, m.BatchSize-len(batch))), //nolint:gosec // at most 10
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if ctx.Err() == nil {
				p.s.log.Warn("receive failed", zap.String("queue", queueURL), zap.Error(err))
				sleep(ctx, time.Second)
			}
			return batch
		}
		if len(batch) == 0 {
			deadline = time.Now().Add(time.Duration(m.WindowSeconds) * time.Second)
		}
		batch = append(batch, out.Messages...)
		if len(batch) == 0 || len(batch) >= m.BatchSize || !time.Now().Before(deadline) {
			return batch
		}
		if len(out.Messages) == 0 {
			sleep(ctx, 50*time.Millisecond)
		}
	}
	return batch
}

// deliver invokes the function with the batch and returns the ids to keep.
func (p *poller) deliver(ctx context.Context, m mapping, batch []sqstypes.Message) (map[string]bool, error) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(batch))}
	for _, msg := range batch {
		ev.Records = append(ev.Records, toRecord(msg, m.EventSourceArn, p.s.region))
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err //nolint:wrapcheck // cannot happen for this type
	}
	res, err := p.s.exec.Invoke(ctx, m.FunctionName, payload)
	if err != nil {
		return nil, err
	}
	return kept(batch, res.FunctionError != "", res.Payload, m.reportsItemFailures()), nil
}

// kept are the ids of the batch's messages that stay on the queue after an
// invocation, as Lambda settles an SQS batch (Lambda Developer Guide,
// "Handling errors for an SQS event source in Lambda", partial batch
// responses): a function error keeps the whole batch; without
// ReportBatchItemFailures a success deletes it all; with it, the response's
// batchItemFailures are kept, an empty or null response or list keeps none,
// and an unreadable response, or an itemIdentifier that is empty, null,
// misnamed or not a message of the batch, keeps the whole batch.
func kept(batch []sqstypes.Message, functionError bool, payload []byte, reportsItemFailures bool) map[string]bool {
	all := map[string]bool{}
	for _, msg := range batch {
		all[aws.ToString(msg.MessageId)] = true
	}
	if functionError {
		return all
	}
	if !reportsItemFailures {
		return map[string]bool{}
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return all
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		if !all[f.ItemIdentifier] {
			return all
		}
		failed[f.ItemIdentifier] = true
	}
	return failed
}

func (p *poller) deleteExcept(ctx context.Context, queueURL string, batch []sqstypes.Message, keep map[string]bool) {
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	for i, msg := range batch {
		if !keep[aws.ToString(msg.MessageId)] {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle})
		}
	}
	for start := 0; start < len(entries); start += 10 {
		if _, err := p.s.kumo.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
			QueueUrl: &queueURL, Entries: entries[start:min(start+10, len(entries))],
		}); err != nil {
			p.s.log.Warn("delete of processed messages failed; they will be delivered again", zap.Error(err))
		}
	}
}

func toRecord(msg sqstypes.Message, sourceARN, region string) events.SQSMessage {
	attrs := map[string]events.SQSMessageAttribute{}
	for k, v := range msg.MessageAttributes {
		attrs[k] = events.SQSMessageAttribute{StringValue: v.StringValue, BinaryValue: v.BinaryValue, DataType: aws.ToString(v.DataType)}
	}
	return events.SQSMessage{
		MessageId:         aws.ToString(msg.MessageId),
		ReceiptHandle:     aws.ToString(msg.ReceiptHandle),
		Body:              aws.ToString(msg.Body),
		Md5OfBody:         aws.ToString(msg.MD5OfBody),
		Attributes:        msg.Attributes,
		MessageAttributes: attrs,
		EventSource:       "aws:sqs",
		EventSourceARN:    sourceARN,
		AWSRegion:         region,
	}
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// esmActions are what an SQS event source mapping does with the function's
// role: "Lambda needs the following permissions to manage messages in your
// Amazon SQS queue: sqs:ReceiveMessage, sqs:DeleteMessage,
// sqs:GetQueueAttributes" (Lambda Developer Guide, "Using Lambda with Amazon SQS").
var esmActions = []string{"ReceiveMessage", "DeleteMessage", "GetQueueAttributes"}

// roleMayPoll checks, as CreateEventSourceMapping does, that the function's
// execution role may poll the queue; it returns Lambda's refusal ("The
// provided execution role does not have permissions to call ReceiveMessage
// on SQS"), or "".
func (s *Service) roleMayPoll(ctx context.Context, function, queueARN *string) string {
	if s.access == nil || function == nil || queueARN == nil || !strings.Contains(*queueARN, ":sqs:") {
		return ""
	}
	session := s.sessionOf(awsapi.FunctionName(*function)).arn
	if session == "" {
		return "" // a function the layer gave no role session (no principals registry)
	}
	parts := strings.SplitN(*queueARN, ":", 6)
	if len(parts) != 6 {
		return "Invalid EventSourceArn " + *queueARN
	}
	queueURL := kumoQueueURL(parts[4], parts[5])
	for _, op := range esmActions {
		if err := s.access.RoleMay(ctx, session, op, queueURL); err != nil {
			s.log.Warn("event source mapping refused", zap.String("function", *function), zap.String("queue", *queueARN), zap.Error(err))
			return "The provided execution role does not have permissions to call " + op + " on SQS"
		}
	}
	return ""
}

// visibilityCoversTimeout checks, as CreateEventSourceMapping does, that
// the queue's visibility timeout is at least the function's timeout:
// "Queue visibility timeout: 30 seconds is less than Function timeout: 60
// seconds" (InvalidParameterValueException; the Lambda Developer Guide's
// SQS pages ask for at least the function timeout). It returns the
// refusal, or "".
func (s *Service) visibilityCoversTimeout(ctx context.Context, function, queueARN *string) string {
	if function == nil || queueARN == nil || !strings.Contains(*queueARN, ":sqs:") {
		return ""
	}
	spec, ok := s.exec.Spec(awsapi.FunctionName(*function))
	parts := strings.SplitN(*queueARN, ":", 6)
	if !ok || len(parts) != 6 {
		return "" // kumo answers for a function or queue it does not know
	}
	url := kumoQueueURL(parts[4], parts[5])
	out, err := s.kumo.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameVisibilityTimeout}})
	if err != nil {
		return ""
	}
	visibility, err := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameVisibilityTimeout)])
	timeout := int(spec.Timeout / time.Second)
	if err != nil || visibility >= timeout {
		return ""
	}
	return fmt.Sprintf("Queue visibility timeout: %d seconds is less than Function timeout: %d seconds", visibility, timeout)
}

// kumoQueueURL is a queue's URL as kumo matches it (by path).
func kumoQueueURL(account, name string) string {
	return upstream.QueueHost + "/" + account + "/" + name
}
