// Package dynamodb fills kumo's DynamoDB gaps: point-in-time recovery,
// SSEDescription, deletion protection, the refusals of CreateTable and the
// X-Amz-Crc32 header.
package dynamodb

import (
	"sync"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// Service owns the DynamoDB state the layer keeps.
type Service struct {
	kumo *upstream.Kumo

	mu     sync.Mutex
	tables map[string]*tableExtras // table name -> PITR and SSE
}

// New returns the DynamoDB gap filler.
func New(k *upstream.Kumo) *Service { return &Service{kumo: k, tables: map[string]*tableExtras{}} }

// Register adds the operations the layer owns to r, and the CRC32 header to kumo's answers.
func (s *Service) Register(r *awsapi.Router) {
	const target = "DynamoDB_20120810"
	for _, op := range []string{"CreateTable", "DescribeTable", "UpdateTable", "DeleteTable"} {
		r.Target(target, op, s.ddbTable(op))
	}
	for _, op := range []string{"UpdateContinuousBackups", "DescribeContinuousBackups"} {
		r.Target(target, op, s.ddbContinuousBackups(op))
	}
	s.kumo.Fix(target+".", addCRC32)
}
