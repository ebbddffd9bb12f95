package localaws

import (
	"encoding/json"
	"net/http"
	"strings"
)

// keptQueueAttributes are the queue attributes kumo drops silently; the
// Terraform provider waits for them to read back, so the layer keeps them.
var keptQueueAttributes = []string{"KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "RedriveAllowPolicy", "SqsManagedSseEnabled"}

// targetHandler returns the layer's handler for a JSON-protocol operation,
// or nil to pass it to kumo.
func (s *Server) targetHandler(service, op string) http.HandlerFunc {
	switch service {
	case "TrentService":
		return s.kmsHandler(op)
	case "DynamoDB_20120810":
		return s.ddbHandler(op)
	case "AWSEvents":
		return s.rules.handler(op)
	}
	if service != "AmazonSQS" {
		return nil
	}
	switch op {
	case "CreateQueue", "SetQueueAttributes", "DeleteQueue":
		return s.queueLifecycle(op)
	case "GetQueueAttributes":
		return s.echoQueueAttributes
	case "StartMessageMoveTask":
		return s.moves.start
	case "ListMessageMoveTasks":
		return s.moves.list
	case "CancelMessageMoveTask":
		return s.moves.cancel
	}
	return nil
}

type queueRequest struct {
	QueueName      string            `json:"QueueName"`
	QueueURL       string            `json:"QueueUrl"`
	Attributes     map[string]string `json:"Attributes"`
	AttributeNames []string          `json:"AttributeNames"`
}

func (q queueRequest) name() string {
	if q.QueueName != "" {
		return q.QueueName
	}
	return queueName(q.QueueURL)
}

// queueLifecycle lets kumo create, update or delete a queue, then keeps
// (or forgets) the attributes kumo drops.
func (s *Server) queueLifecycle(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, status, h, out, ok := s.readAndExchange(w, r)
		if !ok {
			return
		}
		var req queueRequest
		if status < 300 && json.Unmarshal(body, &req) == nil {
			s.mu.Lock()
			if op == "DeleteQueue" {
				delete(s.queues, req.name())
			} else {
				kept := s.queues[req.name()]
				if kept == nil {
					kept = map[string]string{}
					s.queues[req.name()] = kept
				}
				for _, a := range keptQueueAttributes {
					switch v, ok := req.Attributes[a]; {
					case ok && v == "": // as on AWS, an empty value removes the attribute
						delete(kept, a)
					case ok:
						kept[a] = v
					}
				}
			}
			s.mu.Unlock()
		}
		relay(w, status, h, out)
	}
}

// echoQueueAttributes adds the kept attributes to kumo's answer.
func (s *Server) echoQueueAttributes(w http.ResponseWriter, r *http.Request) {
	s.amendJSON(w, r, func(body []byte, resp map[string]any) bool {
		var req queueRequest
		if json.Unmarshal(body, &req) != nil {
			return false
		}
		all := false
		wanted := map[string]bool{}
		for _, n := range req.AttributeNames {
			all = all || n == "All"
			wanted[n] = true
		}
		attrs, _ := resp["Attributes"].(map[string]any)
		if attrs == nil {
			attrs = map[string]any{}
		}
		s.mu.Lock()
		for k, v := range s.queues[req.name()] {
			if all || wanted[k] {
				attrs[k] = v
			}
		}
		s.mu.Unlock()
		resp["Attributes"] = attrs
		return true
	})
}

// isQueueARN reports whether s looks like an SQS queue ARN.
func isQueueARN(s string) bool { return strings.HasPrefix(s, "arn:") && strings.Contains(s, ":sqs:") }

// kmsHandler serves the key-rotation operations kumo lacks, and completes
// its key descriptions.
func (s *Server) kmsHandler(op string) http.HandlerFunc {
	switch op {
	case "EnableKeyRotation", "DisableKeyRotation", "GetKeyRotationStatus":
	case "CreateKey", "DescribeKey":
		return s.keyMetadata
	default:
		return nil
	}
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct{ KeyId string }
		body, err := readBody(r)
		if err != nil || json.Unmarshal(body, &req) != nil || req.KeyId == "" {
			writeAWSError(w, http.StatusBadRequest, "ValidationException", "KeyId is required")
			return
		}
		// The key must exist: ask kumo to describe it.
		desc := r.Clone(r.Context())
		desc.Header = r.Header.Clone()
		desc.Header.Set("X-Amz-Target", "TrentService.DescribeKey")
		status, h, out, ok := s.exchange(w, desc, body)
		if !ok {
			return
		}
		if status >= 300 {
			relay(w, status, h, out)
			return
		}
		var meta struct{ KeyMetadata struct{ KeyId string } }
		_ = json.Unmarshal(out, &meta)
		id := meta.KeyMetadata.KeyId
		s.mu.Lock()
		defer s.mu.Unlock()
		switch op {
		case "EnableKeyRotation":
			s.rotation[id] = true
			writeJSON(w, http.StatusOK, struct{}{})
		case "DisableKeyRotation":
			s.rotation[id] = false
			writeJSON(w, http.StatusOK, struct{}{})
		default:
			writeJSON(w, http.StatusOK, map[string]any{"KeyRotationEnabled": s.rotation[id], "KeyId": id, "RotationPeriodInDays": 365})
		}
	}
}

// keyMetadata adds CustomerMasterKeySpec, which AWS still returns beside
// KeySpec, to kumo's key metadata: the Terraform provider reads it, and an
// empty value would make every plan replace the key.
func (s *Server) keyMetadata(w http.ResponseWriter, r *http.Request) {
	s.amendJSON(w, r, func(_ []byte, resp map[string]any) bool {
		if meta, _ := resp["KeyMetadata"].(map[string]any); meta != nil && meta["CustomerMasterKeySpec"] == nil && meta["KeySpec"] != nil {
			meta["CustomerMasterKeySpec"] = meta["KeySpec"]
		}
		return true
	})
}
