package sqs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// defaultMoveRate stands in for AWS's "system optimised" rate when the
// caller gives none; 500 is the most a caller may ask for.
const defaultMoveRate = 500

// moveTasks implements SQS message move tasks (DLQ redrive) as AWS documents
// them: a task moves the messages that were in the dead-letter queue when it
// started, at most MaxNumberOfMessagesPerSecond, to the destination queue
// or, without one, back to the queue whose redrive policy names the DLQ; one
// running task per source; tasks can be listed and cancelled.
type moveTasks struct {
	s     *Service
	ctx   context.Context // ends when the service closes
	stop  context.CancelFunc
	wg    sync.WaitGroup // running tasks
	mu    sync.Mutex
	tasks []*moveTask
}

type moveTask struct {
	handle, sourceARN, destARN string
	rate                       int32
	toMove                     int64
	started                    time.Time

	mu            sync.Mutex
	moved         int64
	status        string // RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED
	failureReason string
	cancel        context.CancelFunc
}

func newMoveTasks(s *Service) *moveTasks {
	ctx, stop := context.WithCancel(context.Background())
	return &moveTasks{s: s, ctx: ctx, stop: stop}
}

// stopAll cancels every running task and waits for it to end.
func (m *moveTasks) stopAll() {
	m.stop()
	m.wg.Wait()
}

type startMoveRequest struct {
	SourceArn                    string `json:"SourceArn"`
	DestinationArn               string `json:"DestinationArn"`
	MaxNumberOfMessagesPerSecond *int32 `json:"MaxNumberOfMessagesPerSecond"`
}

func (m *moveTasks) start(w http.ResponseWriter, r *http.Request) {
	var req startMoveRequest
	if body, err := awsapi.ReadBody(r); err != nil || json.Unmarshal(body, &req) != nil || !isQueueARN(req.SourceArn) {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValue", "SourceArn must be an SQS queue ARN")
		return
	}
	rate := int32(defaultMoveRate)
	if req.MaxNumberOfMessagesPerSecond != nil {
		rate = *req.MaxNumberOfMessagesPerSecond
		if rate < 1 || rate > 500 {
			awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValue", "MaxNumberOfMessagesPerSecond must be from 1 to 500")
			return
		}
	}
	ctx := r.Context()
	srcURL, err := m.s.kumo.QueueURL(ctx, req.SourceArn)
	if err != nil {
		awsapi.WriteError(w, http.StatusBadRequest, "ResourceNotFoundException", err.Error())
		return
	}
	dest := req.DestinationArn
	if dest == "" {
		if dest, err = m.s.redriveSourceOf(ctx, req.SourceArn); err != nil {
			awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValue", err.Error())
			return
		}
	}
	destURL, err := m.s.kumo.QueueURL(ctx, dest)
	if err != nil {
		awsapi.WriteError(w, http.StatusBadRequest, "ResourceNotFoundException", err.Error())
		return
	}
	toMove, err := m.s.queuedMessages(ctx, srcURL)
	if err != nil {
		awsapi.WriteError(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}

	m.mu.Lock()
	for _, t := range m.tasks {
		if t.sourceARN == req.SourceArn && t.state() == "RUNNING" {
			m.mu.Unlock()
			awsapi.WriteError(w, http.StatusBadRequest, "UnsupportedOperation", "a message move task is already running on "+req.SourceArn)
			return
		}
	}
	runCtx, cancel := context.WithCancel(m.ctx)
	t := &moveTask{
		handle: uuid.NewString(), sourceARN: req.SourceArn, destARN: dest, rate: rate,
		toMove: toMove, started: time.Now(), status: "RUNNING", cancel: cancel,
	}
	m.tasks = append(m.tasks, t)
	m.mu.Unlock()

	m.wg.Go(func() { t.run(runCtx, m.s, srcURL, destURL) })
	awsapi.WriteJSON(w, http.StatusOK, map[string]string{"TaskHandle": t.handle})
}

func (t *moveTask) state() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

func (t *moveTask) finish(status, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status == "CANCELLING" {
		status = "CANCELLED"
	}
	t.status, t.failureReason = status, reason
}

// moveIdleLimit bounds the wait for in-flight messages of the source to
// become visible before a task completes with what it could move.
const moveIdleLimit = 20

// run moves up to toMove messages, rate-limited, copying body and attributes.
func (t *moveTask) run(ctx context.Context, s *Service, srcURL, destURL string) {
	defer t.cancel()
	interval := time.Second / time.Duration(t.rate)
	next := time.Now()
	idle := 0
	for t.moved < t.toMove && idle < moveIdleLimit {
		out, err := s.kumo.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              &srcURL,
			MaxNumberOfMessages:   int32(min(10, t.toMove-t.moved)), //nolint:gosec // at most 10
			VisibilityTimeout:     30,
			WaitTimeSeconds:       1,
			MessageAttributeNames: []string{"All"},
		})
		if ctx.Err() != nil {
			t.finish("CANCELLED", "")
			return
		}
		if err != nil {
			t.finish("FAILED", err.Error())
			return
		}
		if len(out.Messages) == 0 {
			idle++ // in flight elsewhere, expired, or deleted since the count
			continue
		}
		idle = 0
		for _, msg := range out.Messages {
			if wait := time.Until(next); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					t.finish("CANCELLED", "")
					return
				}
			}
			next = next.Add(interval)
			if _, err := s.kumo.SQS.SendMessage(ctx, &sqs.SendMessageInput{
				QueueUrl: &destURL, MessageBody: msg.Body, MessageAttributes: msg.MessageAttributes,
			}); err != nil {
				t.finish("FAILED", "send to destination: "+err.Error())
				return
			}
			if _, err := s.kumo.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &srcURL, ReceiptHandle: msg.ReceiptHandle}); err != nil {
				t.finish("FAILED", "delete from source: "+err.Error())
				return
			}
			t.mu.Lock()
			t.moved++
			t.mu.Unlock()
		}
	}
	t.finish("COMPLETED", "")
	s.log.Info("message move task done", zap.String("source", t.sourceARN), zap.Int64("moved", t.moved))
}

type moveTaskResult struct {
	TaskHandle                        string `json:"TaskHandle,omitempty"`
	Status                            string `json:"Status"`
	SourceArn                         string `json:"SourceArn"`
	DestinationArn                    string `json:"DestinationArn,omitempty"`
	MaxNumberOfMessagesPerSecond      int32  `json:"MaxNumberOfMessagesPerSecond"`
	ApproximateNumberOfMessagesMoved  int64  `json:"ApproximateNumberOfMessagesMoved"`
	ApproximateNumberOfMessagesToMove int64  `json:"ApproximateNumberOfMessagesToMove"`
	FailureReason                     string `json:"FailureReason,omitempty"`
	StartedTimestamp                  int64  `json:"StartedTimestamp"`
}

func (t *moveTask) result() moveTaskResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := moveTaskResult{
		Status: t.status, SourceArn: t.sourceARN, DestinationArn: t.destARN, MaxNumberOfMessagesPerSecond: t.rate,
		ApproximateNumberOfMessagesMoved: t.moved, ApproximateNumberOfMessagesToMove: t.toMove,
		FailureReason: t.failureReason, StartedTimestamp: t.started.UnixMilli(),
	}
	if t.status == "RUNNING" {
		res.TaskHandle = t.handle // AWS returns the handle of running tasks only
	}
	return res
}

func (m *moveTasks) list(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SourceArn  string `json:"SourceArn"`
		MaxResults int    `json:"MaxResults"`
	}
	if body, err := awsapi.ReadBody(r); err != nil || json.Unmarshal(body, &req) != nil || req.SourceArn == "" {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValue", "SourceArn is required")
		return
	}
	if req.MaxResults <= 0 {
		req.MaxResults = 1
	}
	m.mu.Lock()
	var matched []*moveTask
	for _, t := range m.tasks {
		if t.sourceARN == req.SourceArn {
			matched = append(matched, t)
		}
	}
	m.mu.Unlock()
	sort.Slice(matched, func(i, j int) bool { return matched[i].started.After(matched[j].started) })
	results := []moveTaskResult{}
	for _, t := range matched[:min(len(matched), req.MaxResults, 10)] {
		results = append(results, t.result())
	}
	awsapi.WriteJSON(w, http.StatusOK, map[string]any{"Results": results})
}

func (m *moveTasks) cancel(w http.ResponseWriter, r *http.Request) {
	var req struct {
		TaskHandle string `json:"TaskHandle"`
	}
	if body, err := awsapi.ReadBody(r); err != nil || json.Unmarshal(body, &req) != nil {
		awsapi.WriteError(w, http.StatusBadRequest, "InvalidParameterValue", "TaskHandle is required")
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.tasks {
		if t.handle == req.TaskHandle {
			t.mu.Lock()
			running := t.status == "RUNNING"
			if running {
				t.status = "CANCELLING"
			}
			moved := t.moved
			t.mu.Unlock()
			if !running {
				awsapi.WriteError(w, http.StatusBadRequest, "UnsupportedOperation", "the task is not running")
				return
			}
			t.cancel()
			awsapi.WriteJSON(w, http.StatusOK, map[string]int64{"ApproximateNumberOfMessagesMoved": moved})
			return
		}
	}
	awsapi.WriteError(w, http.StatusBadRequest, "ResourceNotFoundException", "no task with that handle")
}

// queuedMessages counts a queue's messages, visible or in flight: kumo
// returns expired in-flight messages to the queue only on the next receive,
// so its visible count alone lags.
func (s *Service) queuedMessages(ctx context.Context, queueURL string) (int64, error) {
	out, err := s.kumo.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &queueURL, AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return 0, fmt.Errorf("count messages: %w", err)
	}
	visible, _ := strconv.ParseInt(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)], 10, 64)
	inFlight, _ := strconv.ParseInt(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)], 10, 64)
	return visible + inFlight, nil
}

// redriveSourceOf finds the queue whose redrive policy names dlqARN.
func (s *Service) redriveSourceOf(ctx context.Context, dlqARN string) (string, error) {
	list, err := s.kumo.SQS.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil {
		return "", fmt.Errorf("list queues: %w", err)
	}
	for _, u := range list.QueueUrls {
		attrs, err := s.kumo.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(u),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy, sqstypes.QueueAttributeNameQueueArn},
		})
		if err != nil {
			continue
		}
		var policy struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		}
		if json.Unmarshal([]byte(attrs.Attributes["RedrivePolicy"]), &policy) == nil && policy.DeadLetterTargetArn == dlqARN {
			return attrs.Attributes["QueueArn"], nil
		}
	}
	return "", fmt.Errorf("no queue has %s as its dead-letter queue; give a DestinationArn", dlqARN)
}
