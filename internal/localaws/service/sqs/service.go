// Package sqs fills kumo's SQS gaps: queue attributes kumo drops, queue URLs
// on the endpoint called, and message move tasks (DLQ redrive).
package sqs

import (
	"sync"

	"go.uber.org/zap"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// kumoQueueHost is the host kumo writes into every queue URL.
const kumoQueueHost = upstream.QueueHost

// Service owns the SQS state the layer keeps.
type Service struct {
	kumo      *upstream.Kumo
	log       *zap.Logger
	publicURL string

	mu     sync.Mutex
	queues map[string]map[string]string // queue name -> attributes kumo drops

	moves   *moveTasks
	sampler *sampler // set by SampleMetrics
}

// New returns the SQS gap filler; publicURL is the front server's address.
func New(k *upstream.Kumo, log *zap.Logger, publicURL string) *Service {
	s := &Service{kumo: k, log: log, publicURL: publicURL, queues: map[string]map[string]string{}}
	s.moves = newMoveTasks(s)
	return s
}

// Register adds the operations the layer owns to r, and the queue URL fix to kumo's answers.
func (s *Service) Register(r *awsapi.Router) {
	const target = "AmazonSQS"
	for _, op := range []string{"CreateQueue", "SetQueueAttributes", "DeleteQueue"} {
		r.Target(target, op, s.queueLifecycle(op))
	}
	r.Target(target, "GetQueueAttributes", s.echoQueueAttributes)
	r.Target(target, "StartMessageMoveTask", s.moves.start)
	r.Target(target, "ListMessageMoveTasks", s.moves.list)
	r.Target(target, "CancelMessageMoveTask", s.moves.cancel)
	s.kumo.Fix(target+".", s.rewriteQueueURLs)
}

// Close cancels the running move tasks and the metric sampler and waits for them.
func (s *Service) Close() {
	s.moves.stopAll()
	if s.sampler != nil {
		s.sampler.close()
	}
}
