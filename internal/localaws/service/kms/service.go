// Package kms fills kumo's KMS gaps: key rotation, the key metadata the
// Terraform provider reads, and the refusal of key policies naming
// principals that do not exist.
package kms

import (
	"sync"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/upstream"
)

// Service owns the KMS state the layer keeps.
type Service struct {
	kumo *upstream.Kumo

	mu      sync.Mutex
	rotated map[string]bool // key id -> rotation enabled
}

// New returns the KMS gap filler.
func New(k *upstream.Kumo) *Service { return &Service{kumo: k, rotated: map[string]bool{}} }

// Register adds the operations the layer owns to r.
func (s *Service) Register(r *awsapi.Router) {
	const target = "TrentService"
	for _, op := range []string{"EnableKeyRotation", "DisableKeyRotation", "GetKeyRotationStatus"} {
		r.Target(target, op, s.rotation(op))
	}
	r.Target(target, "CreateKey", s.createKey)
	r.Target(target, "PutKeyPolicy", s.putKeyPolicy)
	r.Target(target, "DescribeKey", s.keyMetadata)
}
