package localaws

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.uber.org/zap"
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

	cancel context.CancelFunc
}

func (m *mapping) reportsItemFailures() bool {
	for _, t := range m.FunctionResponseTypes {
		if t == "ReportBatchItemFailures" {
			return true
		}
	}
	return false
}

// Poller runs the SQS event source mappings, which kumo stores but never
// polls, with Lambda's documented semantics.
type Poller struct {
	s        *Server
	mu       sync.Mutex
	mappings map[string]*mapping
}

func newPoller(s *Server) *Poller { return &Poller{s: s, mappings: map[string]*mapping{}} }

func (p *Poller) stopAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.mappings {
		if m.cancel != nil {
			m.cancel()
		}
	}
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
}

func (m *mapping) apply(req mappingRequest) {
	if req.EventSourceArn != nil {
		m.EventSourceArn = *req.EventSourceArn
	}
	if req.FunctionName != nil {
		m.FunctionName = functionName(*req.FunctionName)
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
		m.FilterCriteria = req.FilterCriteria
	}
	if req.Enabled != nil {
		m.Enabled = *req.Enabled
	}
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
	if m.Enabled {
		doc["State"] = "Enabled"
	} else {
		doc["State"] = "Disabled"
	}
	return doc
}

func (p *Poller) create(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	var req mappingRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		writeAWSError(w, http.StatusBadRequest, "InvalidParameterValueException", "request body is not JSON")
		return
	}
	m := &mapping{BatchSize: 10, Enabled: true}
	m.apply(req)
	if m.BatchSize > 10 && m.WindowSeconds < 1 {
		writeAWSError(w, http.StatusBadRequest, "InvalidParameterValueException",
			"Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
		return
	}
	if m.MaximumConcurrency != 0 && (m.MaximumConcurrency < 2 || m.MaximumConcurrency > 1000) {
		writeAWSError(w, http.StatusBadRequest, "InvalidParameterValueException", "MaximumConcurrency must be from 2 to 1000")
		return
	}
	status, h, out, ok := p.s.exchange(w, r, body)
	if !ok {
		return
	}
	if status >= 300 {
		relay(w, status, h, out)
		return
	}
	var created struct{ UUID string }
	_ = json.Unmarshal(out, &created)
	m.UUID = created.UUID
	p.mu.Lock()
	p.mappings[m.UUID] = m
	p.mu.Unlock()
	p.run(m)
	writeJSON(w, status, m.document(out))
}

func (p *Poller) listMappings(w http.ResponseWriter, r *http.Request) {
	status, h, out, err := p.s.forward(r, nil)
	if err != nil || status >= 300 {
		if err != nil {
			writeAWSError(w, http.StatusBadGateway, "ServiceException", err.Error())
			return
		}
		relay(w, status, h, out)
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
		m := p.mappings[id.UUID]
		p.mu.Unlock()
		if m != nil {
			docs = append(docs, m.document(raw))
		} else {
			docs = append(docs, raw)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"EventSourceMappings": docs, "NextMarker": list.NextMarker})
}

func (p *Poller) mapping(w http.ResponseWriter, r *http.Request, uuid string) {
	body, status, h, out, ok := p.s.readAndExchange(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	m := p.mappings[uuid]
	p.mu.Unlock()
	if status >= 300 || m == nil {
		relay(w, status, h, out)
		return
	}
	switch r.Method {
	case http.MethodDelete:
		p.mu.Lock()
		delete(p.mappings, uuid)
		p.mu.Unlock()
		m.cancel()
		doc := m.document(out)
		doc["State"] = "Deleting"
		writeJSON(w, status, doc)
		return
	case http.MethodPut:
		var req mappingRequest
		_ = json.Unmarshal(body, &req)
		m.cancel()
		p.mu.Lock()
		m.apply(req)
		p.mu.Unlock()
		p.run(m)
	}
	writeJSON(w, status, m.document(out))
}

// run starts the mapping's pollers; a disabled mapping polls nothing.
func (p *Poller) run(m *mapping) {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	if !m.Enabled {
		return
	}
	pollers := defaultPollers
	if m.MaximumConcurrency > 0 {
		pollers = m.MaximumConcurrency
	}
	for range pollers {
		go p.poll(ctx, *m)
	}
}

// poll receives batches and invokes the function until ctx ends. It keeps
// receiving even when the function fails, so SQS's own redrive to the
// dead-letter queue happens after maxReceiveCount, as on AWS.
func (p *Poller) poll(ctx context.Context, m mapping) {
	log := p.s.log.With(zap.String("mapping", m.UUID), zap.String("function", m.FunctionName))
	queueURL := ""
	for ctx.Err() == nil {
		if queueURL == "" {
			u, err := p.s.queueURL(ctx, m.EventSourceArn)
			if err != nil {
				log.Warn("event source queue not found", zap.Error(err))
				sleep(ctx, time.Second)
				continue
			}
			queueURL = u
		}
		batch := p.receive(ctx, queueURL, m)
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
		go p.deleteExcept(context.WithoutCancel(ctx), queueURL, batch, failed)
	}
}

// receive gathers up to BatchSize messages: with no batching window, what
// one receive returns; with one, until the batch is full or the window,
// counted from the first message, has passed.
func (p *Poller) receive(ctx context.Context, queueURL string, m mapping) []sqstypes.Message {
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
		out, err := p.s.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
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
func (p *Poller) deliver(ctx context.Context, m mapping, batch []sqstypes.Message) (map[string]bool, error) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(batch))}
	for _, msg := range batch {
		ev.Records = append(ev.Records, toRecord(msg, m.EventSourceArn, p.s.opts.Region))
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err //nolint:wrapcheck // cannot happen for this type
	}
	res, err := p.s.Executor.Invoke(ctx, m.FunctionName, payload)
	if err != nil {
		return nil, err
	}
	all := map[string]bool{}
	for _, msg := range batch {
		all[aws.ToString(msg.MessageId)] = true
	}
	if res.FunctionError != "" {
		return all, nil // a function error keeps the whole batch
	}
	if !m.reportsItemFailures() {
		return map[string]bool{}, nil
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil {
		return all, nil //nolint:nilerr // an unreadable response fails the whole batch, as on AWS: not an error of the poller
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		if !all[f.ItemIdentifier] {
			return all, nil // an unknown or empty id fails the whole batch
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}

func (p *Poller) deleteExcept(ctx context.Context, queueURL string, batch []sqstypes.Message, keep map[string]bool) {
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	for i, msg := range batch {
		if !keep[aws.ToString(msg.MessageId)] {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle})
		}
	}
	for start := 0; start < len(entries); start += 10 {
		if _, err := p.s.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
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

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}
