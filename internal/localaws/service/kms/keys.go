package kms

import (
	"encoding/json"
	"net/http"

	"github.com/tracking-pipeline/tracking-pipeline/internal/localaws/awsapi"
)

// rotation serves the key-rotation operations kumo lacks: a rotation flag
// per existing key (KMS: EnableKeyRotation, GetKeyRotationStatus).
func (s *Service) rotation(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct{ KeyId string }
		body, err := awsapi.ReadBody(r)
		if err != nil || json.Unmarshal(body, &req) != nil || req.KeyId == "" {
			awsapi.WriteError(w, http.StatusBadRequest, "ValidationException", "KeyId is required")
			return
		}
		// The key must exist: ask kumo to describe it.
		desc := r.Clone(r.Context())
		desc.Header = r.Header.Clone()
		desc.Header.Set("X-Amz-Target", "TrentService.DescribeKey")
		status, h, out, ok := s.kumo.Exchange(w, desc, body)
		if !ok {
			return
		}
		if status >= 300 {
			awsapi.Relay(w, status, h, out)
			return
		}
		var meta struct{ KeyMetadata struct{ KeyId string } }
		_ = json.Unmarshal(out, &meta)
		id := meta.KeyMetadata.KeyId
		s.mu.Lock()
		defer s.mu.Unlock()
		switch op {
		case "EnableKeyRotation":
			s.rotated[id] = true
			awsapi.WriteJSON(w, http.StatusOK, struct{}{})
		case "DisableKeyRotation":
			s.rotated[id] = false
			awsapi.WriteJSON(w, http.StatusOK, struct{}{})
		default:
			awsapi.WriteJSON(w, http.StatusOK, map[string]any{"KeyRotationEnabled": s.rotated[id], "KeyId": id, "RotationPeriodInDays": 365})
		}
	}
}

// keyMetadata adds CustomerMasterKeySpec, which AWS still returns beside
// KeySpec, to kumo's key metadata: the Terraform provider reads it, and an
// empty value would make every plan replace the key.
func (s *Service) keyMetadata(w http.ResponseWriter, r *http.Request) {
	s.kumo.AmendJSON(w, r, func(_ []byte, resp map[string]any) bool {
		if meta, _ := resp["KeyMetadata"].(map[string]any); meta != nil && meta["CustomerMasterKeySpec"] == nil && meta["KeySpec"] != nil {
			meta["CustomerMasterKeySpec"] = meta["KeySpec"]
		}
		return true
	})
}
